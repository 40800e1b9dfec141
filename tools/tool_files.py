"""Files the tools read and write. Tables are read whole or refused with one line; files are
written atomically: a temporary file beside the target, renamed over it, so that a crash, a
signal or a full disk leaves the old file or the new one, never half of one, and no temporary
file behind. And the tools' command line (ArgumentParser), the way they end (run_program) and
matplotlib (pyplot)."""
import argparse
import csv
import ctypes
import errno
import io
import json
import math
import os
import re
import signal
import stat
import subprocess
import sys

DEBIAN_PYTHON = "/usr/bin/python3"


# Each named data set's (training file's examples, default --valid, test file's examples), as
# datasets/README.md gives them: what a run holds, known before jacnoise loads the files.
EXAMPLES = {"usps": (7291, 1000, 2007), "mnist": (60000, 10000, 10000), "mnist-binary": (60000, 10000, 10000)}


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, refusing a bad command line as jacnoise does: one line naming the
    option, 'TOOL: MESSAGE', exit 2, without argparse's usage line before it (--help prints the
    usage). The tools' own checks of their options call error() too. An option is given whole,
    as jacnoise takes it: argparse's abbreviations ('--be 3' for --best) are unknown options,
    lest a later option sharing the prefix change what a script's call means."""

    def __init__(self, *args, **kw):
        super().__init__(*args, allow_abbrev=False, **kw)

    def error(self, message):
        # An empty name (name_of) as jacnoise refuses it, '--out '': empty folder name' or, an
        # operand's, 'DIR '': empty folder name', where argparse wrote 'argument --out: empty
        # folder name' ('argument DIR: ...'); and a number that is none, '--jobs 2x: not a whole
        # number', where it wrote 'argument --jobs: invalid int value: '2x''.
        empty = re.fullmatch(r"argument (\S+): (empty \w+ name)", message)
        if empty:
            message = f"{empty[1].split('/')[-1]} '': {empty[2]}"
        number = re.fullmatch(r"argument (-\S+): invalid int value: '(.*)'", message, re.S)
        if number:
            message = f"{number[1].split('/')[-1]} {number[2] or repr('')}: not a whole number"
        self.exit(2, f"{tool_name(self.prog)}: {escaped(message)}\n")


class BenchParser(ArgumentParser):
    """The benchmarks' command line (bench/*.py, run_peers.py), refusing a bad one in the words of
    the C benchmarks' (bench/bench_args.h), where argparse's own ('argument --reps: invalid int
    value', 'expected one argument') read otherwise: '--reps 0: out of range [1, 1000]' (whole()),
    '--reps 2x: not a value it takes (see TOOL --help)', '--reps: needs a value (...)', '--zz:
    unknown option (...)', an abbreviation ('--conf 3' for --configs) among them."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.ranges = {}

    def add_argument(self, *args, **kw):
        # Each value passes through here, which refuses it naming its option (its last
        # spelling); a choice not among the choices is refused here too, at its own value
        # (argparse checks a list's after all).
        if kw.get("action", "store") in ("store", "append"):
            option, convert, choices = args[-1], kw.get("type") or str, kw.get("choices")

            def value(text):
                try:
                    v = convert(text)
                    if choices is None or v in choices:
                        return v
                except argparse.ArgumentTypeError as e:  # a reason of the type's own
                    shown = text or "''"  # an empty value, as jacnoise shows it
                    self.error(f"{option} {shown}: {e}")
                except (TypeError, ValueError):
                    pass
                self.error(f"{option} {text}: not a value it takes {self.see_help()}")
            kw["type"] = value
        return super().add_argument(*args, **kw)

    def see_help(self):
        """Where a refusal sends its reader, as the C benchmarks' do."""
        return f"(see {tool_name(self.prog)} --help)"

    def whole(self, option, default, lo, hi, what, metavar="N", nargs=None):
        """A whole-number option (or, nargs "+", a list of them) in [lo, hi]."""
        self.ranges[option] = (lo, hi)
        shown = " ".join(map(str, default)) if nargs else default
        self.add_argument(option, type=whole_number, default=default, metavar=metavar, nargs=nargs,
                          help=f"{what}, {metavar} in [{lo}, {hi}] (default: {shown})")

    def parse_args(self, args=None, namespace=None):
        a = super().parse_args(args, namespace)
        for option, (lo, hi) in self.ranges.items():
            given = getattr(a, option[2:].replace("-", "_"))
            for value in given if isinstance(given, list) else [given]:
                if not lo <= value <= hi:
                    self.error(f"{option} {value}: out of range [{lo}, {hi}]")
        return a

    def error(self, message):
        # The refusals argparse itself makes, read from its message (its documented hook):
        # an option without its value, an unknown one, a required one left out.
        missing = re.fullmatch(r"argument (\S+): expected .*", message)
        if missing:
            message = f"{missing[1].split('/')[-1]}: needs a value {self.see_help()}"
        elif message.startswith("unrecognized arguments: "):
            message = f"{message.split(': ', 1)[1].split(' ')[0]}: unknown option {self.see_help()}"
        elif message.startswith("the following arguments are required: "):
            message = f"{message.split(': ', 1)[1]}: required {self.see_help()}"
        super().error(message)


