#!/usr/bin/env python3
"""tools/gpu-check.sh --dry-run against this build (GPU_CHECK_BUILD): every GPU step's command
runs with no device visible and must stop for that reason alone, so that a command line the
lent GPU would refuse fails here. Then the same with a jacnoise that refuses the profile's
options: the dry run must name those steps and fail. GPU_CHECK_ONLY: only the steps its
patterns name run, the others say they were skipped; a build path holding a space runs as one; a machine without nvcc is said to be one. And tools/kernel_times.py, which tables
the check's Nsight Compute CSV, on a CSV written the way ncu writes it (and on files that are
not), in every build; so are the command lines of tools/gpu-check.sh, tools/emu-check.sh and
tools/device-prepare.sh (--help and bad arguments answered before anything is built or
written; a DATA_DIR given is used, from where it was given, or refused; a failed download
keeps device/debs), that emu-check fails where the emulator's build ran not each GPU-labelled
test, that a GPU-labelled Python test fails (not skips) where `jacnoise info` fails, that the check
(no dry run, stub programs) runs every step when some fail and then exits 1, and that
--reproduce --dry-run runs its smoke table in a folder of its own. The rest is skipped (77)
where CUDA is not built in."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from harness import BIN, check, failures, finish, jacnoise_info

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.dirname(os.path.abspath(BIN))
GPU_STEPS = ["check_tf32", "bench_cuda", "profile_b100", "profile_b1000", "profile_b100_tf32", "peers",
             "peers_tf32", "bench_cuda_sweep", "sweep64"]
ACCEPTED = "not run (dry run: needs the GPU); without one its command gets past its options"


def dry_run(scratch, name, build, **extra_env):
    """Runs the dry run with `build` as GPU_CHECK_BUILD; returns (exit status, summary lines)."""
    shims = os.path.join(scratch, "shims")
    os.makedirs(shims, exist_ok=True)
    if not os.path.exists(os.path.join(shims, "python3")):
        os.symlink(sys.executable, os.path.join(shims, "python3"))  # the one with the tests' modules
    out = os.path.join(scratch, name)
    env = dict(os.environ, OUT=out, GPU_CHECK_BUILD=build, TMPDIR=scratch,
               PATH=shims + os.pathsep + os.environ.get("PATH", ""), **extra_env)
    p = subprocess.run([os.path.join(ROOT, "tools", "gpu-check.sh"), "--dry-run"], env=env, capture_output=True,
                       text=True, timeout=600)
    with open(os.path.join(out, "summary.txt")) as f:
        lines = f.read().splitlines()
    return p.returncode, lines


def step_line(lines, name):
    return next((line for line in lines if line.startswith(name + ": ")), "")


NCU_HEADER = ('"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size",'
              '"Grid Size","Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"')


def ncu_row(launch, kernel, metric, unit, value):
    return (f'"{launch}","7","jacnoise","127.0.0.1","{kernel}","1","13","(256, 1, 1)","(77, 1, 1)","0","9.0",'
            f'"Command line profiler metrics","{metric}","{unit}","{value}"')


def kernel_table(scratch):
    """kernel_times.py: launches, mean and total microseconds, MB and GB/s per kernel, in the
    order the kernels first ran, a dash for the rate of a kernel that took no time, a file
    starting with a byte-order mark read alike; one line
    and exit 1 for a file that is not such a CSV (a value that is not a decimal number >= 0, a
    launch ID not a whole one, a row of another length, a unit not the base one), naming the file's line, or not a text
    file at all (a folder, a binary file), saying so."""
    script = os.path.join(ROOT, "tools", "kernel_times.py")
    # --help says how to make the CSV, ncu's metrics and base units (it gave its first line alone).
    p = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and all(w in p.stdout for w in ("gpu__time_duration.sum", "dram__bytes.sum",
                                                             "--print-units base")),
          f"kernel_times.py --help: exit {p.returncode}, no ncu command: {p.stdout}{p.stderr}")
    path = os.path.join(scratch, "ncu.csv")
    launches = [(0, "gather_noise_kernel(const unsigned char *, int)", 9000, 1200000),
                (1, "sgd_update_kernel(float *, const float *)", 13500, 21560000),
                (2, "gather_noise_kernel(const unsigned char *, int)", 11000, 1000000)]
    with open(path, "w") as f:
        f.write("==PROF== Connected to process 7 (jacnoise)\n" + NCU_HEADER + "\n")
        for launch, kernel, ns, nbytes in launches:
            f.write(ncu_row(launch, kernel, "dram__bytes.sum", "byte", f"{nbytes:,}") + "\n")
            f.write(ncu_row(launch, kernel, "gpu__time_duration.sum", "ns", f"{ns:,}") + "\n")
        f.write("jacnoise: training ... (the program's own output, not a CSV row)\n")
    p = subprocess.run([sys.executable, script, path], capture_output=True, text=True, timeout=60)
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and len(lines) == 3, f"kernel_times.py: exit {p.returncode}: {p.stdout}{p.stderr}")
    if len(lines) == 3:
        gather, update = lines[1].split(), lines[2].split()
        check(gather[:6] == ["gather_noise_kernel", "2", "10.00", "20.0", "1.10", "110"], f"gather row: {lines[1]}")
        check(update[:6] == ["sgd_update_kernel", "1", "13.50", "13.5", "21.56", "1597"], f"update row: {lines[2]}")
    # Kernels whose names share their first 60 characters (cuBLAS's differ in their tile and
    # split-K words past them) are two lines, each named whole: they were one, cut to 60.
    long = os.path.join(scratch, "long.csv")
    names = ["sm90_xmma_gemm_f32f32_tf32f32_f32_nt_n_tilesize128x64x32_warpgroupsize1x1x1_execute_segment_k_off",
             "sm90_xmma_gemm_f32f32_tf32f32_f32_nt_n_tilesize128x64x32_warpgroupsize2x1x1_execute_segment_k_on"]
    with open(long, "w") as f:
        f.write(NCU_HEADER + "\n" + "".join(ncu_row(i, name, "gpu__time_duration.sum", "ns", "5000") + "\n"
                                            for i, name in enumerate(names)))
    p = subprocess.run([sys.executable, script, long], capture_output=True, text=True, timeout=60)
    got = [line.split()[:2] for line in p.stdout.splitlines()[1:]]
    check(p.returncode == 0 and got == [[names[0], "1"], [names[1], "1"]],
          f"kernel_times.py, names alike in their first 60 characters: exit {p.returncode}: {p.stdout}{p.stderr}")
    # Saved again by a spreadsheet, which starts the file with a UTF-8 byte-order mark: the
    # header is still the first line (it was read as no kernel rows at all).
    bom = os.path.join(scratch, "bom.csv")
    with open(bom, "w", encoding="utf-8-sig") as f:
        f.write(NCU_HEADER + "\n" + ncu_row(0, "k()", "gpu__time_duration.sum", "ns", "5000") + "\n")
    p = subprocess.run([sys.executable, script, bom], capture_output=True, text=True, timeout=60)
    got = [line.split()[:3] for line in p.stdout.splitlines()[1:]]
    check(p.returncode == 0 and not p.stderr and got == [["k", "1", "5.00"]],
          f"kernel_times.py, a CSV with a byte-order mark: exit {p.returncode}: {p.stdout}{p.stderr}")
    zero = os.path.join(scratch, "zero.csv")
    with open(zero, "w") as f:
        f.write(NCU_HEADER + "\n" + ncu_row(0, "k()", "dram__bytes.sum", "byte", "64") + "\n" +
                ncu_row(0, "k()", "gpu__time_duration.sum", "ns", "0") + "\n")
    p = subprocess.run([sys.executable, script, zero], capture_output=True, text=True, timeout=60)
    lines = p.stdout.splitlines()
    want = ["k", "1", "0.00", "0.0", "0.00", "-"]
    check(p.returncode == 0 and not p.stderr and len(lines) == 2 and lines[1].split() == want,
          f"kernel_times.py, a kernel of 0 ns: exit {p.returncode}: {p.stdout}{p.stderr}")
    time_of = lambda value: NCU_HEADER + "\n" + ncu_row(0, "k()", "gpu__time_duration.sum", "ns", value) + "\n"
    # A row cut short or run on, and units other than the base ones (ncu without --print-units
    # base: read as ns and bytes they would be 1000 times off); the line named is the file's,
    # ncu's own lines before the table counted.
    row = ncu_row(0, "k()", "gpu__time_duration.sum", "ns", "5")
    preamble = "==PROF== Connected to process 7 (jacnoise)\njacnoise: training\n" + NCU_HEADER + "\n"
    for name, text, words in (
            ("empty.csv", "", ""), ("foreign.csv", "a,b\n1,2\n", ""),
            ("no-time.csv", NCU_HEADER + "\n" + ncu_row(0, "k()", "dram__bytes.sum", "byte", "5") + "\n", ""),
            ("bad-value.csv", time_of("x"), ""), ("nan.csv", time_of("nan"), ""), ("inf.csv", time_of("1e400"), ""),
            ("negative.csv", time_of("-5"), ""), ("underscore.csv", time_of("1_000"), "'1_000' is not a decimal"),
            ("spaced.csv", time_of(" 5"), "' 5' is not a decimal"),
            ("spaced-id.csv", preamble + ncu_row(" 3", "k()", "gpu__time_duration.sum", "ns", "5") + "\n",
             "line 4: not a row of Nsight Compute's CSV (ID ' 3' is not a whole number >= 0)"),
            ("underscore-id.csv", NCU_HEADER + "\n" + ncu_row("1_0", "k()", "gpu__time_duration.sum", "ns", "5") + "\n",
             "line 2: not a row of Nsight Compute's CSV (ID '1_0' is not a whole number >= 0)"),
            ("short-row.csv", preamble + row.rsplit(",", 2)[0] + "\n", "line 4: not a row"),
            ("long-row.csv", preamble + row + ',"x"\n', "line 4: not a row"),
            ("usecond.csv", preamble + ncu_row(0, "k()", "gpu__time_duration.sum", "usecond", "5") + "\n",
             "line 4: gpu__time_duration.sum in 'usecond', not 'ns' (profile with --print-units base)"),
            ("mbyte.csv", preamble + row + "\n" + ncu_row(0, "k()", "dram__bytes.sum", "Mbyte", "1.5") + "\n",
             "line 5: dram__bytes.sum in 'Mbyte', not 'byte'"),
            # A file cut inside its last value ("12 of "1234"): that row was read, 12 ns.
            ("cut.csv", preamble + row + "\n" + ncu_row(1, "k()", "gpu__time_duration.sum", "ns", "1234")[:-3],
             "line 5: not a row of Nsight Compute's CSV (unexpected end of data)")):
        bad = os.path.join(scratch, name)
        with open(bad, "w") as f:
            f.write(text)
        p = subprocess.run([sys.executable, script, bad], capture_output=True, text=True, timeout=60)
        err = p.stderr.strip().splitlines()
        check(p.returncode == 1 and len(err) == 1 and err[0].startswith(f"kernel_times: {bad}: ") and words in err[0]
              and not p.stdout, f"kernel_times.py on {name}: exit {p.returncode}, stderr {p.stderr!r}")
    # A folder and a binary file (a checkpoint given by mistake): the reason in words, once.
    binary = os.path.join(scratch, "binary.csv")
    with open(binary, "wb") as f:
        f.write(b"JNCKPT\0\n\xff\xfe")
    for bad, words in ((scratch, f"kernel_times: {scratch}: Is a directory"),
                       (binary, f"kernel_times: {binary}: not a readable CSV file (")):
        p = subprocess.run([sys.executable, script, bad], capture_output=True, text=True, timeout=60)
        check(p.returncode == 1 and p.stderr.startswith(words) and p.stderr.count("\n") == 1 and
              p.stderr.count(bad) == 1 and not p.stdout,
              f"kernel_times.py on {bad}: exit {p.returncode}, stderr {p.stderr!r}")


def script(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)


def checkout_with(scratch, name, tool):
    """A folder holding tools/TOOL alone: the script runs there as in a checkout (it goes to
    the folder above its own), so that nothing it writes lands in this source tree."""
    folder = os.path.join(scratch, name)
    os.makedirs(os.path.join(folder, "tools"))
    shutil.copy(os.path.join(ROOT, "tools", tool), os.path.join(folder, "tools", tool))
    return folder


def device_tools(scratch):
    """gpu-check.sh, emu-check.sh and device-prepare.sh: --help and bad arguments (gpu-check's
    OUT and emu-check's RESULTS_DIR a file or under one, a GPU_CHECK_SECONDS not a number) answered before anything is built or written (the
    emulator's build.sh and apt-get are stubs that record the call); device-prepare's DATA_DIR,
    a relative $JACNOISE_DATA read from the current folder, and no device/ made without data; gpu-check --reproduce --dry-run's folder."""
    stubs = os.path.join(scratch, "tool-stubs")
    calls = os.path.join(scratch, "tool-calls")
    os.makedirs(stubs)
    script(os.path.join(stubs, "build.sh"), f'echo "build.sh $*" >> "{calls}"; exit 1')
    script(os.path.join(stubs, "apt-get"), f'echo "apt-get $*" >> "{calls}"; [ -z "$FAKE_APT_FAIL" ] || exit 100\n'
                                           'for p; do [ "$p" = download ] || : > "${p}_1.0_amd64.deb"; done')
    script(os.path.join(stubs, "python3"), f'echo "python3 $*" >> "{calls}"')

    def recorded():
        lines = open(calls).read().splitlines() if os.path.exists(calls) else []
        if os.path.exists(calls):
            os.remove(calls)
        return lines

    env = {k: v for k, v in os.environ.items() if k != "JACNOISE_DATA"}
    env.update(JACNOISE_EMU=stubs, PATH=stubs + os.pathsep + os.environ.get("PATH", ""))
    files = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
             "t10k-labels-idx1-ubyte.gz", "zip.train.gz", "zip.test.gz"]
    for folder, names in (("data-all", files), ("data-part", files[:-1])):
        os.makedirs(os.path.join(scratch, folder))
        for n in names:
            open(os.path.join(scratch, folder, n), "w").write(n)
    data = os.path.join(scratch, "data-all")
    afile = os.path.join(data, files[0])
    prepare = checkout_with(scratch, "prepare", "device-prepare.sh")
    device = os.path.join(prepare, "device")
    emu = os.path.join(ROOT, "tools", "emu-check.sh")
    dprep = os.path.join(prepare, "tools", "device-prepare.sh")
    gpu_check = os.path.join(ROOT, "tools", "gpu-check.sh")
    for tool, args, code, words, extra in [
            (gpu_check, ["--help"], 0, "GPU_CHECK_ONLY", {}), (gpu_check, ["--bogus"], 2, "--bogus", {}),
            # OUT a file: the logs and summary.txt went to / (out empty).
            (gpu_check, ["--dry-run"], 2, f"OUT '{afile}': cannot create or enter it",
             {"OUT": afile, "GPU_CHECK_BUILD": BUILD, "GPU_CHECK_ONLY": "none"}),
            # A time bash's arithmetic misreads: a word as a variable, 1_0, 08 as octal.
            *[(gpu_check, ["--dry-run"], 2, f"GPU_CHECK_SECONDS '{t}' is not a whole number of seconds above 0",
               {"GPU_CHECK_SECONDS": t, "OUT": os.path.join(scratch, "gc-seconds"), "GPU_CHECK_BUILD": BUILD,
                "GPU_CHECK_ONLY": "none"}) for t in ("1_0", "PATH", "0", "08")],
            (emu, ["--help"], 0, "BUILD_DIR", {}), (emu, ["-h"], 0, "BUILD_DIR", {}),
            (emu, ["--bogus"], 2, "'--bogus'", {}), (emu, ["b", "--bogus"], 2, "'--bogus'", {}),
            (emu, ["a", "b", "c"], 2, "at most two", {}),
            # RESULTS_DIR a file, or under one: the summary went to /summary.txt (RES empty).
            (emu, ["b", afile], 2, f"RESULTS_DIR '{afile}': not a folder", {"JACNOISE_DATA": data}),
            (emu, ["b", os.path.join(afile, "sub")], 1, "cannot create or enter it", {"JACNOISE_DATA": data}),
            (dprep, ["--help"], 0, "DATA_DIR", {}), (dprep, ["--bogus"], 2, "'--bogus'", {}),
            (dprep, ["a", "b"], 2, "at most one", {}),
            (dprep, ["data-part"], 2, "lacks zip.test.gz", {"JACNOISE_DATA": os.path.join(scratch, "data-all")})]:
        name = f"{os.path.basename(tool)} {' '.join(args)}"
        p = subprocess.run([tool] + args, cwd=scratch, env=dict(env, **extra), capture_output=True, text=True,
                           timeout=60)
        text = p.stdout if code == 0 else p.stderr
        check(p.returncode == code and words in text and (code == 0 or text.count("\n") == 1),
              f"{name}: exit {p.returncode}, expected {code}: {p.stdout[-300:]!r} {p.stderr[-300:]!r}")
        got = recorded()
        check(not got and not os.path.exists(device), f"{name}: built, downloaded or wrote device/: {got}")
    # No data anywhere (no DATA_DIR, $JACNOISE_DATA empty, none beside the copy): one line, no
    # empty device/ left.
    p = subprocess.run([dprep], cwd=scratch, env=dict(env, JACNOISE_DATA=stubs), capture_output=True, text=True,
                       timeout=60)
    # The line named the files over two lines, and not the folders tried.
    check(p.returncode == 1 and p.stderr == "device-prepare: no folder holds all six MNIST and USPS files; tried "
          f"$JACNOISE_DATA={stubs} (lacks {files[0]}), ./data (lacks {files[0]}), ../shared/datasets (lacks "
          f"{files[0]}) (give DATA_DIR, or run datasets/fetch.sh)\n" and
          not os.path.exists(device) and not recorded(), f"device-prepare.sh without data: exit {p.returncode}, "
          f"device/ {os.path.exists(device)}: {p.stderr[-300:]!r}")
    # ./data is the current folder's, as jacnoise reads it: the checkout's data/ was looked for.
    elsewhere = os.path.join(scratch, "elsewhere")
    shutil.copytree(data, os.path.join(elsewhere, "data"))
    p = subprocess.run([dprep], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    copied = sorted(os.listdir(os.path.join(device, "data"))) if os.path.isdir(os.path.join(device, "data")) else []
    check(p.returncode == 0 and copied == sorted(files), f"device-prepare.sh with ./data in the current folder: "
          f"exit {p.returncode}, data {copied}: {p.stderr[-300:]!r}")
    recorded()
    shutil.rmtree(device, ignore_errors=True)
    # A relative $JACNOISE_DATA is the current folder's, as jacnoise reads it: it was looked
    # for in the checkout (and no folder was found to hold the data).
    p = subprocess.run([dprep], cwd=scratch, env=dict(env, JACNOISE_DATA="data-all"), capture_output=True, text=True,
                       timeout=60)
    copied = sorted(os.listdir(os.path.join(device, "data"))) if os.path.isdir(os.path.join(device, "data")) else []
    check(p.returncode == 0 and copied == sorted(files), f"device-prepare.sh, JACNOISE_DATA=data-all (relative): "
          f"exit {p.returncode}, data {copied}: {p.stderr[-300:]!r}")
    recorded()
    shutil.rmtree(device, ignore_errors=True)
    # DATA_DIR relative to where it is given; then a failed download keeps the last packages.
    p = subprocess.run([dprep, "data-all"], cwd=scratch, env=env, capture_output=True, text=True, timeout=60)
    debs = sorted(os.listdir(os.path.join(device, "debs"))) if os.path.isdir(os.path.join(device, "debs")) else []
    copied = sorted(os.listdir(os.path.join(device, "data"))) if os.path.isdir(os.path.join(device, "data")) else []
    check(p.returncode == 0 and copied == sorted(files) and len(debs) == 5,
          f"device-prepare.sh data-all (relative, from another folder): exit {p.returncode}, data {copied}, "
          f"debs {debs}: {p.stderr[-300:]!r}")
    recorded()
    p = subprocess.run([dprep, "data-all"], cwd=scratch, env=dict(env, FAKE_APT_FAIL="1"), capture_output=True,
                       text=True, timeout=60)
    after = sorted(os.listdir(device))
    kept = sorted(os.listdir(os.path.join(device, "debs"))) if os.path.isdir(os.path.join(device, "debs")) else []
    check(p.returncode != 0 and kept == debs and after == ["data", "debs"],
          f"device-prepare.sh with apt-get failing: exit {p.returncode}, device/ {after}, debs {kept} (had {debs})")
    recorded()
    # --reproduce --dry-run: the GPU's command planned in runs/gpu-reproduce, the smoke table run
    # elsewhere (python3 is a stub that records its command line).
    gc = checkout_with(scratch, "gc", "gpu-check.sh")
    p = subprocess.run([os.path.join(gc, "tools", "gpu-check.sh"), "--dry-run", "--reproduce"], cwd=gc,
                       env=dict(env, OUT=os.path.join(scratch, "gc-out"), GPU_CHECK_BUILD=BUILD),
                       capture_output=True, text=True, timeout=120)
    runs = [line for line in recorded() if "tools/reproduce.py" in line]
    plan = [line for line in runs if "--plan" in line]
    smoke = [line for line in runs if "--budget smoke" in line]
    check(p.returncode == 0 and len(runs) == 2 and len(plan) == 1 and len(smoke) == 1 and
          "--budget full" in plan[0] and plan[0].endswith("--out runs/gpu-reproduce --plan") and
          "--out runs/gpu-reproduce " not in smoke[0] + " ",
          f"gpu-check.sh --dry-run --reproduce: exit {p.returncode}, reproduce.py calls {runs}: {p.stdout[-300:]!r}")
    # gpu-check's data as device-prepare.sh's: a relative $JACNOISE_DATA is the current folder's
    # (it was the checkout's), and a folder lacking one of the six files is passed over with
    # what it lacks named (one with two of them was taken).
    for name, given, want in [("relative", "data-all", f"data: {data}"),
                              ("partial", os.path.join(scratch, "data-part"),
                               f"data: NOT FOUND: tried $JACNOISE_DATA={os.path.join(scratch, 'data-part')} (lacks "
                               f"zip.test.gz), device/data (lacks {files[0]}), ../shared/datasets (lacks {files[0]}), "
                               f"data (lacks {files[0]}) (run tools/device-prepare.sh where the data is and carry "
                               "device/)")]:
        out = os.path.join(scratch, f"gc-data-{name}")
        p = subprocess.run([os.path.join(gc, "tools", "gpu-check.sh"), "--dry-run"], cwd=scratch,
                           env=dict(env, OUT=out, GPU_CHECK_BUILD=BUILD, GPU_CHECK_ONLY="none", JACNOISE_DATA=given),
                           capture_output=True, text=True, timeout=120)
        lines = open(os.path.join(out, "summary.txt")).read().splitlines() if os.path.isdir(out) else []
        got = next((line for line in lines if line.startswith("data: ")), "")
        check(got == want, f"gpu-check.sh --dry-run, {name} JACNOISE_DATA: {got!r}, expected {want!r}")
        recorded()


def emu_check_counts(scratch):
    """emu-check.sh fails where the emulator's build ran none of the GPU-labelled tests, or not
    each of them: it passed with zero (an emulator build.sh stub in a checkout holding one
    labelled test; every other step fails for want of a program, which is not what is checked)."""
    co = checkout_with(scratch, "emu-co", "emu-check.sh")
    os.makedirs(os.path.join(co, "tests"))
    with open(os.path.join(co, "tests", "engine.cmake"), "w") as f:
        f.write("jn_py_test(test_a test_a.py LABELS gpu TIMEOUT 60)\njn_py_test(test_b test_b.py LABELS device)\n")
    open(os.path.join(co, "tests", "CMakeLists.txt"), "w").close()
    stubs = os.path.join(scratch, "emu-stubs")
    os.makedirs(stubs)
    data = os.path.join(scratch, "data-all")
    script(os.path.join(stubs, "build.sh"), 'mkdir -p "$2/bin"; echo "JACNOISE_BIN=$2/bin/jacnoise" > "$2/build.env"\n'
                                            '[ -z "$STUB_RAN" ] || echo "PY_TEST=$STUB_RAN /dev/null" >> "$2/build.env"')
    for ran, want in (("", "emu-check: FAILED: 0 GPU-labelled test(s) ran; not run: test_a"),
                      ("test_other", "emu-check: FAILED: 1 GPU-labelled test(s) ran; not run: test_a"),
                      ("test_a", None)):
        res = os.path.join(scratch, f"emu-res-{ran or 'none'}")
        p = subprocess.run([os.path.join(co, "tools", "emu-check.sh"), os.path.join(scratch, f"emu-build-{ran}"), res],
                           env=dict(os.environ, JACNOISE_EMU=stubs, JACNOISE_DATA=data, STUB_RAN=ran),
                           capture_output=True, text=True, timeout=300)
        lines = open(os.path.join(res, "summary.txt")).read().splitlines() if os.path.isdir(res) else []
        said = [line for line in lines if "GPU-labelled" in line]
        check(p.returncode == 1 and said == ([want] if want else []),
              f"emu-check.sh, the build's GPU tests {ran or 'none'}: exit {p.returncode}, {said}, expected {want}")


def gpu_steps_failing(scratch):
    """gpu-check.sh on a "GPU" (no dry run; ctest and the build's programs are stubs): a step
    that fails does not stop the ones after it, each writes its log, and the check then exits 1
    naming the failed steps; it exited 0, so that a caller could not tell."""
    co = checkout_with(scratch, "gc-fail", "gpu-check.sh")
    build = os.path.join(scratch, "gc-fail-build")
    stubs = os.path.join(scratch, "gc-fail-stubs")
    os.makedirs(os.path.join(build, "bench"))
    os.makedirs(stubs)
    script(os.path.join(build, "jacnoise"), '[ "$1" = check ] && [ -n "$STUB_FAIL" ] && exit 1; exit 0')
    script(os.path.join(build, "bench", "bench_cuda_step"), "exit 0")
    script(os.path.join(stubs, "ctest"), '[ -n "$STUB_FAIL" ] && exit 8; exit 0')
    env = {k: v for k, v in os.environ.items() if k != "JACNOISE_DATA"}
    env.update(PATH=stubs + os.pathsep + os.environ.get("PATH", ""), GPU_CHECK_BUILD=build,
               GPU_CHECK_ONLY="gpu_tests,check_tf32,bench_cuda")
    for fail in ("1", ""):
        out = os.path.join(scratch, f"gc-fail-out{fail}")
        p = subprocess.run([os.path.join(co, "tools", "gpu-check.sh")], cwd=scratch,
                           env=dict(env, OUT=out, STUB_FAIL=fail), capture_output=True, text=True, timeout=120)
        lines = open(os.path.join(out, "summary.txt")).read().splitlines() if os.path.isdir(out) else []
        ran = [step_line(lines, name).split(" in ")[0] for name in ("gpu_tests", "check_tf32", "bench_cuda")]
        logs = all(os.path.isfile(os.path.join(out, f"{name}.log")) for name in ("gpu_tests", "check_tf32", "bench_cuda"))
        want = (1, ["gpu_tests: exit 8", "check_tf32: exit 1", "bench_cuda: exit 0"],
                "gpu-check: FAILED: gpu_tests, check_tf32 (see each one's log)") if fail else (
                0, ["gpu_tests: exit 0", "check_tf32: exit 0", "bench_cuda: exit 0"], "gpu-check: done in")
        check(p.returncode == want[0] and ran == want[1] and logs and lines and lines[-1].startswith(want[2]),
              f"gpu-check.sh, steps {'failing' if fail else 'passing'}: exit {p.returncode}, expected {want[0]}; "
              f"steps {ran}, logs {logs}, last line {lines[-1:]}")


def gpu_tests_failing_info(scratch):
    """Each GPU-labelled Python test, where `jacnoise info` fails, fails (exit 1, naming info's
    exit): info's output was read without its exit status, as no device, and the test skipped
    (77), so that a broken program passed every GPU test as skipped."""
    fake = os.path.join(scratch, "info-fails")
    script(fake, '[ "$1" = info ] && { echo "info broke" >&2; exit 3; }; exit 0')
    with open(os.path.join(ROOT, "tests", "engine.cmake")) as f:
        tests = re.findall(r"jn_py_test\(\w+ (\S+)[^)]*LABELS[^)]*\bgpu\b", f.read())
    check(tests, "tests/engine.cmake: no GPU-labelled Python test found")
    for name in tests:
        p = subprocess.run([sys.executable, os.path.join(ROOT, "tests", name)], env=dict(os.environ, JACNOISE_BIN=fake),
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 1 and "jacnoise info: exit 3: info broke" in p.stdout,
              f"{name} with a failing jacnoise info: exit {p.returncode}, expected 1: {p.stdout[-300:]!r}")


def main():
    scratch = tempfile.mkdtemp(prefix="jn_gpu_check_")
    kernel_table(scratch)  # needs no GPU: checked in every build
    device_tools(scratch)  # nor these
    emu_check_counts(scratch)
    gpu_steps_failing(scratch)
    gpu_tests_failing_info(scratch)
    bench = os.path.join(BUILD, "bench", "bench_cuda_step")
    if "cuda: built in" not in jacnoise_info().stdout or not os.access(bench, os.X_OK):
        print("CUDA is not built in: the device check has nothing to dry-run; skipped (kernel_times.py checked)")
        return finish("kernel_times and the device tools", scratch) if failures else (
            shutil.rmtree(scratch, ignore_errors=True) or 77)

    rc, lines = dry_run(scratch, "accepted", BUILD)
    check(rc == 0, f"dry run of this build: exit {rc}, expected 0")
    check(any(line.startswith("gpu_tests: exit 0") for line in lines), "dry run: the GPU tests did not pass (skip)")
    for name in GPU_STEPS:
        line = step_line(lines, name)
        check(line == f"{name}: {ACCEPTED}", f"dry run: {name}: {line or 'no line'}")

    # A jacnoise whose profile refuses its options, as after an option's rename: the profile
    # steps and the peers (which run `jacnoise profile`) must be named, the others pass.
    fake = os.path.join(scratch, "fake-build")
    os.makedirs(fake)
    os.symlink(os.path.join(BUILD, "bench"), os.path.join(fake, "bench"))
    with open(os.path.join(fake, "jacnoise"), "w") as f:
        f.write(f'#!/bin/sh\n[ "$1" = profile ] && set -- "$@" --no-such-option\nexec "{BIN}" "$@"\n')
    os.chmod(os.path.join(fake, "jacnoise"), 0o755)
    rc, lines = dry_run(scratch, "refused", fake)
    check(rc == 1, f"dry run with a refused option: exit {rc}, expected 1")
    refused = ["profile_b100", "profile_b1000", "profile_b100_tf32", "peers", "peers_tf32"]
    for name in GPU_STEPS:
        line = step_line(lines, name)
        if name in refused:
            check("exits 2 refusing its options" in line and "--no-such-option" in line,
                  f"refused option: {name}: {line or 'no line'}")
        else:
            check(line == f"{name}: {ACCEPTED}", f"refused option: {name}: {line or 'no line'}")
    check(any(line.startswith("gpu-check: a GPU step's command failed") for line in lines),
          "refused option: no closing line saying the dry run failed")

    # A short lease's subset: whole names (bench_cuda is not bench_cuda_sweep) and a glob.
    rc, lines = dry_run(scratch, "only", BUILD, GPU_CHECK_ONLY="profile_b100_*,bench_cuda,sweep64")
    check(rc == 0, f"dry run with GPU_CHECK_ONLY: exit {rc}, expected 0")
    wanted = ["profile_b100_tf32", "bench_cuda", "sweep64"]
    for name in GPU_STEPS + ["gpu_tests"]:
        line = step_line(lines, name)
        expected = f"{name}: {ACCEPTED}" if name in wanted else f"{name}: skipped (GPU_CHECK_ONLY)"
        check(line == expected, f"GPU_CHECK_ONLY: {name}: {line or 'no line'}")
    # A build folder whose path holds a space: the program's path is one word (it was split at
    # the space, each step's command "not found" for another reason than the missing GPU).
    spaced = os.path.join(scratch, "a folder", "the build")
    os.makedirs(os.path.dirname(spaced))
    os.symlink(BUILD, spaced)
    wanted = ["check_tf32", "profile_b100", "peers", "sweep64"]
    rc, lines = dry_run(scratch, "spaced", spaced, GPU_CHECK_ONLY=",".join(wanted))
    check(rc == 0, f"dry run with a build path holding a space: exit {rc}, expected 0")
    for name in wanted:
        line = step_line(lines, name)
        check(line == f"{name}: {ACCEPTED}", f"build path holding a space: {name}: {line or 'no line'}")
    # No nvcc on the machine (a GPU_CHECK_BUILD needs none): the summary says so, where it said
    # "nvcc: " and nothing (the pipe's status was tail's).
    os.makedirs(os.path.join(scratch, "shims"), exist_ok=True)
    nvcc = os.path.join(scratch, "shims", "nvcc")
    script(nvcc, "exit 127")
    rc, lines = dry_run(scratch, "no-nvcc", BUILD, GPU_CHECK_ONLY="none")
    os.remove(nvcc)
    line = next((line for line in lines if line.startswith("nvcc: ")), "")
    check(rc == 0 and line.startswith("nvcc: not found; cmake: "), f"dry run without nvcc: exit {rc}, {line!r}")
    return finish("gpu-check dry-run", scratch)


if __name__ == "__main__":
    sys.exit(main())
