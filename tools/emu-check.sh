#!/usr/bin/env bash
# The CUDA engine under test without a GPU: builds it against the CUDA emulator beside the
# checkout (../shared/emu: the CUDA runtime, kernels, cuBLAS, cuRAND, CUB and NVTX emulated on
# the CPU under AddressSanitizer and UBSan) and runs the GPU-labelled tests, `jacnoise check`
# on 31 configurations (fp32) and 8 more in TF32, byte-identical determinism, emulator
# variants that must not change a result, a short `train --device cuda` with `eval`, the
# lock-step test under the race check and with shuffled blocks, `check` of every kind of penalty
# pass under the race check, the step and sweep benchmarks at --small, and the paper's table
# at the smoke budget on the CUDA backend. Any failure, emulator finding or sanitizer report
# fails it, and so does a GPU-labelled test that did not run. CI runs it on every commit (.ci/run); a developer runs the same:
#
#   tools/emu-check.sh [BUILD_DIR [RESULTS_DIR]]      (defaults: build-emu, emu-results)
#   tools/emu-check.sh --help
#
# BUILD_DIR and RESULTS_DIR given relative are in the checkout, wherever it is run from.
# Environment: JACNOISE_EMU (the emulator, default ../shared/emu), JACNOISE_DATA (MNIST and
# USPS, default ../shared/datasets), JOBS (build jobs, default nproc).
# Where the emulator is absent (a user's clone) it says so in one line and exits 0.
set -uo pipefail
# Answered before anything is built or RESULTS_DIR's summary emptied: "--help" would otherwise
# be taken for BUILD_DIR.
usage_error() {
    echo "emu-check: $* (usage: tools/emu-check.sh [BUILD_DIR [RESULTS_DIR]])" >&2
    exit 2
}
case ${1-} in
    -h | --help)
        sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
        exit 0 ;;
esac
[ $# -le 2 ] || usage_error "$# arguments: it takes at most two"
for arg in "$@"; do
    case $arg in -*) usage_error "'$arg': unknown option" ;; esac
done
cd "$(dirname "$0")/.."
EMU=${JACNOISE_EMU:-../shared/emu}
if [ ! -x "$EMU/build.sh" ]; then
    echo "emu-check: skipped: no CUDA emulator at $EMU (set JACNOISE_EMU to use one elsewhere)"
    exit 0
fi
DATA=${JACNOISE_DATA:-../shared/datasets}
if [ ! -d "$DATA" ]; then
    echo "emu-check: no data at $DATA (set JACNOISE_DATA to the folder with MNIST and USPS)" >&2
    exit 1
fi
BUILD=${1:-build-emu}
RES=${2:-emu-results}
# A RESULTS_DIR it cannot enter would leave RES empty: the summary and findings written as
# /summary.txt and /findings.log.
[ ! -e "$RES" ] || [ -d "$RES" ] || usage_error "RESULTS_DIR '$RES': not a folder"
if ! made=$(mkdir -p "$RES" 2>&1 && cd "$RES" 2>&1 && pwd); then
    echo "emu-check: RESULTS_DIR '$RES': cannot create or enter it (${made##*: })" >&2
    exit 1
fi
RES=$made
DATA=$(cd "$DATA" && pwd)
export JACNOISE_DATA=$DATA
export EMU_LOG=$RES/findings.log
# The emulator's build lets UBSan recover: a report was a line on a stderr the tests capture,
# exit 0, and passed. Fatal here, as in the sanitizer build (-fno-sanitize-recover=all).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1
SUMMARY=$RES/summary.txt
# EMU_LOG also receives the emulator's information lines (an injected fault, a refused launch):
# only FINDING lines count.
findings() { grep -c FINDING "$EMU_LOG"; }
: >"$SUMMARY"
: >"$EMU_LOG"
failures=0
say() { echo "$*" | tee -a "$SUMMARY"; }

# step NAME COMMAND...: runs with its output in RESULTS/NAME.log; one summary line with the
# exit status, the time, the findings it added and its last verdict line.
step() {
    local name=$1
    shift
    local before start rc
    before=$(findings)
    start=$(date +%s)
    "$@" >"$RES/$name.log" 2>&1
    rc=$?
    local added=$(($(findings) - before))
    local last
    last=$(grep -E "^(passed|FAILED):|checks, [0-9]+ failed|checks passed|failure\(s\)|skipped" "$RES/$name.log" | tail -1)
    say "$(printf '%-40s rc=%-3s %4ss findings=%-3s %s' "$name" "$rc" "$(($(date +%s) - start))" "$added" "$last")"
    if [ "$rc" != 0 ] || [ "$added" != 0 ]; then
        failures=$((failures + 1))
        tail -n 20 "$RES/$name.log" | sed 's/^/    /'
    fi
    return 0
}