def whole_number(text):
    """A whole number written as the C benchmarks take one: digits, a minus sign before them
    at most (int() also takes ' 5', '+5' and '1_000')."""
    if not re.fullmatch(r"-?[0-9]+", text):
        raise ValueError(text)
    return int(text)


def widths(text):
    """An argument type for hidden widths as jacnoise takes them (--hidden): comma-separated,
    each in [1, 1000000], 1 to 15; refused up front, not by jacnoise part way through a run."""
    parts = text.split(",")
    try:  # whole_number: isdigit() took other scripts' digits ('١'), which jacnoise refuses
        taken = 1 <= len(parts) <= 15 and all(1 <= whole_number(p) <= 1000000 for p in parts)
    except ValueError:
        taken = False
    if not taken:
        raise argparse.ArgumentTypeError("expected 1 to 15 widths in [1, 1000000], comma-separated")
    return text


def name_of(noun):
    """An argument type for a file or folder name (noun: "file", "folder") that refuses an empty
    one, as jacnoise does: '' names nothing, and was read as the current folder's file or as the
    option left out."""
    def name(text):
        if not text:
            raise argparse.ArgumentTypeError(f"empty {noun} name")
        return text
    return name


def tool_name(path=None):
    """The name a tool's messages start with: its file's, without .py."""
    return os.path.splitext(os.path.basename(path or sys.argv[0]))[0]


def lacking(module, fail):
    """fail(message) for a module the running python3 lacks: one line naming that python3 and
    where to get the module. Debian's python3-MODULE (which tools/setup.sh installs) equips
    Debian's python3, which need not be the python3 first in PATH (pyenv's, conda's): where that
    one has the module, the line says to run the tool with it."""
    lacks = f"{module}, which {sys.executable} lacks"
    if sys.executable != DEBIAN_PYTHON and os.access(DEBIAN_PYTHON, os.X_OK) and subprocess.run(
            [DEBIAN_PYTHON, "-c", f"import {module}"], capture_output=True).returncode == 0:
        fail(f"{lacks}; {DEBIAN_PYTHON} has it: run {DEBIAN_PYTHON} {sys.argv[0]} ...")
    fail(f"{lacks} (Debian: apt-get install python3-{module}, for {DEBIAN_PYTHON})")


def pyplot(fail):
    """matplotlib.pyplot, drawing to files (Agg); without matplotlib, lacking() says so."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        lacking("matplotlib", fail)


def jacnoise_program():
    """JACNOISE, else build/jacnoise of the tools' own checkout, whatever folder they are run
    from (as tools/paper-rows.sh and tools/sweep-local-gpus.sh find it)."""
    return os.environ.get("JACNOISE") or os.path.normpath(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "jacnoise"))


def output_of(cmd):
    """subprocess.run(cmd) with its standard output and error captured as text; a file name
    jacnoise prints with bytes that are not UTF-8 is kept with them (as run_program prints it),
    not a UnicodeDecodeError."""
    return subprocess.run(cmd, capture_output=True, text=True, errors="surrogateescape")


def _utf8_pieces(text):
    """(bytes, character) for each UTF-8 sequence of text's bytes (a name's undecodable bytes
    kept by surrogateescape), or (byte, None) for a byte that starts none: Python's decoder may
    take a cut sequence's bytes as one."""
    raw, at = os.fsencode(text), 0
    while at < len(raw):
        for n in (1, 2, 3, 4):
            try:
                yield raw[at:at + n], raw[at:at + n].decode()
                at += n
                break
            except UnicodeDecodeError:
                pass
        else:
            yield raw[at:at + 1], None
            at += 1


