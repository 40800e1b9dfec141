#!/usr/bin/env bash
# The device check, for a lent GPU machine that has CUDA, CMake and Python but nothing else of
# ours and no network: everything it needs comes with the checkout in device/ (made by
# tools/device-prepare.sh). It unpacks the OpenBLAS and zlib headers there when the machine
# lacks them, builds with CMake, and runs, each step under its own time limit and all within
# 8 minutes: the GPU tests (the CUDA step against the CPU on edge shapes, `jacnoise check` for
# the paper's rows, determinism, resume across backends, divergence, a short MNIST run), a
# TF32 check, compute-sanitizer's memcheck, racecheck and initcheck, the step benchmark against
# its cuBLAS floor, `jacnoise profile` of the 784-1000-1000-10 N+J step (B = 100, 1000; TF32)
# and its kernels one by one under Nsight Compute when ncu is there, the peer table (PyTorch,
# JAX; fp32 and TF32), the lock-step sweep benchmark and a 64-model sweep, the lock-step
# group's kernels under ncu, and an Nsight Systems profile when nsys is there. Logs
# go to $OUT (default gpu-check-out; a relative OUT is in the checkout, wherever the script is
# run from), every number to $OUT/summary.txt. A step that fails does not stop the others; the
# check then exits 1, its last line naming them.
#
#   OUT=/some/folder [GPU_CHECK_BUILD=DIR] tools/gpu-check.sh [--dry-run] [--reproduce]
#   tools/gpu-check.sh --help
#
# --dry-run: no GPU step runs on a GPU; each one's command runs with no device visible instead
# and must stop for that reason alone, so that an option renamed since or a missing module
# fails the dry run here rather than costing a lent GPU's minutes. The OpenBLAS/zlib prefix
# is unpacked and used even where the headers are installed, to exercise that path.
# GPU_CHECK_BUILD=DIR: use that existing CUDA build instead of configuring and building
# build-gpu (test_gpu_check's dry run: no dependencies unpacked, nothing compiled).
# GPU_CHECK_ONLY=PATTERN,...: run only the checks whose step names (summary.txt's) match one
# of these shell patterns, e.g. "sanitizer_*,peers,kernels_lockstep": a short lease can
# finish what an earlier check left unverified and keep its time for --reproduce. The build
# and --reproduce are not filtered.
# --reproduce: instead of the checks, the paper's table at the `full` budget on the GPU
# (tools/reproduce.py --device cuda), within 9 minutes of the call (GPU_CHECK_SECONDS); the
# table, the sweeps' results.csv, the specs, the logs and the pictures, without the run folders,
# go to $OUT/reproduce. Stopped by the time limit, it says so, and the table holds the cells
# finished by then: the same command again on the same (warm) machine resumes from
# runs/gpu-reproduce, which it keeps. With --dry-run: the
# smoke budget on the CPU, to exercise the path (in runs/gpu-reproduce-dry-run).
# GPU_CHECK_SECONDS=N: the call's time, build included (default 460; with --reproduce 540), a
# whole number above 0.
# Keep it under the device tool's limit for the call: the table is copied to $OUT only after
# the script itself has stopped the reproduction, so a call that the tool stops first brings
# back the logs but no table.
set -u
# A relative $JACNOISE_DATA is the current folder's, as jacnoise and device-prepare.sh read it.
env_data=${JACNOISE_DATA:-}
case $env_data in "" | /*) ;; *) env_data=$PWD/$env_data ;; esac
cd "$(dirname "$0")/.."
dry=0
reproduce=0
for arg in "$@"; do
    case $arg in
    --dry-run) dry=1 ;;
    --reproduce) reproduce=1 ;;
    -h | --help)
        sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    *)
        echo "gpu-check: unknown option $arg (usage: tools/gpu-check.sh [--dry-run] [--reproduce])" >&2
        exit 2
        ;;
    esac
done
# Bash's arithmetic would read a word as a variable's name and 1_0 as a base error, not naming it.
# A leading 0 would be octal (08: an error).
case ${GPU_CHECK_SECONDS:-1} in
    *[!0-9]* | 0*)
        echo "gpu-check: GPU_CHECK_SECONDS '$GPU_CHECK_SECONDS' is not a whole number of seconds above 0" >&2
        exit 2 ;;
esac
# An OUT it cannot enter would leave out empty: the logs and summary written in / instead.
if ! out=$(mkdir -p "${OUT:-gpu-check-out}" 2>&1 && cd "${OUT:-gpu-check-out}" 2>&1 && pwd); then
    echo "gpu-check: OUT '${OUT:-gpu-check-out}': cannot create or enter it (${out##*: })" >&2
    exit 2
fi
summary="$out/summary.txt"
: >"$summary"
start=$(date +%s)
# The whole check ends within 8 minutes; the reproduction, which resumes, uses 9 of a call's 10.
deadline=$((start + ${GPU_CHECK_SECONDS:-$([ $reproduce = 1 ] && echo 540 || echo 460)}))
say() { echo "$*" | tee -a "$summary"; }

# skipped NAME: true, with a summary line, where GPU_CHECK_ONLY leaves the check NAME out.
skipped() {
    local pattern patterns
    case $1 in configure | build | reproduce*) return 1 ;; esac
    [ -z "${GPU_CHECK_ONLY:-}" ] && return 1
    IFS=, read -ra patterns <<<"$GPU_CHECK_ONLY"
    for pattern in "${patterns[@]}"; do
        # shellcheck disable=SC2254
        case $1 in $pattern) return 1 ;; esac
    done
    say "$1: skipped (GPU_CHECK_ONLY)"
}

# step NAME LIMIT COMMAND...: runs with at most LIMIT seconds (less when the deadline is
# nearer), output in $out/NAME.log, one summary line.
step() {
    local name=$1 limit=$2
    skipped "$name" && return 1
    shift 2
    local left=$((deadline - $(date +%s) - 5))
    [ "$left" -lt "$limit" ] && limit=$left
    if [ "$limit" -lt 10 ]; then
        say "$name: not run (out of time)"
        return 1
    fi
    local t0 rc
    t0=$(date +%s)
    timeout "$limit" "$@" >"$out/$name.log" 2>&1
    rc=$?
    [ $rc = 0 ] || failed="$failed${failed:+, }$name"
    say "$name: exit $rc in $(($(date +%s) - t0))s$([ $rc = 124 ] && echo " (time limit ${limit}s)")"
    return $rc
}
dry_failed=0
# The steps that exited non-zero: the check goes on to the next (a lease is spent once) but exits 1.
failed=""
gpu_step() {
    skipped "$1" && return 1
    if [ $dry = 1 ]; then
        local name=$1 rc
        shift 2
        CUDA_VISIBLE_DEVICES= timeout 60 "$@" >"$out/$name.log" 2>&1
        rc=$?
        if [ $rc != 2 ] && grep -qE "[Nn]o (usable )?CUDA device|sees no CUDA device" "$out/$name.log"; then
            say "$name: not run (dry run: needs the GPU); without one its command gets past its options"
        else
            dry_failed=1
            say "$name: dry run: without a GPU its command exits $rc $([ $rc = 2 ] && echo 'refusing its options' ||
                echo 'for another reason than the missing device'): $(grep -v '^ ' "$out/$name.log" | tail -n 1)"
        fi
        return 1
    fi
    step "$@"
}

say "gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)$([ $dry = 1 ] && echo ' (dry run)')"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader >>"$summary" 2>&1
else
    say "nvidia-smi: not found"
fi
nvcc=$(nvcc --version 2>/dev/null | tail -n 1)  # tail's status: an || after the pipe never ran
say "nvcc: ${nvcc:-not found}; cmake: $(cmake --version | head -n 1)"

# The data: $JACNOISE_DATA, device/data (carried), or the team's shared folder; all six files of
# device-prepare.sh, as a folder with two of them was taken and its tests failed on the rest.
data=""
tried=""
for d in "$env_data" device/data ../shared/datasets data; do
    [ -n "$d" ] || continue
    lacks=""
    for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz \
        t10k-labels-idx1-ubyte.gz zip.train.gz zip.test.gz; do
        [ -f "$d/$f" ] || lacks=${lacks:-$f}
    done
    if [ -z "$lacks" ]; then data=$(cd -- "$d" && pwd); break; fi
    [ "$d" != "$env_data" ] || d="\$JACNOISE_DATA=$d"
    tried="$tried${tried:+, }$d (lacks $lacks)"
done
say "data: ${data:-NOT FOUND: tried $tried (run tools/device-prepare.sh where the data is and carry device/)}"
[ -n "$data" ] && export JACNOISE_DATA=$data

build=${GPU_CHECK_BUILD:-build-gpu}
if [ -n "${GPU_CHECK_BUILD:-}" ]; then
    if [ ! -x "$build/jacnoise" ]; then
        say "GPU_CHECK_BUILD: $build/jacnoise is not there: build it first, or unset GPU_CHECK_BUILD"
        exit 1
    fi
    say "build: $build (GPU_CHECK_BUILD: nothing configured or compiled here)"
else
    # Build dependencies: the machine's own, or the carried .debs unpacked into $build/deps-prefix.
    headers_ok() { printf '#include <%s>\n' "$1" | cc $2 -E -x c - >/dev/null 2>&1; }
    blas_ok=0
    pkg-config --exists openblas 2>/dev/null && blas_ok=1
    headers_ok cblas.h "" && blas_ok=1
    zlib_ok=0
    headers_ok zlib.h "" && zlib_ok=1
    cmake_deps=()
    if [ $dry = 1 ] || [ $blas_ok = 0 ] || [ $zlib_ok = 0 ]; then
        # In the build folder, which no device call carries (device/ is carried: 100 MB of
        # unpacked packages there would put the checkout over the device tool's limit).
        prefix=$(pwd)/$build/deps-prefix
        arch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
        rm -rf "$prefix"
        mkdir -p "$prefix"
        n=0
        for deb in device/debs/*.deb; do
            [ -f "$deb" ] || continue
            if command -v dpkg-deb >/dev/null 2>&1; then
                dpkg-deb -x "$deb" "$prefix"
            else  # a .deb is an ar archive holding data.tar.*
                tmp=$(mktemp -d)
                (cd "$tmp" && ar x "$OLDPWD/$deb" && tar -xf data.tar.* -C "$prefix")
                rm -rf "$tmp"
            fi
            n=$((n + 1))
        done
        blas=$prefix/usr/lib/$arch/openblas-pthread
        libz=$(ldconfig -p 2>/dev/null | awk '/libz\.so\.1 .*x86-64/ {print $NF; exit}')
        say "dependencies: OpenBLAS $([ $blas_ok = 1 ] && echo found || echo missing), zlib headers $([ $zlib_ok = 1 ] && echo found || echo missing); unpacked $n .deb file(s) into $build/deps-prefix$([ $dry = 1 ] && echo ' (dry run: used in any case)')"
        if [ ! -f "$blas/libopenblas.so" ] || [ ! -f "$prefix/usr/include/zlib.h" ] || [ -z "$libz" ]; then
            say "dependencies: device/debs lacks OpenBLAS or zlib.h (run tools/device-prepare.sh), or no libz.so.1 here"
            exit 1
        fi
        export PKG_CONFIG_PATH=$blas/pkgconfig PKG_CONFIG_SYSROOT_DIR=$prefix
        export CMAKE_PREFIX_PATH=$prefix/usr
        export LD_LIBRARY_PATH=$blas:$prefix/usr/lib/$arch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
        cmake_deps=(-DCBLAS_INCLUDE_DIR="$prefix/usr/include/$arch/openblas-pthread" -DCBLAS_LIBRARY="$blas/libopenblas.so"
                    -DZLIB_INCLUDE_DIR="$prefix/usr/include" -DZLIB_LIBRARY="$libz")
    else
        say "dependencies: OpenBLAS and zlib headers found on this machine"
    fi

    step configure 90 cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DJACNOISE_CUDA=ON -DJACNOISE_REQUIRE_TORCH=OFF \
        ${data:+"-DJACNOISE_TEST_DATA=$data"} "${cmake_deps[@]}" || { tail -n 20 "$out/configure.log" >>"$summary"; exit 1; }
    grep -E "jacnoise: (CBLAS|CUDA)" "$out/configure.log" | sed 's/^-- //' >>"$summary"
    # The reproduction needs the program only.
    step build 240 cmake --build "$build" -j"$(nproc)" $([ $reproduce = 1 ] && echo "--target jacnoise") ||
        { tail -n 30 "$out/build.log" >>"$summary"; exit 1; }
fi
"$build/jacnoise" info 2>&1 | sed 's/^/  /' >>"$summary"
ldd "$build/jacnoise" 2>/dev/null | grep -E "openblas|libz\.|cublas|cudart" | sed 's/^\s*/  linked: /' >>"$summary"

