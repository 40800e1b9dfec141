"""summary.json and metrics.jsonl read the same by jacnoise (jn_summary_read, jn_metrics_read:
`jacnoise show` and `train --resume`) and by the tools (tools/tool_files.py: summary_record,
metrics_records): each hand-made file below is taken by both or refused by both, at the same
byte in the same words (the tools said json's for a file cut short, a member without its ':'
or ',' and a number JSON does not write, each at json's byte). Text after the
object, an escape JSON has not, a key longer than jacnoise reads or with a byte that is not
UTF-8, a number JSON does not write (+1, .5, 1., 01), and a summary without epochs (read as 0
by jacnoise, a damaged run to reproduce.py) were taken by one reader and refused by the other;
a key with an escape ("\\u0065pochs") was refused by both, and of two faults the tools named a
string's first, jacnoise the first in the file."""
import json
import os
import re
import resource
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


def shown_device(folder):
    """The device line of `jacnoise show` of the run in folder (which reads its summary.json)."""
    return next((line for line in run(["show", os.path.join(folder, "last.ckpt")]).stdout.splitlines()
                 if line.startswith("device: ")), "")


def summary_cases(good):
    """(what, the bytes of summary.json, what both readers say: None where they take it), good:
    a summary as jacnoise wrote it."""
    head, rest = good.split(b"{", 1)
    key = len(head) + 1  # a member put before the others starts here
    message = good.index(b'"message": "') + len(b'"message": "')
    value = good.index(b'"epochs": ') + len(b'"x": ')  # where before_epochs puts x's value
    threads = good.index(b'"threads": ') + len(b'"threads": ')
    status = good.index(b'"status"')
    status_end = good.index(b'",', status)  # the status's closing quote
    epochs_end = good.index(b",", good.index(b'"epochs": '))

    def before_epochs(text):
        return good.replace(b'"epochs": ', text + b', "epochs": ', 1)

    def member(text):
        return head + b"{" + text + b", " + rest

    def in_message(text):
        return good[:message] + text + good[message:]

    def message_of(text):
        return good[:message] + text + good[good.index(b'",', message):]
    long_key = b"k" * 63
    epochs_twice = good.index(b'"epochs"') + len(b'"\\u0065pochs": 1, ')  # where member's "epochs" puts it
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
            # A key is a string: its escapes decoded, by both (each refused it).
            ("epochs written with an escape", good.replace(b'"epochs"', b'"\\u0065pochs"', 1), None),
            ("a key with escapes", member(b'"\\u00e9\\n\\u0001\\"": 1'), None),
            ("a key given twice, once with an escape", member(b'"\\u0065pochs": 1'),
             f'byte {epochs_twice}: "epochs" given twice'),
            ("a key of 63 bytes with an escape", member(b'"' + b"k" * 62 + b'\\u006b": 1'), None),
            ("a key of 64 bytes with an escape", member(b'"' + long_key + b'\\u006b": 1'), f"byte {key}: {too_long}"),
            # Two faults: the first named, by both (the tools named a string's first).
            ("a NaN before an escape JSON has not", head + b'{"x": NaN, ' + in_message(b"a\\qb")[len(head) + 1:],
             f"byte {key + 5}: expected a decimal number, true, false or null"),
            ("a NaN before a key with a byte that is not UTF-8", member(b'"x": NaN, "y\xff": 1'),
             f"byte {key + 5}: expected a decimal number, true, false or null"),
            ("an escape JSON has not before a NaN",
             in_message(b"a\\qb").replace(b'"epochs": ', b'"x": NaN, "epochs": ', 1),
             f"byte {message + 1}: an escape JSON does not have"),
            ("a value with a byte that is not UTF-8", in_message(b"\xff"), None),
            ("a number JSON writes", before_epochs(b'"x": -0.5E+2'), None),
            # A token of more than 63 characters was cut, then refused as "expected ',' or '}'".
            ("a number of 64 characters", before_epochs(b'"x": 0.' + b"0" * 61 + b"1"), None),
            ("a whole number of 300 digits", before_epochs(b'"x": 1' + b"0" * 299), None),
            ("an escaped backslash before a letter", in_message(b"\\\\x\\\\u12"), None),
            ("a \\u decoded", in_message(b"\\u00e9 \\ufffd \\ud83d\\ude00"), None),
            ("a \\u0000", in_message(b"a\\u0000"), f"byte {message + 1}: a \\u0000 (NUL) in a string"),
            ("a lone high surrogate", in_message(b"a\\ud800b"), f"byte {message + 1}: \\u of half a surrogate pair"),
            ("a high surrogate before another \\u", in_message(b"\\ud800\\u0041"),
             f"byte {message}: \\u of half a surrogate pair"),
            ("a high surrogate before a short \\u", in_message(b"\\ud800\\u00"),
             f"byte {message}: \\u of half a surrogate pair"),
            ("a lone low surrogate", in_message(b"\\ude00"), f"byte {message}: \\u of half a surrogate pair"),
            # The longest string jacnoise holds; its writer writes none longer (decoded).
            ("a message of 3071 bytes", message_of(b"m" * 3071), None),
            ("a message of 3072 bytes", message_of(b"m" * 3072),
             f"byte {message - 1}: a string longer than 3071 bytes"),
            ("a message of 1024 \\ufffd", message_of(b"\\ufffd" * 1024),
             f"byte {message - 1}: a string longer than 3071 bytes")] + [
            # Each named where the value starts, by both (json named no byte).
            (f"a value {text}", before_epochs(b'"x": ' + text.encode()),
             f"byte {value}: expected a decimal number, true, false or null")
            for text in ["NaN", "-Infinity", "1e999", "1" + "0" * 400, '{"a": 1}', "[1]", "[NaN]"]] + [
            # Named where the value starts, by both (json named where it stopped reading, in its words).
            (f"a value {text!r} JSON does not write", before_epochs(b'"x": ' + text.encode()),
             f"byte {value}: expected a decimal number, true, false or null")
            for text in ["+1", ".5", "1.", "01", "1]", "tru", "-", ""]] + [
            # A file cut short, or a member without its ':' or ',': in jacnoise's words, at its
            # byte, by both (the tools said json's, 'Unterminated string starting at' the
            # string's first byte).
            (f"cut at {len(cut)} bytes, {what}", cut, f"byte {len(cut) if at is None else at}: {why}")
            for what, cut, at, why in [
                ("inside a string", good[:message + 1], None, "unterminated string"),
                ("inside a key", good[:status + 3], None, "unterminated string"),
                ("after a backslash", in_message(b"a\\")[:message + 2], None, "unterminated string"),
                ("inside a \\u", in_message(b"a\\u00e9")[:message + 5], message + 1, "\\u without four hex digits"),
                ("inside a surrogate pair", in_message(b"\\ud83d\\ude00")[:message + 10], message,
                 "\\u of half a surrogate pair"),
                ("after a key", good[:status + 8], None, "expected ':'"),
                ("after a ':'", good[:status + 9], None, "expected a decimal number, true, false or null"),
                ("after a ':' and a space", good[:status + 10], None, "expected a decimal number, true, false or null"),
                ("after a number", good[:epochs_end], None, "expected ',' or '}'"),
                ("inside a fraction", before_epochs(b'"x": 0.25')[:value + 2], value,
                 "expected a decimal number, true, false or null"),
                ("inside true", before_epochs(b'"x": true')[:value + 2], value,
                 "expected a decimal number, true, false or null"),
                ("after a ','", good[:status_end + 2], None, "expected a string"),
                ("after the '{'", good[:1], None, "expected a string"),
                ("before the '}'", good[:good.rindex(b"}")], None, "expected ',' or '}'"),
                ("empty", b"", None, "expected '{'")]] + [
            ("spaces alone", b" \n", "byte 2: expected '{'"),
            ("a string, not an object", b'"status', "byte 0: expected '{'"),
            ("a key that is not a string", member(b"x: 1"), f"byte {key}: expected a string"),
            ("a member without its ':'", member(b'"x" 1'), f"byte {key + 4}: expected ':'"),
            ("a number without its ','", member(b'"x": 1 "y": 2'), f"byte {key + 7}: expected ',' or '}}'"),
            ("a string without its ','", member(b'"x": "a" "y": 2'), f"byte {key + 9}: expected ',' or '}}'"),
            ("a ',' before the '}'", good[:good.rindex(b"}")] + b",}", f"byte {good.rindex(b'}') + 1}: expected a string"),
            ("a member without its ':', then a cut string", head + b'{"x" 1, "y": "ab', f"byte {key + 4}: expected ':'"),
            ("a bad escape, then a cut string", in_message(b"\\qab")[:message + 3],
             f"byte {message}: an escape JSON does not have")] + [
            # A value of the wrong kind, or not a whole number, named at its byte, where jacnoise
            # reads it (the tools named its key alone, and a fault after it first).
            ("tf32 a number", before_epochs(b'"tf32": 1'), f"byte {value + 3}: a value of the wrong kind"),
            ("a device's text a number", before_epochs(b'"pci_bus_id": 0'),
             f"byte {value + 9}: a value of the wrong kind"),
            ("threads a string", good.replace(b'"threads": 2', b'"threads": "2"', 1),
             f"byte {threads}: expected a whole number"),
            ("cuda_device a fraction", before_epochs(b'"cuda_device": 2.5'), f"byte {value + 10}: expected a whole number"),
            ("a value of the wrong kind before a NaN", before_epochs(b'"tf32": 1, "y": NaN'),
             f"byte {value + 3}: a value of the wrong kind"),
            ("a value of the wrong kind before a key with a byte that is not UTF-8",
             before_epochs(b'"tf32": 1, "y\xff": 1'), f"byte {value + 3}: a value of the wrong kind"),
            ("a value of the wrong kind with an escape JSON has not", before_epochs(b'"tf32": "a\\q"'),
             f"byte {value + 5}: an escape JSON does not have"),
            ("a value of the wrong kind longer than a string", before_epochs(b'"tf32": "' + b"m" * 3072 + b'"'),
             f"byte {value + 3}: a string longer than 3071 bytes"),
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
        shown = shown_device(folder)
        word = tools_word(tool_files.summary_record, data)
        said = shown.startswith("device: unknown (") and shown[len("device: unknown ("):-1]
        check(word == want and (said == f"{path}: {want}" if want else shown and not said),
              f"summary.json, {what}: jacnoise show says {shown!r}, the tools {word!r}; expected {want!r}")
    with open(path, "wb") as f:
        f.write(good)


def check_device_texts(folder):
    """A device's texts longer than jacnoise holds (a GPU's name of stray bytes, each written
    \\ufffd, reads back longer than it was): cut alike, at a whole character (jacnoise cut them,
    inside a character too, where the tools read them whole)."""
    path = os.path.join(folder, "summary.json")
    with open(path, "rb") as f:
        good = f.read()
    record = tool_files.summary_record(good)
    for device, blas in [("é" * 200, "b" * 300), ("\\ud83d\\ude00" * 70, "\\ufffd" * 90)]:
        data = good.replace(json.dumps(record["device"], ensure_ascii=False).encode(), f'"{device}"'.encode(), 1)
        data = data.replace(json.dumps(record["blas"], ensure_ascii=False).encode(), f'"{blas}"'.encode(), 1)
        with open(path, "wb") as f:
            f.write(data)
        shown = shown_device(folder)
        read = tool_files.summary_record(data)
        threads = read["threads"]
        want = f"device: cpu, {read['device']}, {threads} BLAS thread{'s' if threads != 1 else ''}, {read['blas']}"
        check(shown == want and 0 < len(read["device"].encode()) <= 255 and len(read["blas"].encode()) <= 255,
              f"summary.json, a device {device[:20]!r}... and BLAS {blas[:20]!r}...: jacnoise show says {shown!r}, "
              f"the tools {want!r}")
    # A byte that is not UTF-8 is one byte to both (the tools cut it as U+FFFD, three): 254 of
    # them, then a character the cut at 255 falls inside, dropped whole.
    data = good.replace(json.dumps(record["device"]).encode(), b'"' + b"\xff" * 254 + 'é"'.encode(), 1)
    with open(path, "wb") as f:
        f.write(data)
    shown = shown_device(folder)
    read = tool_files.summary_record(data)["device"]
    check(shown.startswith("device: cpu, " + "\\xff" * 254 + ",") and read == "\ufffd" * 254,
          f"summary.json, a device of 254 bytes 0xff and an é: jacnoise show says {shown[:60]!r}..., the tools "
          f"read {len(read)} characters {read[:5]!r}...")
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
            ("a key with an escape", line.replace(b'"step":', b'"\\u0073tep":', 1), None, None),
            ("a value of the wrong kind", line.replace(b'"step":', b'"x":"s","step":', 1), line.index(b'"step":') + 4,
             "a value of the wrong kind"),
            ("a value of the wrong kind before a NaN", line.replace(b'"step":', b'"x":"s","y":NaN,"step":', 1),
             line.index(b'"step":') + 4, "a value of the wrong kind"),
            ("a step of 2.5", line.replace(b'"step":3', b'"step":2.5', 1), line.index(b'"step":') + 7,
             "expected a whole number"),
            # The tools said 'line 2: no epoch', jacnoise names the byte where the line ends; and
            # json's words for a line cut short or without its ',' (see summary_cases).
            ("no epoch", line.replace(b'"epoch":1,', b"", 1), len(line) - len(b'"epoch":1,'), "no epoch"),
            ("an epoch of 0", line.replace(b'"epoch":1,', b'"epoch":0,', 1), len(line), "no epoch"),
            ("no best", re.sub(rb',"best":[a-z]+', b"", line), len(re.sub(rb',"best":[a-z]+', b"", line)), "no best"),
            ("a second line of epoch 1", line.replace(b'"epoch":1,', b'"epoch":1.0,', 1), 0,
             "a second line of epoch 1: each epoch has one line, in order"),
            ("cut inside a key", line[:3], 3, "unterminated string"),
            ("cut after a number", line[:line.index(b",")], line.index(b","), "expected ',' or '}'"),
            ("a member without its ','", line.replace(b',"step":', b' "step":', 1), line.index(b',"step":') + 1,
             "expected ',' or '}'"),
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


TINY_SPEC = "data = usps\nhidden = 4\ntrain-limit = 60\nvalid = 20\nbatch = 20\nepochs = 1\nlr = 0.1\n"


def tiny_spec(scratch):
    spec = os.path.join(scratch, "tiny.spec")
    with open(spec, "w") as f:
        f.write(TINY_SPEC)
    return spec


def one_run_sweep(scratch, folder):
    """A one-run sweep trained in folder: its spec, its runs folder and the run's id."""
    spec = tiny_spec(scratch)
    run(["sweep", "--spec", spec, "--out", folder, "--progress", "never"], cwd=scratch)
    runs = os.path.join(scratch, folder, "runs")
    return spec, runs, os.listdir(runs)[0]


def damaged_resume(scratch, folder, swept=None):
    """A one-run sweep in folder (swept: one_run_sweep's, where already trained) whose rerun fails:
    the resume of a damaged last.ckpt, which its message names twice (read, and "remove ...").
    The run's id, its summary.json's path and bytes."""
    spec, runs, name = swept or one_run_sweep(scratch, folder)
    os.remove(os.path.join(runs, name, "summary.json"))
    with open(os.path.join(runs, name, "last.ckpt"), "r+b") as f:
        f.truncate(100)
    run(["sweep", "--spec", spec, "--out", folder, "--progress", "never"], expect=1, cwd=scratch)
    path = os.path.join(runs, name, "summary.json")
    with open(path, "rb") as f:
        return name, path, f.read()


def check_messages(scratch):
    """A failed run's message as sweep status reads it (jn_summary_read) and as the tools do, the
    same: one written by jacnoise, naming a long path twice (of more than 1023 bytes: the sweep
    cut it there, and jacnoise read no more back), with bytes that are not UTF-8 (a Latin-1
    name, said "\\xe9", which the tools refused as an escape JSON has not); and hand-made ones
    with JSON's escapes (jacnoise read each \\u as a space)."""
    folder = os.path.join(*["d" * 200] * 3, os.fsdecode(b"\xe9" * 50), "sweep")
    spec, runs, name = swept = one_run_sweep(scratch, folder)
    # A finished run whose summary.json does not read, with an error of more than 1023 bytes: said
    # whole, after the end its last.ckpt records, as show says it (the row kept its first 1023).
    path = os.path.join(runs, name, "summary.json")
    with open(path, "rb") as f:
        good = f.read()
    data = good.replace(b'{', b'{"' + b"\\u0001" * 64 + b'": 1, ', 1)
    with open(path, "wb") as f:
        f.write(data)
    said = next((line for line in run(["sweep", "status", folder], cwd=scratch).stdout.splitlines()
                 if line.startswith(f"unreadable {name}: ")), "")
    named = os.path.join(folder, "runs", name)  # as status names it, by the folder it was given
    error = f"{named}/summary.json: {tools_word(tool_files.summary_record, data)}"
    want = tool_files.escaped(f"unreadable {name}: finished, as {named}/last.ckpt records, but {error} (the sweep "
                              "run again resumes it and writes its summary.json again)")
    check(len(tool_files.escaped(error)) > 1023 and said == want, f"a finished run's unreadable summary.json: sweep "
          f"status says {said[-300:]!r}, expected {want[-300:]!r}")
    with open(path, "wb") as f:
        f.write(good)
    name, path, written = damaged_resume(scratch, folder, swept)
    message = tool_files.summary_record(written)["message"]
    check(len(message) > 1023 and message.endswith("a rerun alone fails the same way"),
          f"a failure naming a long path, recorded: {message[-300:]!r}")
    start = written.index(b'"message": "') + len(b'"message": "')
    end = written.index(b'",', start)
    for what, text in [("as written", written[start:end]), ("escapes", b"\\u00e9\\/\\\"\\\\ \\ud83d\\ude00 \\ufffd")]:
        data = written[:start] + text + written[end:]
        with open(path, "wb") as f:
            f.write(data)
        shown = run(["sweep", "status", folder], cwd=scratch).stdout
        said = next((line for line in shown.splitlines() if line.startswith(f"failed {name}: ")), "")
        message = tool_files.summary_record(data)["message"]
        check(said == f"failed {name}: {message}",
              f"a failed run's message, {what}: sweep status says {said[:300]!r}, the tools {message[:300]!r}")
    # An unreadable summary.json's error, of more than 1023 bytes (its long path, a key of control
    # characters said \x01), said whole, as the tools word it (the row kept its first 1023).
    data = written.replace(b'{', b'{"' + b"\\u0001" * 64 + b'": 1, ', 1)
    with open(path, "wb") as f:
        f.write(data)
    said = next((line for line in run(["sweep", "status", folder], cwd=scratch).stdout.splitlines()
                 if line.startswith(f"unreadable {name}: ")), "")
    named = os.path.join(folder, "runs", name, "summary.json")  # as status names it, by the folder it was given
    error = tool_files.escaped(f"{named}: {tools_word(tool_files.summary_record, data)}")
    want = f"unreadable {name}: {error} (the sweep run again resumes it and writes its summary.json again)"
    check(len(error) > 1023 and said == want, f"an unreadable summary.json: sweep status says {said[-300:]!r}, "
          f"expected {want[-300:]!r}")
    # A failed run's message of more than 1023 bytes that its damaged line refers to: the
    # resume refused its metrics.jsonl, which the damaged line says once, not again (it compared
    # the row's first 1023 bytes; and the file's name as the error escapes it, \xe9, to the
    # name's bytes).
    for parts in [["e" * 200] * 4 + ["f" * 150], ["e" * 200] * 4 + [os.fsdecode(b"\xe9" * 40)]]:
        folder = os.path.join(*parts, "sweep")
        run(["sweep", "--spec", spec, "--out", folder, "--progress", "never"], cwd=scratch)
        run_folder = os.path.join(scratch, folder, "runs", name)
        os.remove(os.path.join(run_folder, "summary.json"))
        with open(os.path.join(run_folder, "metrics.jsonl"), "rb") as f:
            lines = f.read()
        with open(os.path.join(run_folder, "metrics.jsonl"), "wb") as f:
            f.write(lines.replace(b'"epoch":', b'"x":"\\q","epoch":', 1))
        run(["sweep", "--spec", spec, "--out", folder, "--progress", "never"], expect=1, cwd=scratch)
        shown = run(["sweep", "status", folder], cwd=scratch).stdout.splitlines()
        failed = next((line for line in shown if line.startswith(f"failed {name}: ")), "")
        damaged = next((line for line in shown if line.startswith(f"damaged {name}: ")), "")
        check(len(failed) > 1023 + len(f"failed {name}: ") and failed.endswith("an escape JSON does not have") and
              damaged.startswith(f"damaged {name}: its metrics.jsonl, as its failed line says ("),
              f"a failed run's damaged metrics.jsonl, in {parts[-1][:4]!r}...: sweep status says {failed[-200:]!r}, "
              f"then {damaged[:300]!r}")


def long_messages(scratch):
    """Messages past 1023 bytes reach summary.json whole, and one past the writer's room ends in
    a mark that the readers keep. A run's own failure (a last.ckpt write past the file-size
    limit, naming a long run folder) was cut at 1023 bytes, unmarked, before the writer; a
    failure whose message holds bytes that JSON writes as \\ufffd (6 bytes each) was cut by the
    writer at 3 KB, its end lost without a sign of it."""
    spec = tiny_spec(scratch)

    def small_files():  # the checkpoint's write fails (EFBIG), the small files' do not
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    whole = os.path.join(*["d" * 200] * 3, os.fsdecode(b"\xe9" * 150), "sweep")
    run(["sweep", "--spec", spec, "--out", whole, "--progress", "never"], expect=1, cwd=scratch,
        preexec_fn=small_files)
    runs = os.path.join(scratch, whole, "runs")
    with open(os.path.join(runs, os.listdir(runs)[0], "summary.json"), "rb") as f:
        message = tool_files.summary_record(f.read())["message"]
    check(len(message) > 1023 and "last.ckpt: write failed" in message and message.endswith("(no file written)"),
          f"a run's failure naming a long folder, recorded: {len(message)} bytes, ending {message[-200:]!r}")
    # The sweep's line for each configuration as it ends says the failure whole, a worker's too
    # (--jobs: its report through a pipe): both were cut at 1200 bytes, unmarked.
    two = os.path.join(scratch, "two.spec")
    with open(two, "w") as f:
        f.write(TINY_SPEC.replace("lr = 0.1", "lr = [0.1, 0.2]"))
    for jobs in ("1", "2"):
        folder = os.path.join(*["d" * 200] * 3, os.fsdecode(b"\xe9" * 150), "jobs-" + jobs)
        p = run(["sweep", "--spec", two, "--out", folder, "--progress", "never", "--jobs", jobs], expect=1,
                cwd=scratch, preexec_fn=small_files)
        ended = [line for line in p.stdout.splitlines() if line.startswith("sweep: [")]
        check(len(ended) == 2 and all(len(line) > 1200 and " failed: " in line and "(no file written)  lr=" in line
                                      for line in ended),
              f"a failure naming a long folder, --jobs {jobs}: the sweep's lines (length, end) "
              f"{[(len(s), s[-120:]) for s in ended]!r}")

    cut = os.path.join(*[os.fsdecode(b"\xe9" * 130)] * 3, "sweep")
    name, _, written = damaged_resume(scratch, cut)
    message = tool_files.summary_record(written)["message"]
    shown = run(["sweep", "status", cut], cwd=scratch).stdout
    said = next((line for line in shown.splitlines() if line.startswith(f"failed {name}: ")), "")
    check(len(written) <= 4096 and message.endswith("...") and "; remove " in message and
          said == f"failed {name}: {message}",
          f"a message past the writer's room: {len(written)} bytes written, ending {message[-100:]!r}; "
          f"status {said[-100:]!r}")


def unreadable_alike(scratch):
    """A finished run's unreadable summary.json in a run folder near JN_PATH_MAX bytes, of Latin-1
    bytes (each said \\xe9), with an error naming it: show's state line holds the words sweep
    status's unreadable line says, whole. Show held them in a summary message's 3 KB, where the
    end's name, last.ckpt's path and the error take more, and cut the error's end."""
    folder = os.path.join(*[os.fsdecode(b"\xe9" * 240)] * 3, os.fsdecode(b"\xe9" * 255), "s" * 20)
    _, runs, name = one_run_sweep(scratch, folder)
    path = os.path.join(runs, name, "summary.json")
    with open(path, "rb") as f:
        data = f.read().replace(b'{', b'{"' + b"\\u0001" * 64 + b'": 1, ', 1)
    with open(path, "wb") as f:
        f.write(data)
    status = next((line for line in run(["sweep", "status", folder], cwd=scratch).stdout.splitlines()
                   if line.startswith(f"unreadable {name}: ")), "")
    after = " (the sweep run again resumes it and writes its summary.json again)"
    words = status[len(f"unreadable {name}: "):-len(after)]
    last = os.path.join(folder, "runs", name, "last.ckpt")  # as status names it
    shown = next((line for line in run(["show", last], cwd=scratch).stdout.splitlines()
                  if line.startswith("state: ")), "")
    check(len(os.fsencode(last)) + len(words) > 3072 and status.endswith(after) and
          words.endswith("a key longer than 63 bytes") and
          shown.startswith(f"state: unreadable ({words}; --resume writes its summary.json again)"),
          f"an unreadable summary.json in a long folder: show says {shown[-200:]!r}, sweep status "
          f"{status[-200:]!r}")


def main():
    scratch = tempfile.mkdtemp(prefix="jacnoise-json-")
    folder = trained_run(scratch)
    check_summaries(folder)
    check_device_texts(folder)
    check_metrics(scratch, folder)
    check_messages(scratch)
    long_messages(scratch)
    unreadable_alike(scratch)
    return finish("json files", scratch)


if __name__ == "__main__":
    sys.exit(main())