total_start=$(date +%s)
say "# emu-check of $(git rev-parse --short HEAD 2>/dev/null || echo '?') against $EMU, $(date -u +%Y-%m-%dT%H:%MZ)"
# EMU_PROBES_DIR: the benchmarks are built too (bench/*.c, each its own program).
if ! EMU_PROBES_DIR=$(pwd)/bench "$EMU/build.sh" . "$BUILD" >"$RES/build.log" 2>&1; then
    say "emu-check: FAILED: the CUDA engine does not build against the emulator"
    tail -n 30 "$RES/build.log"
    exit 1
fi
say "$(printf '%-40s %4ss' build $(($(date +%s) - total_start)))"
BIN=$(cd "$BUILD/bin" && pwd)
J=$BIN/jacnoise

# The GPU-labelled tests (tests/*.cmake, LABELS gpu), as build.sh found them.
ran=" "
for t in $(cd "$BIN" && ls test_* 2>/dev/null); do
    step "$t" "$BIN/$t"
    ran="$ran$t "
done
while read -r line; do
    case $line in
    PY_TEST=*)
        set -- ${line#PY_TEST=}
        step "$1" env JACNOISE_BIN="$J" /usr/bin/python3 "$2"
        ran="$ran$1 "
        ;;
    esac
done <"$BUILD/build.env"
# A build that found none of them (a layout build.sh does not read, a renamed label) ran no
# GPU test and passed: each labelled test must have run.
missing=""
for t in $(sed -nE 's/.*jn_(c|py)_test\((\w+) [^)]*LABELS[^)]*\<gpu\>.*/\2/p' tests/*.cmake tests/CMakeLists.txt); do
    case $ran in *" $t "*) ;; *) missing="$missing $t" ;; esac
done
n=$(echo $ran | wc -w)
if [ "$n" = 0 ] || [ -n "$missing" ]; then
    say "emu-check: FAILED: $n GPU-labelled test(s) ran${missing:+; not run:$missing}"
    failures=$((failures + 1))
fi

# The paper's table at the smoke budget on the CUDA backend (the device path of
# tools/reproduce.py: sweeps in lock-step groups, the table, a stop and resume).
step test_reproduce_cuda env JACNOISE_BIN="$J" JACNOISE_TEST_DEVICE=cuda /usr/bin/python3 tests/test_reproduce.py

# The CUDA benchmarks at a size the emulator runs: they must build, run and print their
# tables (the timings here are the emulator's, not a GPU's).
step bench_cuda_step_small "$BIN/bench_cuda_step" --small
step bench_cuda_sweep_small "$BIN/bench_cuda_sweep" --small

# jacnoise check: the paper's rows, every target and estimator, copies, the squared loss,
# three hidden layers, batches of 1 and 7, an exact hidden norm in two tangent chunks (16384 rows a
# pass: 162 tangents at a batch of 100), an epoch boundary, MNIST and MNIST-binary, and from
# a mid-training checkpoint.
U="--data usps --hidden 32,16 --batch 20 --lr 0.05 --steps 3"
U3="--data usps --hidden 32,16,8 --batch 20 --lr 0.05 --steps 3"
M="--data mnist --hidden 32,16 --batch 20 --lr 0.05 --steps 3 --train-limit 3000 --valid 500"
NJ="--jac-lambda 0.1 --jac-noise 0.3"
CHECKS=(
    "usps_plain|$U"
    "usps_weight_decay|$U --weight-decay 1e-3"
    "usps_input_noise|$U --input-noise 0.3"
    "usps_J_hidden1|$U --jac-lambda 0.1"
    "usps_NJ_hidden1|$U $NJ"
    "usps_NJ_hidden1_copies2|$U $NJ --jac-copies 2"
    "usps_NJ_hidden_1_K1|$U $NJ --jac-target hidden:1"
    "usps_NJ_hidden_2_K3|$U $NJ --jac-target hidden:2 --jac-proj 3"
    "usps_NJ_output_K1|$U $NJ --jac-target output"
    "usps_NJ_output_K3_copies2|$U $NJ --jac-target output --jac-proj 3 --jac-copies 2"
    "usps_J_output_exact|$U --jac-lambda 0.1 --jac-target output --jac-proj exact"
    "usps_J_hidden_1_exact|$U --jac-lambda 0.1 --jac-target hidden:1 --jac-proj exact"
    "usps_J_hidden_1_exact_2_chunks|--data usps --hidden 32,16 --batch 100 --lr 0.05 --steps 2 --jac-lambda 0.1 --jac-target hidden:1 --jac-proj exact"
    "usps_NJ_hidden_2_exact_copies2|$U $NJ --jac-target hidden:2 --jac-proj exact --jac-copies 2"
    "usps_squared|$U --loss squared"
    "usps_squared_NJ_output|$U --loss squared $NJ --jac-target output --input-noise 0.1"
    "usps_3hidden_NJ_hidden_3_K3|$U3 $NJ --jac-target hidden:3 --jac-proj 3"
    "usps_3hidden_J_output_exact|$U3 --jac-lambda 0.1 --jac-target output --jac-proj exact"
    "usps_3hidden_NJ_hidden1_all|$U3 $NJ --input-noise 0.2 --weight-decay 1e-3"
    "usps_batch1_NJ_output_K3|--data usps --hidden 32,16 --batch 1 --lr 0.05 --steps 4 $NJ --jac-target output --jac-proj 3 --input-noise 0.2"
    "usps_batch1_NJ_hidden1|--data usps --hidden 32,16 --batch 1 --lr 0.05 --steps 4 $NJ"
    "usps_batch7_NJ_hidden_2_K3_copies2|--data usps --hidden 32,16 --batch 7 --lr 0.05 --steps 4 $NJ --jac-target hidden:2 --jac-proj 3 --jac-copies 2"
    "usps_batch7_J_output_exact|--data usps --hidden 32,16 --batch 7 --lr 0.05 --steps 4 --jac-lambda 0.1 --jac-target output --jac-proj exact"
    "usps_epoch_boundary|--data usps --train-limit 100 --valid 10 --hidden 32,16 --batch 30 --lr 0.05 --steps 6 $NJ --jac-target output --input-noise 0.1"
    "mnist_plain|$M"
    "mnist_NJ_hidden1|$M $NJ"
    "mnist_NJ_output_K1|$M $NJ --jac-target output --input-noise 0.1"
    "mnist_NJ_hidden_2_K3_copies2|$M $NJ --jac-target hidden:2 --jac-proj 3 --jac-copies 2"
    "mnist_J_output_exact|--data mnist --hidden 32,16 --batch 7 --lr 0.05 --steps 2 --train-limit 3000 --valid 500 --jac-lambda 0.1 --jac-target output --jac-proj exact"
    "mnist_binary_NJ_output|--data mnist-binary --hidden 32,16 --batch 20 --lr 0.05 --steps 3 --train-limit 3000 --valid 500 $NJ --jac-target output"
)
for entry in "${CHECKS[@]}"; do
    step "check_${entry%%|*}" "$J" check ${entry#*|}
done
# From a mid-epoch checkpoint of a CPU run.
CK=$RES/ckpt_run
rm -rf "$CK"
CKJOB="--data usps --train-limit 600 --valid 100 --hidden 32,16 --batch 25 --lr 0.05 $NJ --jac-target output --input-noise 0.1"
step ckpt_train_cpu "$J" train --device cpu $CKJOB --epochs 3 --max-steps 37 --progress never --out "$CK"
step check_from_mid_epoch_checkpoint "$J" check --checkpoint "$CK/last.ckpt" $CKJOB --steps 5
# TF32 against the fp32 CPU, with the tolerance check derives (and prints).
for entry in "usps_plain|$U" "usps_NJ_hidden1|$U $NJ --input-noise 0.2 --weight-decay 1e-3" \
             "usps_NJ_output_K3_copies2|$U $NJ --jac-target output --jac-proj 3 --jac-copies 2" \
             "usps_J_output_exact|$U --jac-lambda 0.1 --jac-target output --jac-proj exact" \
             "usps_3hidden_NJ_hidden_3_K3|$U3 $NJ --jac-target hidden:3 --jac-proj 3" \
             "usps_squared_NJ_output|$U --loss squared $NJ --jac-target output --input-noise 0.1" \
             "mnist_NJ_output_K1|$M $NJ --jac-target output --input-noise 0.1" \
             "mnist_NJ_hidden_2_K3_copies2|$M $NJ --jac-target hidden:2 --jac-proj 3 --jac-copies 2"; do
    step "check_tf32_${entry%%|*}" "$J" check --precision tf32 ${entry#*|}
done

# A short MNIST run on the CUDA engine, evaluated; then the emulator's variants (block and
# thread order, memory filled with zeros instead of NaN, host buffers read late by async
# copies, every kernel run twice in opposite orders to expose races) must not change it.
TR="--data mnist --train-limit 2000 --valid 500 --hidden 64 --epochs 2 --batch 50 --lr 0.05 --progress never \
    --jac-lambda 0.05 --jac-noise 0.2 --jac-target output --input-noise 0.1"
same() {  # same A B: byte-identical checkpoints and metrics (without the wall-clock seconds)
    cmp -s "$1/last.ckpt" "$2/last.ckpt" && cmp -s "$1/best.ckpt" "$2/best.ckpt" &&
        [ "$(sed 's/"seconds":[^,}]*//' "$1/metrics.jsonl")" = "$(sed 's/"seconds":[^,}]*//' "$2/metrics.jsonl")" ]
}
rm -rf "$RES"/train_*
step train_cuda "$J" train --device cuda $TR --out "$RES/train_cuda"
step eval_of_cuda_run "$J" eval --checkpoint "$RES/train_cuda/best.ckpt" --eval-limit 500
for v in order_shuffle:EMU_ORDER=shuffle fill_zero:EMU_FILL=zero strict_async_h2d:EMU_STRICT_ASYNC_H2D=1; do
    step "train_cuda_${v%%:*}" env "${v#*:}" "$J" train --device cuda $TR --out "$RES/train_${v%%:*}"
    if same "$RES/train_cuda" "$RES/train_${v%%:*}"; then
        say "$(printf '%-40s %s' "  ${v%%:*} vs default" "identical (checkpoints, metrics)")"
    else
        say "$(printf '%-40s %s' "  ${v%%:*} vs default" "DIFFERENT")"
        failures=$((failures + 1))
    fi