if [ $reproduce = 1 ]; then
    # One sweep process per two CPU cores (at most 8): each trains its group of models in
    # lock-step on the GPU. The dry run: the GPU's command planned (--plan: nothing trained),
    # then the smoke budget on this machine's CPU.
    jobs=$(($(nproc) / 2))
    [ $jobs -gt 8 ] && jobs=8
    [ $jobs -lt 1 ] && jobs=1
    plots=""
    if ! python3 -c "import matplotlib" 2>/dev/null; then
        plots="--no-plots"
        say "reproduce: no matplotlib on this machine: the table without the pictures"
    fi
    how="--budget full --device cuda --jobs $jobs $plots"
    runs=runs/gpu-reproduce
    if [ $dry = 1 ]; then
        if ! step reproduce_plan 60 env JACNOISE="$build/jacnoise" python3 tools/reproduce.py $how --out "$runs" --plan; then
            say "gpu-check: the GPU's reproduce command fails its plan: $(tail -n 1 "$out/reproduce_plan.log")"
            exit 1
        fi
        how="--budget smoke --device cpu --jobs 2 $plots"
        # Its own folder: a smoke table in runs/gpu-reproduce would make the real call refuse
        # to resume there (another budget), and a stopped real call's would refuse this.
        runs=runs/gpu-reproduce-dry-run
    fi
    step reproduce $((deadline - $(date +%s) - 20)) env JACNOISE="$build/jacnoise" \
        python3 tools/reproduce.py $how --out "$runs"
    rc=$?
    [ -f "$out/reproduce.log" ] && tail -n 12 "$out/reproduce.log" | sed 's/^/  /' >>"$summary"
    mkdir -p "$out/reproduce"
    [ -d "$runs" ] && tar -C "$runs" --exclude='*/runs' -cf - . | tar -C "$out/reproduce" -xf -
    case $rc in
    0) say "reproduce: the table is in reproduce/RESULTS.md" ;;
    124) say "reproduce: stopped by the time limit; reproduce/RESULTS.md holds the cells finished by then; run the same command again on this machine to resume from $runs" ;;
    *) [ -f "$out/reproduce.log" ] && say "reproduce: failed (exit $rc): see reproduce.log" ;;
    esac
    say "gpu-check: done in $(($(date +%s) - start))s"
    exit $rc
