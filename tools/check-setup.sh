#!/bin/sh
# Checks the README's two set-up commands as a new user runs them: on a fresh clone of HEAD in
# a temporary folder, the commands taken from the README itself (the sh blocks between the
# markers <!-- setup:first --> and <!-- setup:second -->), so they cannot drift.
#
#   tools/check-setup.sh        (CI runs it; it needs git, and no network when ../shared has the data)
#   tools/check-setup.sh --help
#
# The clone sits at TMP/jacnoise next to a link TMP/shared -> this checkout's ../shared, so
# `../shared/datasets` resolves in the clone exactly as in a developer's checkout and the data
# is found there, by the program's own search; $JACNOISE_DATA is unset for the clone (it would
# bypass that search). Without ../shared the first command downloads the data into the
# clone's data/ (from this checkout's data/ if it holds it).
#
# 1. the first command (install what is missing, get the data, build, train on MNIST);
# 2. the first command again, with apt-get, sudo, curl and wget replaced by stubs that fail
#    and record the call: it must succeed, call none of them, compile and link nothing, and
#    leave the finished run's checkpoints and metrics byte-identical (no training step);
# 3. the second command (build, all tests).
# Prints the time of each; exits non-zero on the first failure, with the command's output.
set -eu
# It takes no argument: anything else is refused before the minutes of cloning and building.
if [ $# -gt 0 ]; then
    case $1 in
        -h | --help)
            sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
            exit 0 ;;
        *)
            echo "check-setup: '$1': unknown argument (it takes none; see tools/check-setup.sh --help)" >&2
            exit 2 ;;
    esac
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jacnoise-setup.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    echo "check-setup: $*" >&2
    exit 1
}

# The one command line of the sh block after a marker.
command_after() {
    awk -v marker="<!-- setup:$1 -->" '
        $0 == marker { found = 1; next }
        found && /^```sh$/ { inside = 1; next }
        inside && /^```$/ { exit }
        inside { print }' "$repo/README.md"
}
first=$(command_after first)
second=$(command_after second)
for c in first second; do
    eval "text=\$$c"
    [ -n "$text" ] && [ "$(printf '%s\n' "$text" | wc -l)" -eq 1 ] ||
        fail "README.md: expected one command line in the sh block after <!-- setup:$c -->, found: '$text'"
done
echo "check-setup: first command:  $first"
echo "check-setup: second command: $second"

git clone -q "$repo" "$tmp/jacnoise"
clone=$tmp/jacnoise
if [ -d "$repo/../shared" ]; then
    ln -s "$(cd "$repo/../shared" && pwd)" "$tmp/shared"
elif [ -d "$repo/data" ]; then
    export JACNOISE_FETCH_FROM="$repo/data"
fi
unset JACNOISE_DATA

# The output of each test ctest reports failed (its last 80 lines), printed after the log's end,
# which holds only ctest's summary: so a CI log's tail says why, not only which.
failed_test_output() {
    awk '/Test +#[0-9]+: .*\*\*\*(Failed|Exception|Timeout)/ { name = $0; n = 0; inside = 1; next }
         inside && (/^ *Start +[0-9]+:/ || /^[0-9]+\/[0-9]+ Test/ || /tests passed, [0-9]+ tests failed/) {
             print "---- " name; for (i = (n > 80 ? n - 79 : 1); i <= n; i++) print line[i]; inside = 0 }
         inside { line[++n] = $0 }' "$1"
}

# run NAME COMMAND: runs COMMAND in the clone, output in $tmp/NAME.log; prints its time.
run() {
    start=$(date +%s)
    if ! (cd "$clone" && sh -c "$2") >"$tmp/$1.log" 2>&1; then
        tail -n 60 "$tmp/$1.log" >&2
        failed_test_output "$tmp/$1.log" >&2
        fail "$1: failed (the end of its output is above)"
    fi
    echo "check-setup: $1: $(($(date +%s) - start)) s"
}

run first "$first"
if [ -d "$repo/../shared/datasets" ]; then
    grep -q "mnist: found in ../shared/datasets" "$tmp/first.log" ||
        fail "first command: the data was not found in ../shared/datasets: $(grep -E 'mnist|usps' "$tmp/first.log")"
fi
grep -E '^(epoch |finished)' "$tmp/first.log" || fail "first command: it trained no epoch"
out=$(printf '%s\n' "$first" | sed -n 's/.*--out \([^ ]*\).*/\1/p')
[ -n "$out" ] && [ -f "$clone/$out/last.ckpt" ] || fail "first command: no run folder (--out '$out') with last.ckpt"
mkdir "$tmp/before"
cp "$clone/$out/last.ckpt" "$clone/$out/best.ckpt" "$clone/$out/metrics.jsonl" "$tmp/before/"

mkdir "$tmp/stubs"
for tool in apt-get apt sudo curl wget; do
    printf '#!/bin/sh\necho "%s $*" >> "%s/stub-calls"\nexit 1\n' "$tool" "$tmp" >"$tmp/stubs/$tool"
    chmod +x "$tmp/stubs/$tool"
done
saved_path=$PATH
PATH="$tmp/stubs:$PATH"
run first-again "$first"
PATH=$saved_path
[ ! -s "$tmp/stub-calls" ] || fail "first command, second run: called $(cat "$tmp/stub-calls")"
! grep -E 'Building (C|CXX|CUDA) object|Linking' "$tmp/first-again.log" ||
    fail "first command, second run: compiled or linked (above)"
for f in last.ckpt best.ckpt metrics.jsonl; do
    cmp -s "$tmp/before/$f" "$clone/$out/$f" || fail "first command, second run: $out/$f changed (it trained again)"
done
grep -E '^finished' "$tmp/first-again.log" || fail "first command, second run: no 'finished' line"

run second "$second"
grep -E 'tests passed' "$tmp/second.log"
