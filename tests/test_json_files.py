"""summary.json and metrics.jsonl read the same by jacnoise (jn_summary_read, jn_metrics_read:
`jacnoise show` and `train --resume`) and by the tools (tools/tool_files.py: summary_record,
metrics_records): each hand-made file below is taken by both or refused by both, at the same
byte for the same reason (a number JSON does not write: each in its own words). Text after the
object, an escape JSON has not, a key longer than jacnoise reads or with a byte that is not
UTF-8, a number JSON does not write (+1, .5, 1., 01), and a summary without epochs (read as 0
by jacnoise, a damaged run to reproduce.py) were taken by one reader and refused by the other."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import tool_files  # noqa: E402
from harness import check, finish, idx, run  # noqa: E402


def trained_run(scratch):
    """A finished one-epoch run on a tiny idx: data set: its folder, with last.ckpt, summary.json
    and metrics.jsonl as jacnoise writes them."""
    pixels = bytes((7 * i) % 256 for i in range(8 * 4))
    with open(os.path.join(scratch, "images.idx"), "wb") as f:
        f.write(idx(0x08, [8, 2, 2], pixels))
    with open(os.path.join(scratch, "labels.idx"), "wb") as f:
        f.write(idx(0x08, [8], bytes([0, 1] * 4)))
    folder = os.path.join(scratch, "run")
    run(["train", "--data", "idx:images.idx,labels.idx", "--test", "idx:images.idx,labels.idx", "--valid", "2",
         "--hidden", "3", "--batch", "2", "--epochs", "1", "--out", folder, "--progress", "never"], cwd=scratch)
    return folder


def tools_word(read, data):
    """None where the tools' reader takes data, else what it says is wrong."""
    try:
        read(data)
        return None
    except ValueError as e:
        return str(e)


def summary_cases(good):
    """(what, the bytes of summary.json, what both readers say: None where they take it, a pair
    where jacnoise's words and json's differ), good: a summary as jacnoise wrote it."""
    head, rest = good.split(b"{", 1)
    key = len(head) + 1  # a member put before the others starts here
    message = good.index(b'"message": "') + len(b'"message": "')
    value = good.index(b'"epochs": ') + len(b'"x": ')  # where before_epochs puts x's value

    def before_epochs(text):
        return good.replace(b'"epochs": ', text + b', "epochs": ', 1)

    def member(text):
        return head + b"{" + text + b", " + rest

    def in_message(text):
        return good[:message] + text + good[message:]
    long_key = b"k" * 63
    too_long = '"' + "k" * 63 + '...": a key longer than 63 bytes'
    return [("as written", good, None),
            ("text after the object", good + b"x\n", f"byte {len(good)}: text after the object"),
            ("two summaries pasted together", good + good, f"byte {len(good)}: text after the object"),
            ("spaces after the object", good + b" \n\t\r\n", None),
            ("an escape JSON has not", in_message(b"a\\qb"), f"byte {message + 1}: an escape JSON does not have"),
            ("a short \\u", in_message(b"a\\u12"), f"byte {message + 1}: \\u without four hex digits"),
            ("a \\u of a non-hex digit", in_message(b"\\u12zz"), f"byte {message}: \\u without four hex digits"),
            ("JSON's escapes", in_message(b"\\u0041\\/\\\"\\\\\\b\\f\\n\\r\\t"), None),
            ("an escape in a key", member(b'"x\\q": 1'), f"byte {key + 2}: an escape JSON does not have"),
            ("a key of 63 bytes", member(b'"' + long_key + b'": 1'), None),
            ("a key of 64 bytes", member(b'"' + long_key + b'x": 1'), f"byte {key}: {too_long}"),
            ("keys the same in their first 63 bytes", member(b'"' + long_key + b'x": 1, "' + long_key + b'y": 2'),
             f"byte {key}: {too_long}"),
            ("a key of 64 bytes, its 63rd inside a character", member(b'"' + b"k" * 62 + "é".encode() + b'": 1'),
             f'byte {key}: "' + "k" * 62 + '...": a key longer than 63 bytes'),
            ("a key with a byte that is not UTF-8", member(b'"x\xffy": 1'),
             f"byte {key + 2}: a key with a byte that is not UTF-8"),
            ("a key cut inside a character", member(b'"x\xc3": 1'),
             f"byte {key + 2}: a key with a byte that is not UTF-8"),
            ("a key in UTF-8", member('"é": 1'.encode()), None),
            ("a value with a byte that is not UTF-8", in_message(b"\xff"), None),
            ("a number JSON writes", before_epochs(b'"x": -0.5E+2'), None)] + [
            # json names where it stops reading, jacnoise where the value starts.
            (f"a number {number} JSON does not write", before_epochs(b'"x": ' + number.encode()),
             (f"byte {value}: expected a decimal number, true, false or null", f"byte {value + taken}: {why}"))
            for number, taken, why in [("+1", 0, "Expecting value"), (".5", 0, "Expecting value"),
                                       ("1.", 1, "Expecting ',' delimiter"), ("01", 1, "Expecting ',' delimiter")]] + [
            ("no epochs", good.replace(b'"epochs"', b'"epoch"', 1), "no epochs"),
            ("epochs a string", good.replace(b'"epochs": ', b'"epochs": "1", "x": ', 1), "no epochs")]