def json_name(path):
    """path as jacnoise writes a name into JSON (jn_json_string): a byte that starts no UTF-8
    sequence as U+FFFD."""
    return "".join("\ufffd" if char is None else char for _, char in _utf8_pieces(path))


NAMED_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escaped(text):
    """text as jacnoise's messages echo a name (jn_escape_text): newline, carriage return and
    tab as \\n \\r \\t, other control characters (C0, DEL, C1) and bytes that are not UTF-8 as
    \\xHH, so that a name neither breaks the message's one line nor drives the terminal; a
    backslash as it is, so that a message quoting jacnoise's is not escaped twice."""
    out = []
    for raw, char in _utf8_pieces(text):
        if char is not None and (ord(char) < 0x20 or 0x7f <= ord(char) < 0xa0):
            out.append(NAMED_CONTROLS.get(char) or "".join(f"\\x{b:02x}" for b in raw))
        else:
            out.append(char if char is not None else f"\\x{raw[0]:02x}")
    return "".join(out)


def say(message, tool=None):
    """One line on stderr, 'TOOL: MESSAGE' (TOOL: tool_name() unless given), the names in it
    escaped as jacnoise escapes them."""
    print(f"{tool or tool_name()}: {escaped(message)}", file=sys.stderr, flush=True)


def failing(tool):
    """The fail(message, status=1) of a tool's module: ends the program with say(message, tool),
    exit status `status`, naming the module whichever tool imported it."""
    def fail(message, status=1):
        say(message, tool)
        sys.exit(status)
    return fail


DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def decimal(text):
    """The finite number text is, written as a decimal as jacnoise writes and reads numbers
    (jn_parse_decimal), else None: float() takes nan, inf, 1_000 and surrounding spaces too."""
    value = float(text) if DECIMAL.fullmatch(text) else math.inf
    return value if math.isfinite(value) else None


def how_it_failed(returncode, stderr):
    """How a program the tool ran failed, in one line: its exit status (or the signal that
    killed it) and its last line on stderr, which says why (the lines before it, progress or
    warnings, would make the tool's message several lines)."""
    if returncode < 0:
        try:
            end = f"killed by {signal.Signals(-returncode).name}"
        except ValueError:  # a real-time signal, which has no name of its own
            end = f"killed by signal {-returncode}"
    else:
        end = f"exit {returncode}"
    lines = stderr.strip().splitlines()
    return f"{end}: {lines[-1]}" if lines else f"{end}, no message"


class Terminated(BaseException):
    """SIGTERM, or SIGHUP (its terminal closed), raised where the tool is as Ctrl-C raises
    KeyboardInterrupt, so that it ends as cleanly: their default would end it at once, its
    temporary file left behind. words: how run_program's line says it, as jacnoise does."""

    def __init__(self, words="terminated"):
        super().__init__(words)
        self.words = words


def terminate(signum, frame):
    """The handler of SIGTERM and SIGHUP (catch_termination's, reproduce.py's)."""
    raise Terminated("terminated (its terminal hung up)" if signum == signal.SIGHUP else "terminated")


def catch_termination():
    """From now on SIGTERM, and SIGHUP unless it was ignored at the start (nohup, to outlive
    the terminal; it stays ignored, as in jacnoise), raise Terminated."""
    signal.signal(signal.SIGTERM, terminate)
    if signal.getsignal(signal.SIGHUP) != signal.SIG_IGN:
        signal.signal(signal.SIGHUP, terminate)


def run_program(main, note=""):
    """Runs a tool's main() as a program, exiting with the status it returns. Ctrl-C (SIGINT)
    and SIGTERM end it as they end jacnoise: one line, 'TOOL: interrupted' or 'TOOL: terminated'
    (TOOL: tool_name(); note appended), status 130 or 143, not a traceback; so does SIGHUP, its
    terminal closing ('TOOL: terminated (its terminal hung up)', 143), unless it was started
    ignoring SIGHUP (nohup), which it then keeps ignoring, as jacnoise does; no file is left
    half-written, as replace() removes its temporary file on the way out. And `tool | head -1`
    ends it, once the reader has gone, by SIGPIPE and without a word, as it ends a C program,
    not with a BrokenPipeError traceback or an error blaming the file being written (none is
    written to standard output). A file name with bytes that are not UTF-8 is printed with
    those bytes where no message escapes it (say, fail): Python would print '\\udcff' on stderr
    and, in a UTF-8 locale other than C.UTF-8, fail on stdout."""
    for stream in (sys.stdout, sys.stderr):
        if stream:  # None where the tool was started with the descriptor closed
            stream.reconfigure(errors="surrogateescape")
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    catch_termination()
    try:
        status = main()
    except KeyboardInterrupt:
        print(f"{tool_name()}: interrupted{note}", file=sys.stderr)
        sys.exit(130)
    except Terminated as e:
        print(f"{tool_name()}: {e.words}{note}", file=sys.stderr)
        sys.exit(143)
    sys.exit(status)


