"""Each command's --help against what its parser accepts, and the README's option table against
the help: every option a command takes (as its refusal of an unknown one lists them) has a line
in its help, and the help offers no option the command refuses; every interval a refusal of a
value states ('out of range [1, 65536]', 'not an integer in [1, 1000000]') is on that option's
help line, so that the help gives each number's range; the README's table of options gives each
one's default as the help's brackets do, and names every option a command takes; its table of
commands names those `jacnoise --help` lists. Every command
line the READMEs show in their sh blocks (jacnoise's, the Python tools') parses: each option
and value of it is one the program takes.

Nothing runs: every command line ends with an unknown option, which the parser refuses after
the value tried, so a value it takes trains nothing.

Run by ctest with JACNOISE_BIN set."""
import os
import re
import shlex
import subprocess
import sys

from harness import BIN, check, finish

COMMANDS = ["train", "eval", "step", "data", "check", "profile", "sweep"]
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
README = os.path.join(ROOT, "README.md")
# The files whose sh blocks a user copies commands from.
EXAMPLES = [README, os.path.join(ROOT, "tools", "reproduce", "README.md"), os.path.join(ROOT, "datasets", "README.md")]
UNKNOWN = "--zz-no-such-option"
# Values out of every option's range one way or another: below, above a double's, above a long's.
PROBES = ["-1", "1e300", "99999999999999999999999"]
# A sweep's --threads (1 a run) and --out (the sweep folder, required) are its own, where the
# README's table gives train's.
SWEEP_OWN = {"threads", "out"}
INTERVAL = re.compile(r"[\[(][-+0-9.e]+, [-+0-9.e]+[\])]")


def jacnoise(args):
    return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=60)


def help_lines(cmd):
    """Option name -> its line in `jacnoise CMD --help`."""
    p = jacnoise([cmd, "--help"])
    check(p.returncode == 0, f"{cmd} --help: exit {p.returncode}")
    options = p.stdout.split("\noptions:\n", 1)[-1].split("\n\n", 1)[0]
    return {m.group(1): line for line in options.splitlines() if (m := re.match(r"  --([a-z0-9-]+)", line))}


def accepted(cmd):
    """The options the command's refusal of an unknown one lists as valid."""
    p = jacnoise([cmd, UNKNOWN, "1"])
    found = re.search(r"valid options: (.*)$", p.stderr.strip())
    check(p.returncode == 2 and found, f"{cmd} {UNKNOWN}: exit {p.returncode}, {p.stderr!r}")
    return {o[2:] for o in found.group(1).split()} if found else set()


def intervals_refused(cmd, option):
    """The intervals stated by the command's refusals of PROBES as the option's value."""
    found = set()
    for value in PROBES:
        p = jacnoise([cmd, f"--{option}", value, UNKNOWN])
        if f"--{option}" in p.stderr:
            found.update(INTERVAL.findall(p.stderr))
    return found


def readme_defaults():
    """Option name -> default, from the README's table under '### Options'."""
    text = open(README, encoding="utf-8").read().split("\n### Options\n", 1)[1].split("\n## ", 1)[0]
    defaults = {}
    for row in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        if len(cells) != 3 or not cells[0].startswith("`--"):
            continue
        names = re.findall(r"`--([a-z0-9-]+)", cells[0])
        values = re.findall(r"`([^`]*)`", cells[1]) or [""] * len(names)
        check(len(values) == len(names), f"README option row {cells[0]}: {len(names)} options, defaults {values}")
        defaults.update(zip(names, values))
    return defaults


