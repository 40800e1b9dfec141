#!/bin/sh
# Runs a jacnoise sweep on every GPU of this machine: one shard per GPU (CUDA_VISIBLE_DEVICES
# set to it), all into one sweep folder, then regenerates its results.csv.
#
#   tools/sweep-local-gpus.sh SPEC DIR [jacnoise sweep options...]
#   tools/sweep-local-gpus.sh --help
#
# GPUs: those listed in CUDA_VISIBLE_DEVICES (set and empty: none, as CUDA reads it), else,
# where it is unset, every one nvidia-smi lists; with none, exit 1 and the command that runs
# the sweep on the CPU instead (with --dry-run, that command's dry run, then that no shard would
# run and that command, to run without the --dry-run, exit 0). Each shard logs to DIR/shard-I.log; a shard
# that fails is named with its exit status and its log's last line; a SPEC that is no file, a
# DIR that is no folder, and a --shard, --spec or --out among the options (the script sets them:
# to split a sweep across machines, run jacnoise sweep --shard I/N on each) are refused first
# (exit 2), nothing made, and so are a bad spec or option (jacnoise's line and exit status,
# once, not once per shard). With --dry-run the whole sweep is checked once, its dry run's
# line and the shards it would run said, nothing written, exit 0. Interrupting this script
# (SIGINT, SIGTERM) interrupts every shard (they save their runs) and ends it with exit 130 or
# 143 once they have, and the folder is merged; running it again resumes. Environment:
# JACNOISE, the program (default: build/jacnoise of this script's checkout). In a Slurm array
# use tools/slurm/sweep.sbatch instead: this script's shards would replace the array's, and
# every task would run the whole sweep.
set -eu
case ${1-} in
    -h | --help)
        sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
        exit 0 ;;