fi

# The GPU tests (they skip themselves without a device, so the dry run runs them too); the
# cross-checks' numbers into the summary.
step gpu_tests 240 ctest --test-dir "$build" -L gpu --output-on-failure -V
if [ -f "$out/gpu_tests.log" ]; then
    grep -E "^[0-9]+: (check |permutation|.*parameters vs|divergence|GPU MNIST|.*B=[0-9]+, |FAIL|[0-9]+ checks|.*skipped|device memory of|slot [0-9]+:|--models|.*parameters differ)" \
        "$out/gpu_tests.log" | sed 's/^[0-9]*: /  /' >>"$summary"
    grep -E "tests passed|tests failed|\*\*\*|Passed|Failed|Not Run" "$out/gpu_tests.log" | grep -E "^ *[0-9]+/|tests" |
        sed 's/^/  /' >>"$summary"
fi
J=$build/jacnoise
MNIST_NJ="--data mnist --hidden 1000,1000 --batch 100 --lr 0.05 --steps 3 --jac-lambda 0.1 --jac-noise 0.3 --jac-target output"
gpu_step check_tf32 60 "$J" check --precision tf32 $MNIST_NJ
[ -f "$out/check_tf32.log" ] && grep -E "^TF32 tolerance|^  |^(passed|FAILED):" "$out/check_tf32.log" >>"$summary"

