#!/bin/sh
# Builds the libFuzzer harnesses with clang (ASan + UBSan) and runs each for a while.
#
#   tools/fuzz.sh [SECONDS_PER_HARNESS] [HARNESS...]     (default 300 s; all harnesses)
#   tools/fuzz.sh --help
#   harnesses: idx idx_gzip usps data config checkpoint stepstate spec runfiles (tests/fuzz/CMakeLists.txt)
#
# Inputs the fuzzer finds interesting accumulate in build-fuzz/corpus/HARNESS (seeded from
# tests/fuzz/corpus). A crash is saved in build-fuzz/crashes/HARNESS and makes this script
# exit non-zero; copy the file into tests/fuzz/regressions/HARNESS/ and ctest replays it from
# then on (fix the bug first; run cmake again where that folder is new: it is looked for when
# cmake configures). CI runs this with a short time per harness.
set -eu
all="idx idx_gzip usps data config checkpoint stepstate spec runfiles"

# Refused before anything is built: libFuzzer reads a time that is not a number as 0, no limit.
usage_error() {
    echo "fuzz.sh: $* (see tools/fuzz.sh --help)" >&2
    exit 2
}
case ${1-} in
    -h | --help)
        sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
        exit 0 ;;
    -*) usage_error "$1: unknown option" ;;
esac
seconds=${1-300}
# x first: expr would read some words (length, a parenthesis) as its own.
expr "x$seconds" : 'x0*[1-9][0-9]*$' >/dev/null ||
    usage_error "'$seconds': SECONDS_PER_HARNESS is not a whole number above 0"
[ $# -gt 0 ] && shift
for h in "$@"; do
    case " $all " in *" $h "*) ;; *) usage_error "'$h': no such harness; the harnesses: $all" ;; esac
done
harnesses=${*:-$all}
cd "$(dirname "$0")/.."

CC=${CC:-clang} cmake -S . -B build-fuzz -DJACNOISE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJACNOISE_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null

status=0
for h in $harnesses; do
    seeds=$h
    [ "$h" = idx_gzip ] && seeds=idx
    mkdir -p "build-fuzz/corpus/$h" "build-fuzz/crashes/$h"
    cp -n tests/fuzz/corpus/"$seeds"/* "build-fuzz/corpus/$h/" 2>/dev/null || true
    log="build-fuzz/fuzz_$h.log"
    if "build-fuzz/tests/fuzz/fuzz_$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="build-fuzz/crashes/$h/" "build-fuzz/corpus/$h" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        printf '%-11s %10s executions in %ss, corpus %s files: no crash\n' "$h" "$runs" "$seconds" \
            "$(ls "build-fuzz/corpus/$h" | wc -l)"
    else
        echo "$h: CRASH (see $log; input in build-fuzz/crashes/$h/)" >&2
        tail -n 40 "$log" >&2
        status=1
    fi
done
exit $status