esac
if [ $# -lt 2 ]; then
    echo "usage: $0 SPEC DIR [jacnoise sweep options...]" >&2
    exit 2
fi
spec=$1
dir=$2
shift 2
bin=${JACNOISE:-$(dirname "$0")/../build/jacnoise}
# Said once, before DIR is made: every shard would fail alike, each named with the shell's error.
# A path is tested as a file that runs: dash's command -v takes a folder or a file without x.
case $bin in
    */*) [ -f "$bin" ] && [ -x "$bin" ] ;;
    *) command -v "$bin" >/dev/null 2>&1 ;;
esac || {
    echo "$0: $bin: no jacnoise program there (build it, or set JACNOISE)" >&2
    exit 1
}
# A SPEC or DIR that cannot be one: said once, before DIR is made and filled with a log per
# shard that each says the same.
if [ ! -e "$spec" ]; then why="SPEC $spec: no such file"
elif [ ! -f "$spec" ]; then why="SPEC $spec: not a file"
elif [ -e "$dir" ] && [ ! -d "$dir" ]; then why="DIR $dir: not a folder"
else why=""; fi
[ -z "$why" ] || { echo "$0: $why" >&2; exit 2; }
# Options the script sets for every shard, which one given on would override: a --shard dealt
# every GPU the same shard (one trained it, the others failed on its runs, in use), a --spec or
# --out sent the shards away from the SPEC and DIR that the logs and the merge use. A word
# that is one of them is that option: jacnoise takes no value that starts with --. A --dry-run
# (where the last one given is true) is noted for below, and a --jobs for the CPU command.
dry=
jobs=
for word in "$@"; do
    case $word in
        --dry-run | --dry-run=true | --dry-run=1 | --dry-run=yes) dry=1; continue ;;
        --dry-run=*) dry=; continue ;;  # false, or a value the check below refuses
        --jobs | --jobs=*) jobs=1; continue ;;
        --shard | --shard=*) why="each GPU's shard is this script's (across machines, run jacnoise sweep --shard I/N)" ;;
        --spec | --spec=* | --out | --out=*) why="the sweep's spec and folder are SPEC and DIR" ;;
        *) continue ;;
    esac
    echo "$0: ${word%%=*}: not an option of this script: $why" >&2
    exit 2
done
gpus=${CUDA_VISIBLE_DEVICES-$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null | paste -sd, -)}
# The shard count is the number of GPUs the loop below starts shards on: an empty entry
# ("0,1,") counted as a GPU would leave a shard that no GPU runs.
gpus=$(echo "$gpus" | tr ',' ' ')
# Split on blanks only: an entry such as "*" is a GPU name (CUDA rejects it), not a file pattern.
set -f
count=$(set -- $gpus; echo $#)
if [ "$count" -eq 0 ]; then
    where="CUDA_VISIBLE_DEVICES lists none"
    [ -n "${CUDA_VISIBLE_DEVICES+set}" ] || where="CUDA_VISIBLE_DEVICES is unset and nvidia-smi lists none"
    # The command to copy: a word the shell would split or expand quoted, as shlex.quote does
    # ("--out my dir" read as --out my and an operand); --jobs N where the options give no
    # --jobs (given twice, the second overrode the first). Split unquoted: set -f is on.
    many="--jobs N"
    runs=", N runs at a time"
    [ -z "$jobs" ] || { many=""; runs=""; }
    cpu=""
    for word in "$bin" sweep --spec "$spec" --out "$dir" $many "$@"; do
        case $word in
            --dry-run | --dry-run=*) continue ;;  # the command to run: copied, it only dry-ran again
            '' | *[!A-Za-z0-9_@%+=:,./-]*) word="'$(printf '%s' "$word" | sed "s/'/'\"'\"'/g")'" ;;
        esac
        cpu="$cpu${cpu:+ }$word"
    done
    # A dry run says its plan, that no shard would run, after the CPU command's own dry run has
    # checked the spec and options (it said the advice alone, exit 1, nothing checked).
    if [ -n "$dry" ]; then
        "$bin" sweep --spec "$spec" --out "$dir" --progress never "$@" || exit $?
        printf '%s\n' "--dry-run: no shard would run: no GPU found ($where); on the CPU$runs: $cpu"
        exit 0
    fi
    echo "$0: no GPU found ($where); on the CPU$runs: $cpu" >&2
    exit 1
fi
# A --dry-run among the options: the whole sweep checked once, by its own dry run, and the
# shards it would run said; nothing written. Each shard made a dry run left DIR without a
# sweep.spec, which the merge then refused, exit 1.
if [ -n "$dry" ]; then
    "$bin" sweep --spec "$spec" --out "$dir" --device cuda --progress never "$@" || exit $?
    printf '%s\n' "--dry-run: $count shards would run, one per GPU ($(echo $gpus | tr ' ' ,))"
    exit 0
fi
# The spec and options (a shard's command line, checked with --dry-run: nothing written): a bad
# one is said once, in jacnoise's own line and exit status, before DIR is made; every shard
# would refuse it alike, each named with its log's last line.
"$bin" sweep --spec "$spec" --out "$dir" --shard "0/$count" --device cuda --progress never "$@" --dry-run \
    >/dev/null || exit $?
mkdir -p "$dir"
logs=${dir%/}  # DIR/ (as a shell completes it) names its logs DIR/shard-I.log, not DIR//shard-I.log
pids=""
started=""
i=0
for gpu in $gpus; do
    CUDA_VISIBLE_DEVICES=$gpu "$bin" sweep --spec "$spec" --out "$dir" --shard "$i/$count" --device cuda \
        --progress never "$@" >"$logs/shard-$i.log" 2>&1 &
    pids="$pids $!"
    started="${started}shard $i/$count on GPU $gpu: pid $!, log $logs/shard-$i.log
"
    i=$((i + 1))
done
# A stop is passed on to every shard, and the script ends with its status (130, 143) once they
# have saved and the folder is merged; a shard the stop ended is no failure. `|| true`: a shard
# that has already ended makes kill fail, which set -e would turn into leaving at once, without
# waiting for the others to save, naming them, or merging.
stopped=
stop() {
    stopped=${stopped:-$1}
    kill -TERM $pids 2>/dev/null || true
}
trap 'stop 130' INT
trap 'stop 143' TERM
# Said once the traps are set (set before the shards start, a trap ran in a shard that had not
# yet started its program, which then never heard the stop): from these lines on, a stop is
# passed on and the folder merged.
printf '%s' "$started"
status=0
i=0
for pid in $pids; do
    rc=0
    wait "$pid" || rc=$?
    while [ "$rc" -ne 0 ] && kill -0 "$pid" 2>/dev/null; do  # a trap cut the wait short: the shard still saves
        rc=0
        wait "$pid" || rc=$?
    done
    if [ -n "$stopped" ] && { [ "$rc" -eq 130 ] || [ "$rc" -eq 143 ]; }; then
        :
    elif [ "$rc" -ne 0 ]; then
        last=$(tail -n 1 "$logs/shard-$i.log" 2>&1) || true
        echo "$0: shard $i/$count exited with status $rc; the end of $logs/shard-$i.log: $last" >&2
        status=1
    fi
    i=$((i + 1))
done
# The merge regenerates the sweep folder's results.csv. DIR is a sweep folder once a shard has
# written its sweep.spec; where every shard failed before that, a merge would only say it is not.
if [ -f "$dir/sweep.spec" ]; then
    "$bin" sweep merge "$dir" || status=1
else
    echo "$0: no merge: no shard started the sweep in $dir (it holds no sweep.spec)" >&2
    status=1
fi
if [ -n "$stopped" ]; then
    echo "$0: stopped; the shards saved their runs: run the same command again to continue" >&2
    [ "$status" -ne 0 ] || status=$stopped
fi
exit $status