# Where the toolkit keeps its tools when they are not on PATH.
tool() { command -v "$1" || ls /usr/local/cuda/bin/"$1" /usr/local/cuda/"$1"/"$1" /opt/nvidia/*/bin/"$1" \
    /opt/nvidia/*/*/bin/"$1" 2>/dev/null | head -n 1; }

# compute-sanitizer on a short check (every kernel, both sides) and a short graph-replayed run:
# right after the tests, before the timings, as what a GPU alone can show of the kernels' races
# and memory (on the H200 the last run ran out of time before them).
SMALL="--data usps --hidden 64,32 --batch 50 --lr 0.05 --jac-lambda 0.1 --jac-noise 0.3 --jac-target output --input-noise 0.1"
sanitizer=$(tool compute-sanitizer)
if [ -n "$sanitizer" ]; then
    for tool in memcheck racecheck initcheck; do
        gpu_step "sanitizer_$tool" 50 "$sanitizer" --tool "$tool" --error-exitcode 9 "$J" check $SMALL --steps 2
        [ -f "$out/sanitizer_$tool.log" ] && grep -E "SUMMARY|^(passed|FAILED):" "$out/sanitizer_$tool.log" |
            sed "s/^/  $tool: /" >>"$summary"
    done
    rm -rf "$out/sanitized-run"
    gpu_step sanitizer_memcheck_train 60 "$sanitizer" --tool memcheck --error-exitcode 9 "$J" train --device cuda \
        $SMALL --train-limit 500 --valid 100 --epochs 1 --progress never --out "$out/sanitized-run"
    [ -f "$out/sanitizer_memcheck_train.log" ] && grep -E "SUMMARY" "$out/sanitizer_memcheck_train.log" |
        sed 's/^/  memcheck (train): /' >>"$summary"