def shown_commands(path):
    """The argument lists of jacnoise and of the Python tools in the file's sh blocks (lines
    continued with a backslash joined; a command given to `sbatch --wrap` included), with
    their program as this test runs it."""
    text = open(path, encoding="utf-8").read()
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            for piece in line.split(" #", 1)[0].split("&&"):
                words = shlex.split(piece)
                words += [w for word in words if word.startswith("build/jacnoise ") for w in shlex.split(word)]
                for at, word in enumerate(words):
                    if word in ("build/jacnoise", "jacnoise"):
                        yield [BIN] + words[at + 1:]
                        break
                    if word.endswith(".py") and word.startswith(("tools/", "bench/")):
                        yield [sys.executable, os.path.join(ROOT, word)] + words[at + 1:]
                        break


def examples_parse():
    """Each shown command with an unknown option after it: refused for that option alone (exit
    2), so every option and value before it was taken, and nothing ran."""
    count = 0
    for path in EXAMPLES:
        for cmd in shown_commands(path):
            count += 1
            p = subprocess.run(cmd + [UNKNOWN], capture_output=True, text=True, timeout=60, cwd=ROOT)
            shown = " ".join(cmd[1:])
            check(p.returncode == 2 and UNKNOWN in p.stderr and p.stderr.count("\n") == 1,
                  f"{os.path.relpath(path, ROOT)} shows '{shown}', which "
                  f"is refused: exit {p.returncode}, {p.stderr.strip()!r}")
    check(count >= 10, f"the READMEs' sh blocks read as {count} commands")


def commands_listed():
    """The commands `jacnoise --help` lists are those of the README's table under '## Commands',
    each answering its own --help; the commands this test holds to their options are among them.
    (Nothing compared the two lists: a command added to one alone went unnoticed.)"""
    p = jacnoise(["--help"])
    block = p.stdout.split("\ncommands:\n", 1)[-1].split("\n\n", 1)[0]
    listed = re.findall(r"^  ([a-z]+) ", block, re.M)
    text = open(README, encoding="utf-8").read().split("\n## Commands\n", 1)[-1].split("\n### ", 1)[0]
    table = re.findall(r"^\| `jacnoise ([a-z]+)", text, re.M)
    check(p.returncode == 0 and len(listed) >= len(COMMANDS), f"jacnoise --help: exit {p.returncode}, commands {listed}")
    check(sorted(listed) == sorted(table), f"jacnoise --help lists the commands {sorted(listed)}, "
          f"README's Commands table {sorted(table)}")
    check(set(COMMANDS) <= set(listed), f"jacnoise --help does not list {sorted(set(COMMANDS) - set(listed))}")
    for cmd in listed:
        h = jacnoise([cmd, "--help"])
        check(h.returncode == 0 and h.stdout.startswith(f"usage: jacnoise {cmd}"),
              f"{cmd} --help: exit {h.returncode}, {h.stdout[:80]!r}")