def check_summaries(folder):
    """jacnoise show (its device line, which reads summary.json) against summary_record."""
    path = os.path.join(folder, "summary.json")
    with open(path, "rb") as f:
        good = f.read()
    for what, data, want in summary_cases(good):
        with open(path, "wb") as f:
            f.write(data)
        shown = next((line for line in run(["show", os.path.join(folder, "last.ckpt")]).stdout.splitlines()
                      if line.startswith("device: ")), "")
        word = tools_word(tool_files.summary_record, data)
        said = shown.startswith("device: unknown (") and shown[len("device: unknown ("):-1]
        c_want, tools_want = want if isinstance(want, tuple) else (want, want)
        check(word == tools_want and (said == f"{path}: {c_want}" if want else shown and not said),
              f"summary.json, {what}: jacnoise show says {shown!r}, the tools {word!r}; expected {want!r}")
    with open(path, "wb") as f:
        f.write(good)


def check_metrics(scratch, folder):
    """train --resume (which reads metrics.jsonl, keeping the checkpoint's epochs) against
    metrics_records, on the run's one line made over; at: where a refusal names it in the line."""
    with open(os.path.join(folder, "metrics.jsonl"), "rb") as f:
        line = f.read().rstrip(b"\n")
    for what, made, at, why in [
            ("text after the object", line + b" x", len(line) + 1, "text after the object"),
            ("an escape JSON has not", line.replace(b'"epoch":', b'"x":"\\q","epoch":', 1), 6,
             "an escape JSON does not have"),
            ("a short \\u", line.replace(b'"epoch":', b'"x":"\\u00","epoch":', 1), 6, "\\u without four hex digits"),
            ("a key with a byte that is not UTF-8", line.replace(b'"epoch":', b'"\x80":1,"epoch":', 1), 2,
             "a key with a byte that is not UTF-8"),
            ("a key of 64 bytes", line.replace(b'"epoch":', b'"' + b"e" * 64 + b'":1,"epoch":', 1), 1,
             '"' + "e" * 63 + '...": a key longer than 63 bytes'),
            ("as written", line, None, None)]:
        copy = os.path.join(scratch, "resumed")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(folder, copy)
        path = os.path.join(copy, "metrics.jsonl")
        with open(path, "wb") as f:  # the line made over as a second line, of epoch 2, which the resume reads
            f.write(line + b"\n" + made.replace(b'"epoch":1,', b'"epoch":2,', 1) + b"\n")
        word = tools_word(tool_files.metrics_records, path)  # first: a resume rewrites the file
        p = run(["train", "--resume", "--out", copy, "--epochs", "2", "--progress", "never"], expect=None,
                cwd=scratch)
        if why is None:
            check(p.returncode == 0 and word is None, f"metrics.jsonl, {what}: resume exit {p.returncode} "
                  f"{p.stderr!r}, the tools {word!r}")
            continue
        said = f"line 2 (byte {len(line) + 1 + at}): {why}"
        check(p.returncode != 0 and f"{path}: {said}" in p.stderr and word == said,
              f"metrics.jsonl, {what}: resume exit {p.returncode} {p.stderr!r}, the tools {word!r}; expected {said!r}")


def main():
    scratch = tempfile.mkdtemp(prefix="jacnoise-json-")
    folder = trained_run(scratch)
    check_summaries(folder)
    check_metrics(scratch, folder)
    return finish("json files", scratch)


if __name__ == "__main__":
    sys.exit(main())