else
    say "compute-sanitizer: not found"
fi

gpu_step bench_cuda 120 "$build/bench/bench_cuda_step" --reps 100
[ -f "$out/bench_cuda.log" ] && sed 's/^/  /' "$out/bench_cuda.log" >>"$summary"

# The issue's per-phase tables: 784-1000-1000-10, N+J output K = 1, B = 100 and 1000, fp32, and
# B = 100 in TF32 (CUDA events per phase with the graph off, the graph-replayed step, the floor).
PROFILE="--device cuda --data mnist --hidden 1000,1000 --jac-lambda 0.1 --jac-noise 0.3 --jac-target output --reps 30"
for run in b100:"--batch 100" b1000:"--batch 1000" b100_tf32:"--batch 100 --precision tf32"; do
    gpu_step "profile_${run%%:*}" 60 "$J" profile $PROFILE ${run#*:} --json "$out/profile_${run%%:*}.json"
    [ -f "$out/profile_${run%%:*}.log" ] && sed 's/^/  /' "$out/profile_${run%%:*}.log" >>"$summary"
done

# Each kernel of four training steps on its own (Nsight Compute, where it reads the GPU): the
# durations behind the phases, 784-1000-1000-10 N+J output K = 1 at B = 100 and 1000.
ncu=$(tool ncu)
# Nsight Compute's command for tools/kernel_times.py: each kernel's duration and DRAM bytes, as CSV.
ncu_table=("$ncu" --clock-control none --metrics gpu__time_duration.sum,dram__bytes.sum --csv --print-units base)
if [ -n "$ncu" ]; then
    for B in 100 1000; do
        gpu_step "kernels_b$B" 60 "${ncu_table[@]}" "$J" train --device cuda --cuda-graph off --data mnist \
            --hidden 1000,1000 --batch $B --lr 0.05 --jac-lambda 0.1 --jac-noise 0.3 --jac-target output --train-limit $((4 * B)) --valid 100 --epochs 1 --max-steps 4 --progress never --out "$out/kernels-run-$B" &&
            sed 's/^/  /' "$out/kernels_b$B.log" | grep -v '^  "' | head -n 3 >>"$summary" &&
            python3 tools/kernel_times.py "$out/kernels_b$B.log" 2>&1 | sed 's/^/  /' >>"$summary"
        rm -rf "$out/kernels-run-$B"
    done
else
    say "ncu: not found"
fi

# The peer table on the GPU: jacnoise's graph-replayed step against PyTorch (eager,
# torch.func) and JAX jit on the same shapes, each peer's step first checked against
# jacnoise's step dump; in float32, then all in TF32. One round: the GPU is not shared, and
# each round more costs a jacnoise start-up (CUDA context, data) per shape. On an H200 the
# float32 table took more than 100 s (JAX compiles each shape; torch.func's B = 1000 steps are
# 6 ms each), the TF32 one 52 s.
for precision in fp32 tf32; do
    name=peers$([ $precision = tf32 ] && echo _tf32)
    gpu_step $name 150 python3 bench/peers/run_peers.py --device cuda --precision $precision --jacnoise "$J" \
        --data-dir "$data" --hidden 1000,1000 --batch 100 1000 --penalty hidden1 output:1 --reps 20 --warmup 5 \
        --rounds 1 --csv "$out/$name.csv"
    [ -f "$out/$name.log" ] && sed 's/^/  /' "$out/$name.log" >>"$summary"
done

# Many models per GPU: lock-step groups of M = 1, 64, 256 against their GEMM floor, fp32 and
# TF32, and the device memory per model; then a real 64-model sweep (one epoch of MNIST at
# 784-1000-1000-10, a 4 x 4 grid of the penalty's weight and noise, 4 seeds) in one group. Its
# run folders (two checkpoints of 21.6 MB per model) stay out of $out: only results.csv comes back.
gpu_step bench_cuda_sweep 150 "$build/bench/bench_cuda_sweep" --reps 50
[ -f "$out/bench_cuda_sweep.log" ] && sed 's/^/  /' "$out/bench_cuda_sweep.log" >>"$summary"
sweep_dir=${TMPDIR:-/tmp}/jacnoise-gpu-check-sweep64
rm -rf "$sweep_dir"
mkdir -p "$sweep_dir"
cat >"$sweep_dir/spec" <<'SPEC'
data = mnist
hidden = "1000,1000"
batch = 100
epochs = 1
lr = 0.05
jac-target = output
jac-lambda = [0.01, 0.03, 0.1, 0.3]
jac-noise = [0.1, 0.2, 0.3, 0.5]
seeds = 4
SPEC
if gpu_step sweep64 120 "$J" sweep --spec "$sweep_dir/spec" --out "$sweep_dir/out" --device cuda --models 64 \
    --progress never; then
    # 64 models x 500 steps of one epoch, with loading, evaluation and checkpoints.
    seconds=$(sed -n 's/^sweep64: exit 0 in \([0-9]*\)s.*/\1/p' "$summary" | tail -n 1)
    say "  sweep64: 32000 model-steps in ${seconds}s wall (all in: data, evaluation, checkpoints)"
    cp "$sweep_dir/out/results.csv" "$out/sweep64_results.csv"
    "$J" sweep status "$sweep_dir/out" 2>&1 | head -n 8 | sed 's/^/  /' >>"$summary"
fi
rm -rf "$sweep_dir"

# The kernels of a lock-step group of 64 (bench_cuda_sweep's step graph and its floor's, fp32
# then TF32, two replays each), each on its own under Nsight Compute: where the time per
# model-step beyond the batched GEMMs goes. Last, as the check's least needed part.
if [ -n "$ncu" ]; then
    gpu_step kernels_lockstep 90 "${ncu_table[@]}" "$build/bench/bench_cuda_sweep" --models 64 --reps 2 &&
        python3 tools/kernel_times.py "$out/kernels_lockstep.log" 2>&1 | sed 's/^/  /' >>"$summary"
fi

# Nsight Systems: there or not, and the NVTX phases of one eager epoch when it is.
nsys=$(tool nsys)
if [ -n "$nsys" ]; then
    say "nsys: $("$nsys" --version 2>&1 | head -n 1)"
    rm -rf "$out/profiled-run"
    gpu_step nsys 60 "$nsys" profile --trace=cuda,nvtx --force-overwrite true -o "$out/profile" "$J" train --device cuda \
        --cuda-graph off $SMALL --train-limit 2000 --valid 100 --epochs 1 --progress never --out "$out/profiled-run" &&
        timeout 60 "$nsys" stats --report nvtx_sum --format csv "$out/profile.nsys-rep" 2>/dev/null | head -n 12 |
        sed 's/^/  /' >>"$summary"
else
    say "nsys: not found"
fi
say "gpu-check: done in $(($(date +%s) - start))s"
if [ $dry_failed = 1 ]; then
    say "gpu-check: a GPU step's command failed on this machine for another reason than the missing GPU (above): fix it before a GPU runs it"
    exit 1
fi
if [ -n "$failed" ]; then
    say "gpu-check: FAILED: $failed (see each one's log)"
    exit 1
fi