def info_help():
    """info's --help against what info prints: each line info prints is one of the parts its
    summary names, each part is printed, and what it says is what the program is (the check
    read only the lines info happened to print: an info that printed nothing passed it)."""
    usage = jacnoise(["info", "--help"])
    summary = " ".join(usage.stdout.split("\n\n")[1].split()) if "\n\n" in usage.stdout else ""
    options = usage.stdout.split("\noptions:\n", 1)[-1].strip().splitlines()
    check(usage.returncode == 0 and [o.split()[0] for o in options] == ["--help"],
          f"info --help: exit {usage.returncode}, options {options} (info takes none)")
    p = jacnoise(["info"])
    check(p.returncode == 0 and not p.stderr, f"info: exit {p.returncode}, {p.stderr!r}")
    lines = p.stdout.splitlines()
    version = jacnoise(["--version"]).stdout.strip()
    # The data sets the --data help names with files of their own (mnist-binary reads mnist's).
    data_help = help_lines("data").get("data", "")
    sets = [s for s in ("mnist", "usps") if s in data_help]
    parts = [(["version"], re.escape(version)),
             (["precision"], r"precision: (float32|float64)"),
             (["BLAS"], r"blas: \S.*"),
             (["core", "threads", "CPU"], r"blas core: \S.* \(.+\), (1 thread|(?!1 )\d+ threads); CPU: \S.*"),
             (["CUDA"], r"cuda: (built in, \d+ device\(s\) visible.*|not built \(.+\))")]
    parts += [(["data folder of each named set"], rf"data {s}: (not found \(.+\)|\S.*)") for s in sets]
    for named, pattern in parts:
        shown = [line for line in lines if re.fullmatch(pattern, line)]
        check(len(shown) == 1, f"info prints {len(shown)} lines of its {named[0]} (/{pattern}/): {p.stdout!r}")
        for word in named:
            check(word in summary, f"info prints its {word}, which its --help summary does not name: {summary!r}")
    for line in lines:
        check(any(re.fullmatch(pattern, line) for _, pattern in parts),
              f"info prints {line!r}, none of the parts its --help summary names ({summary!r})")
    check(len(sets) == 2 and lines[:1] == [version], f"info: data sets {sets}, first line {lines[:1]} (the version "
          f"{version!r} expected)")
    # Where info finds a set, its folder is the one the set loads from.
    for s in sets:
        found = re.search(rf"^data {s}: (?!not found \()(.*)$", p.stdout, re.M)
        if found and s == "usps":  # the small one: loaded in a second
            d = jacnoise(["data", "--data", s])
            folder = re.search(r'"folder": "(.*)"', d.stdout)
            check(folder and folder.group(1) == found.group(1),
                  f"info finds {s} in {found.group(1)}, data --data {s} loads it from {folder and folder.group(1)}")


def main():
    examples_parse()
    commands_listed()
    readme = open(README, encoding="utf-8").read()
    table = readme_defaults()
    refused = {}  # option -> the intervals its refusals state
    for cmd in COMMANDS:
        lines = help_lines(cmd)
        takes = accepted(cmd)
        for option in sorted(takes - set(lines)):
            check(False, f"{cmd} takes --{option}, which its --help does not list")
        for option in sorted(set(lines) - takes - {"help"}):
            check(False, f"{cmd} --help lists --{option}, which {cmd} refuses as unknown")
        for option in sorted(takes & set(lines)):
            line = lines[option]
            # An option's values are parsed alike by every command: probed once, where first met.
            if option not in refused:
                refused[option] = intervals_refused(cmd, option)
            for interval in sorted(refused[option]):
                check(interval in line, f"{cmd}: --{option}'s refusal states {interval}, its help line does not: "
                      f"{line.strip()!r}")
            check(f"`--{option}" in readme, f"{cmd} takes --{option}, which README.md never names")
            if option in table:
                default = re.search(r" \[([^][]*)\]$", line)
                shown = default.group(1) if default else ""
                if not (cmd == "sweep" and option in SWEEP_OWN):
                    check(table[option] == shown, f"README's table gives --{option} the default {table[option]!r}, "
                          f"{cmd} --help [{shown}]")
    # check compares the GEMM precision asked, whatever the checkpoint's run trained in
    # (run_state.c; test_check checks an fp32 run in tf32): its help said only its own options.
    usage = jacnoise(["check", "--help"]).stdout
    with_checkpoint = " ".join(usage.split("With --checkpoint", 1)[-1].split("\n\n", 1)[0].split())
    check("--precision may differ from the run's" in with_checkpoint,
          f"check --help does not say --precision may differ from a checkpoint's run: {with_checkpoint!r}")
    # A warm-up round runs each variant's step and its GEMM floor, as a timed round does: the
    # help said "untimed steps", which left the floors out.
    warmup = help_lines("profile").get("warmup", "")
    check("round" in warmup and "floor" in warmup, f"profile --help: --warmup does not say what a warm-up "
          f"round runs: {warmup.strip()!r}")
    info_help()
    check(sum(map(len, refused.values())) > 10, f"the refusals read state {sum(map(len, refused.values()))} intervals")
    check(len(table) > 30, f"README's option table read as {len(table)} options")
    return finish("help")


if __name__ == "__main__":
    sys.exit(main())