def read_csv(path, fail, hint=""):
    """(rows as dicts, header) of a CSV file; a file that cannot be read or parsed calls
    fail(message) with one line naming it (hint appended to an unreadable one), and so does one
    without a newline at its end: jacnoise and the tools end every line of their tables with
    one, so that such a file was cut short, perhaps inside its last value. A UTF-8 byte-order
    mark, as a spreadsheet saving "CSV UTF-8" writes, is no part of the first column's name."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
        if text and not text.endswith("\n"):
            fail(f"{path}: cut short: no newline at its end (a table edited by hand: end it with one)")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        return list(reader), reader.fieldnames or []
    except OSError as e:
        fail(f"{path}: {e.strerror}{hint}")
    except (csv.Error, UnicodeDecodeError) as e:
        fail(f"{path}: not a readable CSV file ({e})")


# The keys of a metrics.jsonl line (metrics_keys, src/train/metrics.c): jacnoise writes each,
# a number it has none of (no validation set, a diverged loss) as null; a line without one is
# not jacnoise's, refused (jacnoise read the field as 0: a best validation error of 0%).
METRICS_KEYS = ("epoch", "step", "lr", "train_loss", "penalty", "weight_decay", "objective", "train_error",
                "valid_error", "test_error", "best", "seconds")


# A JSON string (bytes): its content, its closing quote (none where the data ends inside it: cut
# short) and, where it is a key, the ':' after it.
JSON_STRING = re.compile(rb'"((?:[^"\\]|\\.)*)(?:(")([ \t\n\r]*:)?|\\?\Z)', re.S)
# A value that is not a string as jacnoise reads one (json_scalar): up to a ',', '}' or space, a
# number as JSON writes it (json_number_form), true, false or null.
JSON_TOKEN = re.compile(r"[^,} \t\r\n]*")
JSON_SCALAR = re.compile(r"null|true|false|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# json's words for a fault of the object's structure, as jacnoise words it, at the same byte (a
# string's faults are json_strings').
JSON_FAULTS = {"Expecting property name enclosed in double quotes": "expected a string",
               "Illegal trailing comma before end of object": "expected a string",  # Python 3.13's, at the ','
               "Expecting ':' delimiter": "expected ':'", "Expecting ',' delimiter": "expected ',' or '}'"}
ESCAPE = re.compile(rb'\\(?:u([0-9a-fA-F]{4})|(.))', re.S)
JSON_SPACE = re.compile(r"[ \t\n\r]*")
JSON_KEY_START = re.compile(r'[ \t\n\r]*,?[ \t\n\r]*"')  # from the end of a member (or the '{') into the next key
KEY_BYTES = 63  # the longest key jacnoise reads (json_members, src/train/metrics.c)
STRING_BYTES = 3071  # the longest string value it reads (json_value, JN_SUMMARY_MESSAGE)


class JsonRefused(ValueError):
    """What flat_object refuses at byte `at` of its file: str() is 'byte AT: WHY', as jacnoise
    says it; `found`: where jacnoise's one pass finds it (a value's field at the value's end,
    after a fault inside its string), which of two faults it names."""

    def __init__(self, at, why, found=None):
        super().__init__(f"byte {at}: {why}")
        self.at, self.why, self.found = at, why, at if found is None else found


def bad_escape(content):
    """(offset, why) of the first escape in a string's content (bytes) that jacnoise refuses
    (json_string), as it reads them, pair by pair (a search for a backslash and a letter took the
    second half of "\\\\" for one, where both read "\\\\x" as a backslash and an x): one JSON has
    not, a \\u of fewer than four hex digits (json refused them too, naming a character), a
    \\u0000 (a C string ends at it) and half a surrogate pair (json reads a character that is
    not one); None where there is none."""
    at = 0
    while True:
        escape = ESCAPE.search(content, at)
        if not escape:
            return None
        if escape[2] is not None and escape[2] not in b'"\\/bfnrt':
            return escape.start(), "\\u without four hex digits" if escape[2] == b"u" else "an escape JSON does not have"
        at, u = escape.end(), int(escape[1] or "-1", 16)
        if u == 0:
            return escape.start(), "a \\u0000 (NUL) in a string"
        if 0xD800 <= u < 0xDC00:
            low = ESCAPE.match(content, at)
            if not (low and low[1] and 0xDC00 <= int(low[1], 16) < 0xE000):
                return escape.start(), "\\u of half a surrogate pair"
            at = low.end()  # the pair's second half, decoded with the first
        elif 0xDC00 <= u < 0xE000:
            return escape.start(), "\\u of half a surrogate pair"


def json_strings(data, base):
    """Refuses a string of data (bytes at byte `base` of its file) that jacnoise refuses
    (json_string, json_members), where it refuses it: an escape it refuses (bad_escape), one
    the data ends inside (cut short: 'unterminated string' at the data's end, json named the
    string's first byte), a string value longer than jacnoise holds (STRING_BYTES); a key with a byte that is not UTF-8
    (json read it as U+FFFD), longer than jacnoise reads or given twice (json kept its last
    value), each key decoded as a string is ("\\u0065pochs" is "epochs")."""
    keys, after = set(), 0
    for string in JSON_STRING.finditer(data):
        if b"}" in data[after:string.start()]:  # the object's end: what follows is text after it
            break
        after = string.end()
        bad = bad_escape(string[1])
        if bad:
            raise JsonRefused(base + string.start(1) + bad[0], bad[1])
        if not string[2]:
            raise JsonRefused(base + len(data), "unterminated string")
        at = base + string.start()
        if string[3]:
            try:
                string[1].decode()
            except UnicodeDecodeError as e:
                raise JsonRefused(base + string.start(1) + e.start, "a key with a byte that is not UTF-8")
        text = json.JSONDecoder(strict=False).decode('"' + string[1].decode("utf-8", "surrogateescape") + '"')
        encoded = text.encode("utf-8", "surrogateescape")
        if not string[3]:
            if len(encoded) > STRING_BYTES:
                raise JsonRefused(at, f"a string longer than {STRING_BYTES} bytes")
            continue
        if len(encoded) > KEY_BYTES:
            shown = encoded[:KEY_BYTES].decode(errors="ignore")  # whole characters, as jacnoise shows it
            raise JsonRefused(at, f'"{shown}...": a key longer than {KEY_BYTES} bytes')
        if text in keys:
            raise JsonRefused(at, f'"{text}" given twice')
        keys.add(text)


def flat_object(data, base=0, field=None):
    """The flat JSON object data (bytes, at byte `base` of its file) holds, as jacnoise's reader
    takes one (json_object, src/train/metrics.c): the whole of data, spaces aside; decimal
    numbers within a double, true, false, null and strings (a raw control byte kept, as jacnoise
    keeps it; a byte that is not UTF-8 kept as a surrogate escape, one byte as jacnoise counts
    it), no nesting, and keys as json_strings takes them. field(key, value), for each member as
    it is read, says what is wrong with the value (None: nothing), as jacnoise's field callback
    does: refused at the value's byte, in the order jacnoise reads the file. Raises ValueError
    saying what is wrong, JsonRefused where jacnoise names a byte."""
    scalar = "expected a decimal number, true, false or null"

    def number(text, kind):
        if not math.isfinite(float(text)):
            raise ValueError(f"{text}: beyond a double")
        return kind(text)

    # jacnoise reads in one pass and names the first fault: a string's found here (json_strings)
    # is said where none comes before it in json's reading below (a number, the structure).
    try:
        json_strings(data, base)
        string_fault = None
    except JsonRefused as e:
        string_fault = e
    # Each byte that is not UTF-8 one character, to name bytes where json names characters.
    text = data.decode("utf-8", "surrogateescape")

    def byte(pos):
        return base + len(text[:pos].encode("utf-8", "surrogateescape"))

    def members(s_and_end, strict, scan_once, *rest):
        """The object's members, each value refused where it starts, as jacnoise names it: one
        that is not a string, nor read whole as JSON_SCALAR (NaN, +1, 1., a nested value, none
        before a ',') or beyond a double (json named no byte, or where its reading stopped, in
        its words); and a value field() refuses (the key read again from where the member
        before ended: json hands the value alone)."""
        after = [s_and_end[1]]

        def value(s, pos):
            if s[pos:pos + 1] != '"' and not JSON_SCALAR.fullmatch(s, pos, JSON_TOKEN.match(s, pos).end()):
                raise JsonRefused(byte(pos), scalar)
            try:
                read, end = scan_once(s, pos)
            except json.JSONDecodeError:
                raise
            except ValueError:
                raise JsonRefused(byte(pos), scalar) from None
            if field:
                key = json.decoder.scanstring(s, JSON_KEY_START.match(s, after[0]).end(), False)[0]
                wrong = field(key, read)
                if wrong:
                    raise JsonRefused(byte(pos), wrong, byte(end))
            after[0] = end
            return read, end
        return json.decoder.JSONObject(s_and_end, strict, value, *rest)
    decoder = json.JSONDecoder(parse_float=lambda t: number(t, float), parse_int=lambda t: number(t, int),
                               strict=False)
    decoder.parse_object = members
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # the C scanner calls no parse_object
    begin = JSON_SPACE.match(text).end()
    if text[begin:begin + 1] != "{":  # the first byte jacnoise reads: json read another value
        raise JsonRefused(byte(begin), "expected '{'")
    try:
        try:
            record, end = decoder.raw_decode(text, begin)
        except json.JSONDecodeError as e:
            if e.msg not in JSON_FAULTS:  # a string's (cut short, a bad escape): json_strings found it
                raise string_fault or JsonRefused(byte(e.pos), e.msg)
            # jacnoise names a ',' before the '}' at the '}', where it expects a key
            at = JSON_SPACE.match(text, e.pos + 1).end() if e.msg.startswith("Illegal") else e.pos
            raise JsonRefused(byte(at), JSON_FAULTS[e.msg])
        end = JSON_SPACE.match(text, end).end()
        if end < len(text):  # two summaries pasted together: json.loads refused them, jacnoise read the first
            raise JsonRefused(byte(end), "text after the object")
    except ValueError as e:
        first = string_fault is None or isinstance(e, JsonRefused) and e.found < string_fault.at
        raise e if first else string_fault from None
    if string_fault:
        raise string_fault
    return record


WRONG_KIND = "a value of the wrong kind"  # jacnoise's words (src/train/metrics.c)
NOT_COUNT = "expected a whole number"


def is_count(value, limit):
    """Whether value is a whole number in [0, limit), as jacnoise reads a count (is_count: 3.0
    is 3)."""
    return type(value) in (int, float) and 0 <= value < limit and value == int(value)


def metrics_record(line, base=0):
    """A line of metrics.jsonl (bytes, without its newline, at byte `base` of the file) as
    jacnoise reads one (metrics_line, src/train/metrics.c): one flat object (flat_object)
    without a string, with a whole epoch from 1, a whole step and each of METRICS_KEYS.
    Returns the object, epoch and step as ints (jacnoise reads 3.0 as epoch 3); raises
    JsonRefused saying what is wrong where jacnoise refuses the line (a missing key at the line's
    end, as jacnoise names it)."""
    counts = {"epoch": 2**31, "step": 2**64}

    def field(key, value):  # metrics_field
        if isinstance(value, str):
            return WRONG_KIND
        return NOT_COUNT if key in counts and not is_count(value, counts[key]) else None
    record = flat_object(line, base, field)
    for key in counts.keys() & record.keys():
        record[key] = int(record[key])
    if record.get("epoch", 0) == 0:
        raise JsonRefused(base + len(line), "no epoch")
    missing = next((key for key in METRICS_KEYS if key not in record), None)
    if missing:
        raise JsonRefused(base + len(line), f"no {missing}")
    return record


# The fields of summary.json jacnoise reads (summary_field, src/train/metrics.c), by kind; a text
# by the most bytes it holds (jn_summary_file, jn_device_info), cut there at a whole character.
SUMMARY_TEXTS = {"status": 31, "message": STRING_BYTES, "backend": 15, "device": 255, "compute_capability": 15,
                 "cuda_driver": 15, "cuda_runtime": 15, "pci_bus_id": 31, "blas": 255}
SUMMARY_COUNTS = {"threads": 2**31, "cuda_device": 2**31, "epochs": 2**31, "best_epoch": 2**31, "steps": 2**64}


def cut_text(raw, most):
    """raw (bytes) cut to at most `most` bytes as jacnoise cuts a text (summary_field): before the
    character the cut falls inside, by its continuation bytes (10xxxxxx), a stray byte that is
    not UTF-8 one byte (as U+FFFD, three, it was cut sooner than jacnoise cut it)."""
    if len(raw) <= most:
        return raw
    while most and raw[most] & 0xC0 == 0x80:
        most -= 1
    return raw[:most]


def summary_record(data):
    """A run's summary.json (bytes) as jacnoise reads one (jn_summary_read): one flat object
    (flat_object) with a status and epochs, its texts strings (cut as jacnoise cuts them:
    SUMMARY_TEXTS; a byte that is not UTF-8 read as U+FFFD), tf32 and tf32_override true or
    false, its counts whole numbers (ints here); epochs, best_epoch and steps only where they are
    numbers (jacnoise skips another kind there, as a later version's field). Returns the object;
    raises ValueError saying what is wrong where jacnoise refuses the file: json.load kept a key given
    twice, its last value, where jacnoise refuses the summary."""
    def counted(key, value):  # a count's key, and (but threads', cuda_device's) a number's
        return key in SUMMARY_COUNTS and (key in ("threads", "cuda_device") or type(value) in (int, float)
                                          or value is None)

    def field(key, value):  # summary_field
        if key in SUMMARY_TEXTS and not isinstance(value, str) or \
                key in ("tf32", "tf32_override") and not isinstance(value, bool):
            return WRONG_KIND
        return NOT_COUNT if counted(key, value) and not is_count(value, SUMMARY_COUNTS[key]) else None
    record = flat_object(data, 0, field)
    for key, value in record.items():
        if key in SUMMARY_TEXTS:  # a GPU's name of stray bytes, each written \ufffd, reads back longer
            record[key] = cut_text(value.encode("utf-8", "surrogateescape"), SUMMARY_TEXTS[key]).decode(
                "utf-8", "replace")
        if counted(key, value):
            record[key] = int(value)
    if not record.get("status"):
        raise ValueError("no status")
    if type(record.get("epochs")) is not int:  # jn_summary_write writes them in each
        raise ValueError("no epochs")
    return record


def metrics_lines(path):
    """The whole lines of a run's metrics.jsonl (bytes, without their newline), as jacnoise
    reads them (jn_metrics_read): each line up to its newline, and a last line without one
    where it reads whole (metrics_record: a hand edit dropped its newline); a last line torn by
    a crash inside the append never does, as each line ends its object, and is left out, as is
    one jacnoise would refuse (a bad field): it takes it for torn. A file that cannot be read
    raises OSError."""
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    last = lines.pop()
    try:
        metrics_record(last)
        lines.append(last)
    except ValueError:  # torn (or empty: the file ends with a newline)
        pass
    return lines


class MetricsRefused(ValueError):
    """A line of metrics.jsonl that jacnoise refuses (metrics_records), why: a JsonRefused at a
    byte of the file; str() is 'line N (byte B): WHY', as jacnoise says it. records holds the
    lines' records before it, by which sweep status still shows the run."""

    def __init__(self, line, why, records):
        super().__init__(f"line {line} (byte {why.at}): {why.why}")
        self.line, self.why, self.records = line, why, records


def metrics_records(path):
    """The records (metrics_record) of a run's whole metrics.jsonl lines (metrics_lines), as
    jacnoise reads them (jn_metrics_read): a line it refuses raises MetricsRefused, and so does
    an epoch at or below the one before it (a line pasted twice, lines moved by hand), as a
    resume refuses it: each epoch appends one line, after the last, and the tools counted an
    epoch twice, or out of order. A file that cannot be read raises OSError."""
    records, at = [], 0
    for n, line in enumerate(metrics_lines(path), 1):
        try:
            record = metrics_record(line, at)
        except JsonRefused as e:
            raise MetricsRefused(n, e, records)
        before = records[-1]["epoch"] if records else 0
        if record["epoch"] <= before:  # named at the line's first byte, as jacnoise names it
            what = f"a second line of epoch {before}" if record["epoch"] == before else \
                f"epoch {record['epoch']} after epoch {before}"
            raise MetricsRefused(n, JsonRefused(at, f"{what}: each epoch has one line, in order"), records)
        at += len(line) + 1
        records.append(record)
    return records


def replace(path, write, kind=None):
    """Calls write(tmp) with a temporary path beside `path` (write fsyncs it), then renames tmp
    over `path` and fsyncs the folder, as jacnoise writes its files: else a power cut could keep
    the old file, or lose a new one. If anything fails the temporary file is removed and the
    error raised. A `path` that is a folder, a symbolic link or a device or FIFO raises OSError
    first, as jacnoise refuses its outputs: the rename would replace it (/dev/full, run as
    root), not write to it. kind: (what, signature) of the files written, whose first bytes are
    signature: an existing file that does not begin so is someone's data, given as the output by
    mistake, and raises OSError rather than being replaced (an empty one holds nothing to lose).
    A `path` whose folder does not exist raises OSError naming the folder; one in or under a
    file, naming that file."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # the folder's absence is named below
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise OSError(errno.EEXIST, "is a folder; give a file name" if stat.S_ISDIR(mode)
                      else "is a symbolic link, which the write would replace; give the file it points to"
                      if stat.S_ISLNK(mode) else "not a regular file; give a file name", path)
    if mode is not None and kind:
        what, signature = kind
        with open(path, "rb") as f:
            head = f.read(len(signature))
        if head and head != signature:
            raise OSError(errno.EEXIST, f"exists and is not {what} (it does not begin as one); give another "
                          "file, or remove it", path)
    folder = os.path.dirname(path) or "."
    # A file further up (FILE/sub/x) is named as FILE/x's is, as jacnoise says it.
    above = folder
    while not os.path.exists(above) and os.path.dirname(above) not in ("", above):
        above = os.path.dirname(above)
    if os.path.exists(above) and not os.path.isdir(above):
        raise OSError(errno.ENOTDIR, f"{above} is not a folder", path)
    if not os.path.isdir(folder):  # as jacnoise says it: "No such file or directory" named no folder
        raise OSError(errno.ENOENT, f"no folder {folder} to write it in", path)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        write(tmp)
        os.replace(tmp, path)
        sync_folder(folder, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


_warned_unsynced = False


def sync_folder(folder, entry):
    """fsyncs a folder, making a rename in it durable, as jacnoise's jn_sync_folder does: one
    that cannot be opened (mode 0333) is synced through entry, the file renamed there (syncfs of
    its file system); where that cannot be opened either, one warning (once a process) names
    the folder. A file system that refuses fsync on folders is passed over, the rename atomic."""
    global _warned_unsynced
    try:
        fd = os.open(folder, os.O_RDONLY)
    except PermissionError:
        try:
            fd = os.open(entry, os.O_RDONLY)
        except PermissionError:
            if not _warned_unsynced:
                _warned_unsynced = True
                say(f"warning: {folder}: cannot open the folder, nor {entry} in it, to sync it "
                    f"({os.strerror(errno.EACCES)}): a power cut could lose what was renamed or made in it")
            return
        try:
            # Python has no os.syncfs; glibc's, as jacnoise calls it.
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.syncfs(fd) != 0:
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e), folder)
        finally:
            os.close(fd)
        return
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def write_synced(tmp, mode, put, **kw):
    """Opens tmp with mode, calls put(file), and flushes it to the disk: a rename of it may
    then be made durable."""
    with open(tmp, mode, **kw) as f:
        put(f)
        f.flush()
        os.fsync(f.fileno())


def write_text(path, text, kind=None):
    """Writes text to path atomically, flushed to the disk before the rename; a file name in it
    with bytes that are not UTF-8 is written with those bytes, as run_program prints it. kind:
    as replace's."""
    replace(path, lambda tmp: write_synced(tmp, "w", lambda f: f.write(text), errors="surrogateescape"), kind)


PNG = ("a PNG picture", b"\x89PNG\r\n\x1a\n")  # PNG's signature, its first 8 bytes


def save_png(fig, path, dpi=110):
    """Writes a matplotlib figure to path as a PNG, atomically, flushed to the disk before the
    rename (it was not: a power cut could leave an empty picture). A file at path that is no PNG
    is refused, kept (it replaced any, a data file among them)."""
    replace(path, lambda tmp: write_synced(tmp, "wb", lambda f: fig.savefig(f, dpi=dpi, format="png")), PNG)
