#!/bin/sh
# Trains the paper's five rows (MLP, MLP+L2, MLP+N, MLP+J, MLP+N+J) one after the other and
# prints each run's best validation error and the test error of its best parameters, in %, to
# 2 decimals as tools/reproduce.py's table shows them ("-": none, as without a validation split).
# A row that diverges reads "diverged" and the others still train; the script then exits 3, as
# train does. A row that fails (a bad option) stops it, exit 1, with train's reason in one
# line; one stopped by SIGINT or SIGTERM (its run saved) stops it, exit 130 or 143. Running the same command again continues: a row
# already trained is read back, not trained again, and a stopped one resumes where it was.
#
#   tools/paper-rows.sh [OUT_PREFIX] [extra jacnoise train options...]
#   e.g. tools/paper-rows.sh runs/paper --data usps --hidden 1000 --lr 0.03 --epochs 100
#   tools/paper-rows.sh --help
#
# OUT_PREFIX (default runs/paper) starts each row's run folder and log, OUT_PREFIX-MLP and
# OUT_PREFIX-MLP.log: one ending in "/" is refused, as is one whose folder cannot be made. As
# a row starts training, one line on stderr names it and its log (where train's output goes).
# JACNOISE (default: build/jacnoise of this script's checkout) is the program: one that is not
# there is refused (exit 2) before anything is written. Each row's own options: MLP none,
# MLP+L2 --weight-decay 1e-3, MLP+N --input-noise 0.3, MLP+J --jac-target output --jac-lambda 1e-3,
# MLP+N+J --jac-target output --jac-lambda 1e-3 --jac-noise 0.1. These strengths are
# the best single settings of the USPS exploration (docs/exploration.md), found with
# --hidden 1000 --lr 0.03 (0.05 on MNIST), which the options must give: jacnoise's default
# rate is 0.01. They are starting points rather than tuned values; the options after the
# prefix go to every row, after its own (an option given twice takes its last value).
set -eu
# Answered here: passed on, `train --help` would print its own help into the first row's log
# and train nothing.
for arg; do
    case $arg in
        -h | --help)
            sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
            exit 0 ;;
    esac
done
bin=${JACNOISE:-$(dirname "$0")/../build/jacnoise}
# A missing program failed the first row only after its log was made ("exit 127").
case $bin in
    */*) [ -f "$bin" ] && [ -x "$bin" ] ;;
    *) command -v "$bin" >/dev/null ;;
esac || {
    echo "paper-rows: JACNOISE '$bin': no such program; build jacnoise, or set JACNOISE to it" >&2
    exit 2
}
# OUT_PREFIX is optional: a first argument that is an option starts the extra options.
prefix=runs/paper
case ${1:-} in
    -*) ;;
    ?*) prefix=$1; shift ;;
    *) [ $# -gt 0 ] && shift ;;
esac
# OUT_PREFIX starts file names: "runs/" would write runs/-MLP and runs/-MLP.log.
case $prefix in */)
    echo "paper-rows: OUT_PREFIX '$prefix' ends in '/': it starts the rows' names (e.g. ${prefix}paper: ${prefix}paper-MLP, ...)" >&2
    exit 2 ;;
esac

# A number of summary.json as the reproduction's table shows it: 2 decimals, rounded half up on
# its decimal text (printf's rounding of the binary value would differ at ties: 2.125 -> 2.12);
# "-" for null.
shown() {
    printf '%s\n' "$1" | awk '/^[0-9]+(\.[0-9]*)?$/ {
        split($0 ".", p, "."); f = substr(p[2] "000", 1, 3)
        n = p[1] * 100 + substr(f, 1, 2) + (substr(f, 3, 1) >= 5)
        printf "%d.%02d\n", int(n / 100), n % 100; next }
        { print "-" }'
}

diverged=0
run_row() {
    name=$1
    shift
    rc=0
    # --resume=auto: a rerun continues the row's run folder (a finished run just ends again),
    # which train would otherwise refuse; the log keeps each call's part. A row that diverged
    # before its first checkpoint has nothing to resume: its summary is its result.
    if [ ! -e "$prefix-$name/last.ckpt" ] && grep -q '"status": "diverged"' "$prefix-$name/summary.json" 2>/dev/null; then
        rc=3
    else
        # train's own progress goes to the log: without this line a row of minutes said nothing.
        echo "paper-rows: $name: training, its log in $prefix-$name.log" >&2
        "$bin" train --out "$prefix-$name" --progress never --resume=auto "$@" >>"$prefix-$name.log" 2>&1 || rc=$?
    fi
    if [ "$rc" = 3 ]; then  # a result of these settings, not a failure: the other rows still train
        printf '%-8s %7s %7s\n' "$name" diverged -
        diverged=1
        return 0
    elif [ "$rc" = 130 ] || [ "$rc" = 143 ]; then  # stopped by a signal, the run saved: not a failure
        echo "$name: stopped (exit $rc); run the same command again to continue, see $prefix-$name.log" >&2
        exit "$rc"
    elif [ "$rc" != 0 ]; then
        # train's last line says why (a bad option, a file it could not write).
        echo "$name: failed (exit $rc: $(tail -n 1 "$prefix-$name.log")), see $prefix-$name.log" >&2
        return 1
    fi
    # summary.json is ours: one "key": value per line.
    valid=$(sed -n 's/.*"best_valid_error": \([^,]*\),*/\1/p' "$prefix-$name/summary.json")
    test=$(sed -n 's/.*"test_error": \([^,]*\),*/\1/p' "$prefix-$name/summary.json")
    printf '%-8s %7s %7s\n' "$name" "$(shown "$valid")" "$(shown "$test")"
}

if ! made=$(mkdir -p "$(dirname "$prefix")" 2>&1); then
    echo "paper-rows: OUT_PREFIX '$prefix': cannot create its folder (${made##*: })" >&2
    exit 2
fi
printf '%-8s %7s %7s\n' row "valid %" "test %"
run_row MLP "$@"
run_row MLP+L2 --weight-decay 1e-3 "$@"
run_row MLP+N --input-noise 0.3 "$@"
run_row MLP+J --jac-target output --jac-lambda 1e-3 "$@"
run_row MLP+N+J --jac-target output --jac-lambda 1e-3 --jac-noise 0.1 "$@"
exit $((diverged * 3))
