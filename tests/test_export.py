"""tools/export_model.py: a trained checkpoint as a .npz whose arrays, run through the model
in NumPy (and in PyTorch, as the README shows), make the test errors `jacnoise eval` counts;
the parameters byte for byte as `jacnoise step --dump` reads them; last.ckpt's best section
equal to best.ckpt, and taken by --best (the parameters without it) with the file's training
state where the two sections and the epochs differ (before the first epoch's end: no best
error, and --best refused); and a damaged, cut, foreign or wrongly used file refused in one line,
exit 1, with no output written."""
import gzip
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import export_model  # noqa: E402
import stepstate  # noqa: E402
from harness import TORCH_MISSING, check, finish, run  # noqa: E402

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "export_model.py")


def export(args, expect=0):
    p = subprocess.run([sys.executable, TOOL] + args, capture_output=True, text=True, timeout=120)
    check(p.returncode == expect, f"export_model {' '.join(args)}: exit {p.returncode}, expected {expect}: {p.stderr}")
    return p


def usps_test_set(file="zip.test"):
    """zip.test (or zip.train) as jacnoise reads it (SPEC.md): pixels (v + 1) / 2 in [0, 1], labels 0-9."""
    folder = os.environ.get("JACNOISE_DATA", "")
    name = os.path.join(folder, file + ".gz")
    opener = gzip.open if os.path.exists(name) else open
    with opener(name if os.path.exists(name) else name[:-3], "rt") as f:
        rows = np.array([[float(v) for v in line.split()] for line in f if line.strip()])
    return (rows[:, 1:] + 1) / 2, rows[:, 0].astype(int)


def refused(args, what, out):
    p = export(args, expect=1)
    lines = p.stderr.strip().split("\n")
    check(len(lines) == 1 and args[0] in lines[0] and what in lines[0],
          f"{what}: expected one line naming {args[0]}, got {p.stderr!r}")
    check(not os.path.exists(out), f"{what}: {out} written")
    check(not [f for f in os.listdir(os.path.dirname(out)) if ".tmp" in f], f"{what}: temporary file left")


