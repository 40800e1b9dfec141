"""The CUDA engine's error paths, under faults only the CUDA emulator (../shared/emu) can
inject: a failed kernel launch at each phase (EMU_FAIL_KERNEL), every device allocation of a
training run failing in turn, the profile's first and bench_cuda_step's peak's (EMU_FAIL_MALLOC), and asynchronous
host-to-device copies that read their host buffer only when they run (EMU_STRICT_ASYNC_H2D),
no device visible (EMU_DEVICE_COUNT=0) and a cuBLAS call refused at its launch (test_cuda_step
--faults: nothing is left recorded for the next check; it, a copy refused during a capture
and that capture's failed end are each named by the call, not by a variable).
Each fault must end the run with one line naming the launcher or the allocation (an
allocation's file:line, call and error too), exit 1, no emulator finding (NVTX ranges closed,
no use of freed memory), nothing left allocated or open at exit (allocation faults) and no run
folder unless the run wrote a result; a launch failing inside a sweep group's captured step fails
that group only; the strict copies must change nothing. Skipped (77) without
a CUDA device, and on a real GPU, where these faults cannot be injected.

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import csv
import json
import os
import re
import subprocess
import sys
import tempfile

from harness import BIN, check, emulated, finish, same_run

SMALL = ["train", "--device", "cuda", "--data", "usps", "--hidden", "16", "--batch", "50", "--epochs", "1",
         "--train-limit", "300", "--valid", "100", "--progress", "never"]


def program(args, **env):
    """Runs the program with the emulator settings in env. Its findings are read from its
    stderr here (any fails the test), so the injected faults' information lines stay out of
    a shared EMU_LOG, where a CI script would count them."""
    base = {k: v for k, v in os.environ.items() if k != "EMU_LOG"}
    p = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=600, env={**base, **env})
    own = [l for l in p.stderr.splitlines() if not l.startswith("[cuda-emu]")]
    findings = [l for l in p.stderr.splitlines() if "FINDING" in l]
    return p, own, findings


LEFT_OPEN = re.compile(r"(\d+) graph\(s\), (\d+) executable graph\(s\), (\d+) stream\(s\), (\d+) event\(s\) "
                       r"not destroyed")
NOT_FREED = re.compile(r"(\d+) device allocation\(s\) \((\d+) bytes\) not freed")


def leaked(p):
    """What the emulator's exit report (EMU_VERBOSE=1) says the program left behind: its lines
    where a device allocation, graph, stream or event was, [] where nothing was."""
    report = [LEFT_OPEN.search(p.stderr), NOT_FREED.search(p.stderr)]
    if None in report:
        return ["no exit report"]
    return [m.group(0) for m in report] if any(int(n) for m in report for n in m.groups()) else []


def left(out):
    """What a failed run left in its run folder: its files, None where there is no folder."""
    return sorted(os.listdir(out)) if os.path.isdir(out) else None


def failed_launches(tmp):
    """Each phase's launcher fails once; the message names it. Each fails before the run writes
    a result (its first epoch's end), so no run folder is left."""
    # The stacked step's kernels run with the tangent penalty; a second copy needs its own
    # input rows (the first copy's come with the gather).
    stacked = ["--jac-lambda", "0.1", "--jac-noise", "0.2", "--jac-target", "output", "--jac-copies", "2"]
    cases = [
        ("shuffle_keys_kernel", "jn_k_shuffle", "off"),
        ("gather_noise_kernel:2", "jn_k_gather_noise", "off"),
        ("bias_tanh_kernel:3", "jn_k_bias_tanh", "off"),
        ("top_terms_kernel", "jn_k_top_terms", "off"),
        ("stack_inputs_kernel:2", "jn_k_stack_inputs", "off", stacked),
        ("layer_forward_kernel:3", "jn_k_layer_forward", "off", stacked),
        ("layer_backward_kernel:3", "jn_k_layer_backward", "off", stacked),
        ("sgd_update_kernel:2", "jn_k_sgd_update", "off"),
        ("set_ctl_kernel", "jn_k_set_ctl", "on"),
        ("argmax_errors_kernel", "jn_k_argmax_errors", "on"),  # the first evaluation
        ("argmax_errors_kernel:2", "jn_k_argmax_errors", "on"),
    ]
    for kernel, launcher, graph, *extra in cases:
        out = os.path.join(tmp, "launch-" + kernel.replace(":", "-"))
        p, own, findings = program(SMALL + (extra[0] if extra else []) + ["--cuda-graph", graph, "--out", out],
                                   EMU_FAIL_KERNEL=kernel)
        what = f"{kernel} failing"
        check(p.returncode == 1, f"{what}: exit {p.returncode}, expected 1")
        check(len(own) == 1 and f": {launcher}: " in own[0] and "too many resources" in own[0],
              f"{what}: expected one line naming {launcher}, got {own}")
        check(not findings, f"{what}: emulator findings {findings}")
        check(left(out) is None, f"{what}: left {left(out)} in its run folder")
        print(f"{what}: {own[0] if own else p.stderr[-200:]}")


def failed_capture_in_sweep(tmp):
    """A launch failing inside the first group's captured step (the graph on, as a sweep
    trains) fails that group's configuration with the line naming its launcher; the second
    group, a fresh backend in the same process, trains to the end. The capture that the failed
    launch invalidated fails to end too: left recorded, that error was the next group's first
    launch check's, and failed it as its own."""
    spec = os.path.join(tmp, "capture.spec")
    with open(spec, "w") as f:
        f.write("data = usps\nhidden = [8, 12]\ntrain-limit = 100\nvalid = 40\nbatch = 25\nepochs = 1\n"
                "lr = 0.1\n")
    out = os.path.join(tmp, "capture-sweep")
    p, own, findings = program(["sweep", "--spec", spec, "--out", out, "--device", "cuda", "--progress", "never"],
                               EMU_FAIL_KERNEL="gather_noise_kernel")
    what = "a launch failing inside a sweep group's capture"
    # The emulator reports the capture the injected fault invalidated; that one is expected.
    expected = "stream capture invalidated: failed launch of gather_noise_kernel"
    check(any(expected in l for l in findings), f"{what}: the fault did not hit a capture: {p.stderr[-500:]}")
    check(all(expected in l for l in findings), f"{what}: emulator findings {findings}")
    check(p.returncode == 1, f"{what}: exit {p.returncode}, expected 1; {p.stderr[-500:]}")
    table = {}
    if os.path.exists(os.path.join(out, "results.csv")):
        rows = list(csv.reader(open(os.path.join(out, "results.csv"))))
        table = {r[0]: r[rows[0].index("status")] for r in rows[1:]}
    failed = [i for i, status in table.items() if status == "failed"]
    check(len(table) == 2 and len(failed) == 1 and "finished" in table.values(),
          f"{what}: expected one failed and one finished configuration, got {table}")
    for i in failed:
        summary = json.load(open(os.path.join(out, "runs", i, "summary.json")))
        message = summary.get("message", "")
        check(": jn_k_gather_noise: " in message and "too many resources" in message,
              f"{what}: configuration {i} failed as {message}")
    print(f"{what}: {table}")


def failed_allocations(tmp):
    """Device allocation n fails, for every n until the run needs no more: one clear line,
    saying what the allocation was for and how many bytes it asked, nothing leaked or left
    open (the emulator's exit report: no device allocation, stream, event or graph left; an
    evaluation set whose labels failed kept its examples), no run folder before training."""
    n, messages = 0, set()
    while True:
        n += 1
        out = os.path.join(tmp, f"malloc-{n}")
        p, own, findings = program(SMALL + ["--out", out], EMU_FAIL_MALLOC=str(n), EMU_VERBOSE="1")
        if p.returncode == 0:
            break
        check(n < 200, "allocation failures: the run never finished")
        if n >= 200:
            return
        what = f"allocation {n} failing"
        check(p.returncode == 1, f"{what}: exit {p.returncode}, expected 1; {p.stderr[-300:]}")
        check(len(own) == 1 and ("out of GPU memory" in own[0] or ": out of memory" in own[0]),
              f"{what}: expected one out-of-memory line, got {own}")
        check(not findings, f"{what}: emulator findings {findings}")
        check(not leaked(p), f"{what}: left behind at exit: {leaked(p)}")
        # Only the config.txt and lock it made looked like a run.
        check(left(out) is None or not set(left(out)) <= {"config.txt", "lock"},
              f"{what}: a run folder without a result: {left(out)}")
        if own:
            messages.add(own[0])
            # A launcher reporting the allocation's error took an old error for its own.
            check(not re.search(r": jn_k_\w+: ", own[0]), f"{what}: misattributed: {own[0]}")
            check(not re.search(r": [a-z]{1,2}: ", own[0]), f"{what}: the message names a variable: {own[0]}")
            # As every checked CUDA call: the place (file:line), the call and the runtime's error.
            check(re.search(r"\.c:\d+: cudaMalloc\b[^:]*: out of memory", own[0]),
                  f"{what}: the message does not name the call, its place and its error: {own[0]}")
            # The place is the code that asked for the buffer, not the list allocator's own line.
            check("buffers.c:" not in own[0], f"{what}: the message names the allocator, not its caller: {own[0]}")
            # How much was asked, beside what was free: the buffer's bytes (MiB for cuBLAS's workspace).
            check(re.search(r"\bfor .*\b\d+ (bytes|MiB)\b", own[0]),
                  f"{what}: the message does not say how many bytes were asked: {own[0]}")
            if "for batches of" in own[0]:
                check("for batches of 50 examples" in own[0], f"{what}: the message misstates the batch: {own[0]}")
    print(f"allocation failures: each of the {n - 1} device allocations failed in turn; {len(messages)} messages:")
    for m in sorted(messages):
        print("  " + m)
    check(any("for batches of 50 examples" in m for m in messages), f"no batch-buffer failure seen: {messages}")


def failed_profile_context():
    """The profile's first device allocation is its machine description's CUDA context (the
    cuBLAS workspace): failing, it is one out-of-memory line, and the context's stream and
    cuBLAS handle, made before it, are not left open (a failed open closes what it made)."""
    p, own, findings = program(["profile", "--device", "cuda", "--data", "usps", "--train-limit", "300", "--valid",
                                "100", "--hidden", "12", "--batch", "8", "--reps", "1", "--warmup", "0"],
                               EMU_FAIL_MALLOC="1", EMU_VERBOSE="1")
    what = "the profile's first allocation failing"
    check(p.returncode == 1, f"{what}: exit {p.returncode}, expected 1; {p.stderr[-300:]}")
    check(len(own) == 1 and "out of GPU memory" in own[0] and "cuBLAS's workspace" in own[0],
          f"{what}: expected one out-of-memory line naming cuBLAS's workspace, got {own}")
    check(not findings, f"{what}: emulator findings {findings}")
    check(not leaked(p), f"{what}: left behind at exit: {leaked(p)}")
    print(f"{what}: {own[0] if own else p.stderr[-200:]}")


def failed_probes_and_cublas():
    """test_cuda_step --faults (built beside the program) with no device visible and with one:
    its checks pass, and the only emulator finding is the capture its refused cuBLAS launch
    invalidates."""
    test = os.path.join(os.path.dirname(BIN), "test_cuda_step")
    base = {k: v for k, v in os.environ.items() if k != "EMU_LOG"}
    expected = "used the legacy default stream while a blocking stream was capturing"
    for devices, finding in (("0", None), ("1", expected)):
        p = subprocess.run([test, "--faults"], capture_output=True, text=True, timeout=600,
                           env={**base, "EMU_DEVICE_COUNT": devices})
        findings = [l for l in p.stderr.splitlines() if "FINDING" in l]
        what = f"test_cuda_step --faults with {devices} device(s)"
        check(p.returncode == 0, f"{what}: exit {p.returncode}: {p.stdout[-500:]} {p.stderr[-1000:]}")
        unexpected = [l for l in findings if not finding or finding not in l]
        check(not unexpected and (findings or not finding), f"{what}: emulator findings {findings}")
        print(f"{what}: " + " / ".join(p.stdout.strip().splitlines()))


def failed_bench_peak():
    """bench_cuda_step (built beside the program) whose peak cannot be measured, its operands'
    device memory taken (the allocation after the context's failing), says so in one line naming
    itself and the call that failed, exit 1, not a table of shares of a peak of 0 ("inf%")."""
    prog = os.path.join(os.path.dirname(BIN), "bench_cuda_step")
    check(os.path.exists(prog), f"{prog}: not built beside the program")
    if not os.path.exists(prog):
        return
    base = {k: v for k, v in os.environ.items() if k != "EMU_LOG"}
    p = subprocess.run([prog, "--small"], capture_output=True, text=True, timeout=600,
                       env={**base, "EMU_FAIL_MALLOC": "2", "EMU_VERBOSE": "1"})
    own = [line for line in p.stderr.splitlines() if not line.startswith("[cuda-emu]")]
    what = "bench_cuda_step without the memory of its peak"
    check("[cuda-emu] EMU_FAIL_MALLOC" in p.stderr, f"{what}: the emulator injected no fault: {p.stderr[-300:]}")
    # The line says why: the failed call, its place and the runtime's error (not a guess).
    check(p.returncode == 1 and len(own) == 1 and own[0].startswith("bench_cuda_step: the fp32 peak could not be "
          "measured") and re.search(r"\.c:\d+: cudaMalloc: out of memory", own[0]) and "inf" not in p.stdout,
          f"{what}: exit {p.returncode}, expected 1 and one line: {own[-3:]!r} {p.stdout[-300:]!r}")
    print(f"{what}: {own[0] if own else p.stderr[-200:]}")


def strict_async_copies(tmp):
    """Host-to-device copies that read the host buffer when they run (a legal reading of the
    API for pageable memory) give the same run, evaluation over several batches included."""
    job = ["train", "--device", "cuda", "--data", "mnist", "--hidden", "16", "--batch", "50", "--epochs", "1",
           "--train-limit", "300", "--valid", "2500", "--progress", "never"]
    folders = {}
    for strict in ("0", "1"):
        folders[strict] = os.path.join(tmp, f"strict-{strict}")
        p, own, findings = program(job + ["--out", folders[strict]], EMU_STRICT_ASYNC_H2D=strict)
        check(p.returncode == 0, f"EMU_STRICT_ASYNC_H2D={strict}: exit {p.returncode}: {p.stderr[-500:]}")
        check(not findings, f"EMU_STRICT_ASYNC_H2D={strict}: findings {findings}")
    same_run(folders["0"], folders["1"], "strict asynchronous copies")
    print("strict asynchronous host-to-device copies: same checkpoints and metrics")


def main():
    mode = emulated()
    if mode is None:
        print("no CUDA device visible (or no CUDA in this build): skipped")
        return 77
    if not mode:
        print("a real GPU: these faults are injected by the CUDA emulator only: skipped")
        return 77
    tmp = tempfile.mkdtemp(prefix="jacnoise-cuda-faults-")
    failed_launches(tmp)
    failed_capture_in_sweep(tmp)
    failed_allocations(tmp)
    failed_profile_context()
    failed_probes_and_cublas()
    failed_bench_peak()
    strict_async_copies(tmp)
    return finish("CUDA fault", tmp)


if __name__ == "__main__":
    sys.exit(main())