done
# Every kind of penalty pass and the squared loss under the race check (each kernel run twice,
# in opposite block orders).
for entry in "NJ_output|$NJ --jac-target output --input-noise 0.1" "NJ_hidden1_copies2|$NJ --jac-copies 2" \
             "NJ_hidden_2_K3_copies2|$NJ --jac-target hidden:2 --jac-proj 3 --jac-copies 2" \
             "J_hidden_1_exact|--jac-lambda 0.1 --jac-target hidden:1 --jac-proj exact" \
             "NJ_output_exact_copies2|$NJ --jac-target output --jac-proj exact --jac-copies 2" \
             "squared_input_noise|--loss squared --input-noise 0.1"; do
    step "racecheck_check_${entry%%|*}" env EMU_RACECHECK=1 "$J" check --data usps --hidden 32,16 --batch 20 \
        --lr 0.05 --steps 2 ${entry#*|}
done
# M models in one launch: no kernel may depend on the order of the models' blocks. The race
# check runs them forward and reversed, each model's blocks together; shuffled, they interleave
# (as on a GPU), which a per-model reduction sharing another model's ticket does not survive.
step racecheck_lockstep env EMU_RACECHECK=1 "$BIN/test_cuda_lockstep"
step order_shuffle_lockstep env EMU_ORDER=shuffle "$BIN/test_cuda_lockstep"
step racecheck_train_graph env EMU_RACECHECK=1 "$J" train --device cuda --data usps --train-limit 400 --valid 100 \
    --hidden 32,16 --epochs 1 --batch 50 --lr 0.05 --progress never $NJ --jac-target output --out "$RES/train_race"

worst=$(grep -h "^passed: .*(fp32)" "$RES"/check_[!t]*.log | sed 's/.*difference \([^ ]*\) .*/\1/' | sort -g | tail -1)
worst_tf32=$(grep -h "^passed: .*(tf32)" "$RES"/check_tf32_*.log | sed 's/.*difference \([^ ]*\) .*/\1/' | sort -g | tail -1)
say "# check: worst relative difference ${worst:-?} (fp32, tolerance 1e-4), ${worst_tf32:-?} (tf32)"
say "# findings: $(findings) in $EMU_LOG; $failures failed step(s); $(($(date +%s) - total_start))s in all"
if [ "$failures" != 0 ] || [ "$(findings)" != 0 ]; then
    echo "emu-check: FAILED (logs in $RES)"
    exit 1
fi
echo "emu-check: passed"