def main():
    scratch = tempfile.mkdtemp(prefix="jacnoise-export.")
    folder = os.path.join(scratch, "run")
    run(["train", "--data", "usps", "--hidden", "32,16", "--epochs", "3", "--train-limit", "600",
         "--jac-lambda", "0.01", "--jac-noise", "0.1", "--jac-target", "output", "--out", folder])
    best, last = os.path.join(folder, "best.ckpt"), os.path.join(folder, "last.ckpt")
    out = os.path.join(scratch, "model.npz")
    p = export([best, out])
    check("256-32-16-10" in p.stdout, f"summary line: {p.stdout!r}")
    # A best.ckpt holds its epoch's state, running: said bare, it read as a run training on.
    paused = os.path.join(scratch, "paused")
    run(["train", "--data", "usps", "--hidden", "8", "--epochs", "3", "--train-limit", "600", "--max-steps", "8",
         "--out", paused])
    p = export([os.path.join(paused, "best.ckpt"), os.path.join(scratch, "paused.npz")])
    check(p.stdout.endswith(", best epoch 1, running when saved\n"), f"summary line of a best.ckpt: {p.stdout!r}")
    # A paused run's last.ckpt records "running" too: said bare, the paused run read as training on.
    p = export([os.path.join(paused, "last.ckpt"), os.path.join(scratch, "paused-last.npz")])
    check(p.stdout.endswith(", best epoch 1, running when saved (jacnoise show says where the run stands)\n"),
          f"summary line of a paused run's last.ckpt: {p.stdout!r}")
    m = np.load(out)
    check(list(m["sizes"]) == [256, 32, 16, 10], f"sizes {list(m['sizes'])}")
    check([m[f"W{l}"].shape for l in (1, 2, 3)] == [(32, 256), (16, 32), (10, 16)], "weight shapes")
    check("jac-target=output" in str(m["config"]), "config text")
    # The arrays against the parameters as the C program reads them (a step state dumps them).
    state = os.path.join(scratch, "step.state")
    run(["step", "--checkpoint", best, "--dump", state])
    st = stepstate.parse_dump(state)
    check(all(m[k].tobytes() == st[k].tobytes() for l in (1, 2, 3) for k in (f"W{l}", f"b{l}")),
          "the exported parameters differ from those jacnoise step reads")

    # The model in NumPy against jacnoise eval's count on the test file.
    x, y = usps_test_set()
    layers = [(m[f"W{l}"].astype(np.float64), m[f"b{l}"].astype(np.float64)) for l in (1, 2, 3)]
    logits = export_model.logits(layers, x)
    errors = int((logits.argmax(axis=1) != y).sum())
    ev = json.loads(run(["eval", "--checkpoint", best]).stdout)["splits"]["test"]
    check(ev["examples"] == len(y), f"test examples {ev['examples']} vs {len(y)}")
    check(ev["errors"] == errors, f"NumPy counts {errors} test errors, jacnoise eval {ev['errors']}")
    try:
        import torch
    except ImportError:
        check(os.environ.get("JACNOISE_REQUIRE_TORCH") != "1", TORCH_MISSING)
    else:  # the README's snippet as it stands there, on this run's .npz (256-32-16-10, not its example's)
        readme = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md"),
                      encoding="utf-8").read()
        blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
        snippet = [b for b in blocks if 'np.load("model.npz")' in b]
        check(len(snippet) == 1, f"README: {len(snippet)} python blocks load model.npz, expected 1")
        ns = {}
        exec(snippet[0].replace('"model.npz"', repr(out)), ns)
        check(tuple(ns["logits"].shape) == (ns["x"].shape[0], 10), f"the snippet's logits: {tuple(ns['logits'].shape)}")
        with torch.no_grad():
            t = ns["net"](torch.from_numpy(x).to(ns["dtype"])).double().numpy()
        # The net runs in the file's float32: its logits are NumPy's to float32 rounding.
        check(np.abs(t - logits).max() < 1e-4, f"PyTorch's logits differ from NumPy's by {np.abs(t - logits).max()}")
        check(int((t.argmax(axis=1) != y).sum()) == ev["errors"], "PyTorch's test errors differ from jacnoise eval's")

    # last.ckpt carries the best parameters too.
    out_best = os.path.join(scratch, "best.npz")
    export([last, out_best, "--best"])
    mb = np.load(out_best)
    differ = [k for l in (1, 2, 3) for k in (f"W{l}", f"b{l}") if not np.array_equal(mb[k], m[k])]
    check(not differ, f"last.ckpt --best differs from best.ckpt in {differ}")

    # The sections and the training state, where they differ: a last.ckpt whose best section is
    # half its parameters and whose best epoch is 2 of 3 (checksum rewritten). --best takes the
    # best section, without it the parameters; the state is the file's, as summary.json says.
    full = open(last, "rb").read()
    ck = export_model.read_checkpoint(last)
    n = len(ck.params)
    state_at = ck.state_offset  # u64 steps, u32 epoch at +8, best epoch at +28
    params, size = ck.params, ck.params.dtype.itemsize  # as the file stores them (4 or 8 bytes)
    best_at = ck.params_offset + 2 * size * n  # parameters, velocity, best
    doctored = bytearray(full[:best_at] + (params * params.dtype.type(0.5)).tobytes() + full[best_at + size * n:])
    doctored[state_at + 28:state_at + 32] = struct.pack("<I", 2)
    doctored_path = os.path.join(scratch, "doctored.ckpt")
    open(doctored_path, "wb").write(bytes(doctored[:-4]) + struct.pack("<I", zlib.crc32(bytes(doctored[:-4]))))
    with open(os.path.join(folder, "summary.json")) as f:
        summary = json.load(f)
    for flag, scale in (([], 1.0), (["--best"], 0.5)):
        npz = os.path.join(scratch, f"doctored{scale}.npz")
        export([doctored_path, npz] + flag)
        d = np.load(npz)
        want = params[:256 * 32 + 32] * params.dtype.type(scale)
        check(np.array_equal(np.concatenate([d["W1"].ravel(), d["b1"]]), want) and d["W1"].shape == (32, 256),
              f"export {' '.join(flag) or 'without --best'}: W1, b1 are not the file's {'best section' if flag else 'parameters'}")
        state = {k: d[k].item() for k in ("global_step", "epochs_done", "best_epoch", "status")}
        check(state == {"global_step": summary["steps"], "epochs_done": summary["epochs"], "best_epoch": 2,
                        "status": summary["status"]} and abs(d["best_valid_error"] - summary["best_valid_error"]) < 1e-6,
              f"the exported training state {state}, summary.json {summary}")

    # Refusals: where jacnoise's reader refuses the file, at the same byte (jacnoise show).
    blob = open(best, "rb").read()
    bad = os.path.join(scratch, "bad.ckpt")
    nowhere = os.path.join(scratch, "refused.npz")

    def refused_as_jacnoise(data, what):
        open(bad, "wb").write(data)
        refused([bad, nowhere], what, nowhere)
        c = run(["show", bad], expect=1).stderr
        check(f"{bad}: {what.split(':')[0]}:" in c, f"{what}: jacnoise show says {c!r}")

    def with_crc(data):
        return data[:-4] + struct.pack("<I", zlib.crc32(data[:-4]))

    def with_u32(data, at, value):
        return with_crc(data[:at] + struct.pack("<I", value) + data[at + 4:])

    # Cut in the magic number or the format version: the words of jacnoise's reader (eval's;
    # show, which tells the file's kind by its magic number first, words it otherwise).
    for cut, at, field, n in ((5, 0, "the magic number", 8), (10, 8, "the format version", 4)):
        what = f"byte {at}: file ends while reading {field} ({n} bytes needed, {cut - at} left)"
        refused_as_jacnoise(blob[:cut], what)
        c = run(["eval", "--checkpoint", bad], expect=1).stderr
        check(f"{bad}: {what}\n" in c, f"{what}: jacnoise eval says {c!r}")
    half = len(blob) // 2
    refused_as_jacnoise(blob[:half], f"byte {half}: truncated: {half} bytes, expected {len(blob)}")
    # A whole file with bytes added after it was "checksum mismatch ... corrupt": they are counted
    # where the header says it ends (eval and show in the same words; eval's file named by its option).
    added = f"byte {len(blob)}: 3 unexpected bytes after the checkpoint's end (its header gives {len(blob)} bytes)"
    refused_as_jacnoise(blob + b"abc", added)
    for cmd in (["show"], ["eval", "--checkpoint"]):
        c = run(cmd + [bad], expect=1).stderr
        check(c == f"jacnoise: {' '.join(cmd[1:] + [bad])}: {added}\n", f"bytes added: jacnoise {cmd[0]} says {c!r}")
    # Cut inside the header: at least its fields up to the next that can be counted (the value
    # size and layer count; the sizes, parameter count and configuration length), and a checksum.
    for cut, least in ((12, 24), (20, 20 + 4 * len(m["sizes"]) + 12 + 4)):
        refused_as_jacnoise(blob[:cut], f"byte {cut}: truncated: {cut} bytes, expected at least {least}")
    # A flipped bit in the parameter count or the configuration's length: damaged, not cut.
    count_at = 20 + 4 * len(m["sizes"])
    # The format version too: read as version 2 or 3 it meant nothing to the user.
    for at, bit in ((count_at + 4, 0x01), (count_at + 10, 0x01), (8, 0x02)):
        damaged = bytearray(blob)
        damaged[at] ^= bit
        refused_as_jacnoise(bytes(damaged), f"byte {len(blob) - 4}: CRC-32 mismatch")
    # A stored configuration edited by hand over another model (checksum made again): show and
    # the tool took its hidden=30 as the model's, and eval blamed a --hidden nobody gave.
    text_at = count_at + 12
    (text_len,) = struct.unpack_from("<I", blob, text_at - 4)
    text = blob[text_at:text_at + text_len]
    check(b"\nhidden=32,16\n" in text, f"the stored configuration has no hidden=32,16: {text!r}")
    text = text.replace(b"\nhidden=32,16\n", b"\nhidden=30\n")
    edited = with_crc(blob[:text_at - 4] + struct.pack("<I", len(text)) + text + blob[text_at + text_len:])
    shapes = "byte 20: layer sizes 256-32-16-10, but the stored configuration's hidden gives a 256-30-10 model"
    refused_as_jacnoise(edited, shapes)
    for cmd in (["show"], ["eval", "--checkpoint"]):
        c = run(cmd + [bad], expect=1).stderr
        check(c == f"jacnoise: {' '.join(cmd[1:] + [bad])}: {shapes}\n", f"hidden edited: jacnoise {cmd[0]} says {c!r}")
    # Its hidden line removed: jacnoise compares the model with the default --hidden (1000), the
    # tool exported it unchecked.
    text = text.replace(b"\nhidden=30\n", b"\n")
    edited = with_crc(blob[:text_at - 4] + struct.pack("<I", len(text)) + text + blob[text_at + text_len:])
    shapes = "byte 20: layer sizes 256-32-16-10, but the stored configuration's hidden gives a 256-1000-10 model"
    refused_as_jacnoise(edited, shapes)
    c = run(["show", bad], expect=1).stderr
    check(c == f"jacnoise: {bad}: {shapes}\n", f"hidden line removed: jacnoise show says {c!r}")
    # A newer jacnoise's format version (checksum made again) is said to be that, not damage.
    newer = "written by a newer jacnoise"
    refused_as_jacnoise(with_u32(blob, 8, 3), f"byte 8: format version 3, this tool reads versions 1 to 2 ({newer}")
    c = run(["show", bad], expect=1).stderr
    check(f"checkpoint format version 3, this build reads versions 1 to 2 ({newer}" in c, f"format version 3: {c!r}")
    flipped = bytearray(blob)
    flipped[half] ^= 0x40
    open(bad, "wb").write(bytes(flipped))
    refused([bad, nowhere], "CRC-32", nowhere)
    open(bad, "wb").write(b"not a checkpoint at all, just some text\n")
    refused([bad, nowhere], "wrong magic", nowhere)
    refused([os.path.join(scratch, "absent.ckpt"), nowhere], "No such file", nowhere)
    # A run folder given for its checkpoint: its two files named, as jacnoise names them.
    given = f"{folder}: is a run folder, not a checkpoint: give {best} (its best parameters) or {last} (where it stands)"
    refused([folder, nowhere], given, nowhere)
    check(run(["show", folder], expect=1).stderr == f"jacnoise: {given}\n", f"jacnoise show {folder}: not {given!r}")
    refused([best, nowhere, "--best"], "no best section", nowhere)
    # A run paused before its first epoch ended: its best section is the initial parameters,
    # and its stored best error a placeholder (summary.json: null).
    early = os.path.join(scratch, "early")
    run(["train", "--data", "usps", "--hidden", "8", "--epochs", "2", "--train-limit", "300", "--max-steps", "1",
         "--out", early])
    early_last = os.path.join(early, "last.ckpt")
    refused([early_last, nowhere, "--best"], "no epoch has ended", nowhere)
    export([early_last, out])
    # A best.ckpt that is not there beside its run's last.ckpt, none yet or removed: "No such
    # file" alone said nothing of the run's parameters; the line names last.ckpt, and --best
    # where it has them (before the first epoch's end it offered --best, which is refused then).
    paused_best = os.path.join(paused, "best.ckpt")
    os.remove(paused_best)
    early_best = os.path.join(early, "best.ckpt")
    refused([early_best, nowhere], f"{early_best}: No such file or directory: the run has no best.ckpt yet (one is "
            f"written when its first epoch ends); export {early_last} instead, its parameters as they stand", nowhere)
    refused([paused_best, nowhere], f"{paused_best}: No such file or directory: the run has no best.ckpt (it was "
            f"removed: resuming the run writes it again); export {os.path.join(paused, 'last.ckpt')} instead, with "
            "--best for the best parameters it carries", nowhere)
    # A last.ckpt that does not read tells neither: both are said, as before.
    cut = os.path.join(scratch, "cut")
    os.mkdir(cut)
    open(os.path.join(cut, "last.ckpt"), "wb").write(open(early_last, "rb").read()[:100])
    refused([os.path.join(cut, "best.ckpt"), nowhere], "the run has no best.ckpt (none before its first epoch ends, or "
            "it was removed: resuming the run writes it again)", nowhere)
    check(np.isnan(np.load(out)["best_valid_error"]), f"best epoch 0: best_valid_error {np.load(out)['best_valid_error']}")
    # Consistent files (checksum rewritten) that the format refuses: jacnoise's bounds.
    for layers in (17, 1000000):
        refused_as_jacnoise(with_u32(blob, 16, layers), f"byte 16: {layers} weight layers, out of range [2, 16]")
    # In last.ckpt, whose velocity and best sections make flags 7 the same size as its 3.
    full = open(last, "rb").read()
    ck = export_model.read_checkpoint(last)
    flags_at, state_at = ck.params_offset - 4, ck.state_offset  # its u32 epoch at +8, status at +36
    epoch, status, sections = (struct.unpack_from("<I", full, at)[0] for at in (state_at + 8, state_at + 36, flags_at))
    refused_as_jacnoise(with_u32(full, state_at + 36, 7),
                        f"byte {flags_at}: training state out of range (epoch {epoch}, status 7, sections {sections})")
    refused_as_jacnoise(with_u32(full, flags_at, 7),
                        f"byte {flags_at}: training state out of range (epoch {epoch}, status {status}, sections 7)")
    off = export_model.read_checkpoint(best).params_offset
    nan = bytearray(blob)
    nan[off + 8:off + 12] = np.float32(np.nan).tobytes()
    refused_as_jacnoise(with_crc(bytes(nan)), f"byte {off + 8}: params: value 2 is not finite")
    # An output in no folder (or under a file) is named as jacnoise names it, not "No such
    # file or directory", which said nothing of the folder.
    missing = os.path.join(scratch, "no", "such")
    npz = os.path.join(missing, "folder.npz")
    p = export([best, npz], expect=1)
    check(p.stderr == f"export_model: {npz}: no folder {missing} to write it in\n", f"unwritable output: {p.stderr!r}")
    # In a file, as jacnoise says it (it said "no folder FILE", as if the file were not there),
    # and further under it (it said "no folder FILE/sub").
    for npz in (os.path.join(best, "folder.npz"), os.path.join(best, "sub", "folder.npz")):
        p = export([best, npz], expect=1)
        check(p.stderr == f"export_model: {npz}: {best} is not a folder\n", f"output in a file: {p.stderr!r}")
    # Outputs the rename would destroy or replace rather than write (as jacnoise step --dump
    # refuses them): the checkpoint itself or the run's other one, another file than a .npz
    # (the run's config.txt: it was replaced), a FIFO (a device such as /dev/full alike), a link.
    fifo, link = os.path.join(scratch, "fifo"), os.path.join(scratch, "link.npz")
    os.mkfifo(fifo)
    os.symlink(out, link)
    before = open(last, "rb").read()
    config = os.path.join(folder, "config.txt")
    config_text = open(config, "rb").read()
    for source, target, what, intact in (
            (last, last, "is the checkpoint file", lambda: open(last, "rb").read() == before),
            (best, last, "holds a jacnoise checkpoint", lambda: open(last, "rb").read() == before),
            (best, config, "exists and is not a .npz", lambda: open(config, "rb").read() == config_text),
            (best, fifo, "not a regular file", lambda: not os.path.isfile(fifo)),
            (best, link, "is a symbolic link", lambda: os.path.islink(link))):
        p = export([source, target], expect=1)
        check(p.stderr.count("\n") == 1 and f"{target}: {what}" in p.stderr and intact(),
              f"export onto {target}: {p.stderr!r}, left intact: {intact()}")
    # A checkpoint that is a FIFO is refused, not read forever.
    refused([fifo, nowhere], "not a regular file", nowhere)
    return finish("export", scratch)


if __name__ == "__main__":
    sys.exit(main())
