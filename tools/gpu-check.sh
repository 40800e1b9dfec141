#!/bin/sh
# The device check, for a machine with an NVIDIA GPU: builds with CMake, runs the GPU tests
# (kernels against the CPU reference, `jacnoise check` for the paper's rows, determinism,
# resume across backends), the GPU tests under compute-sanitizer, and the benchmarks; logs
# and a short summary go to $OUT (default ./gpu-check-out). Meant to finish in under 5
# minutes on one H200.
#
#   OUT=/some/folder tools/gpu-check.sh
set -u
cd "$(dirname "$0")/.."
out=${OUT:-gpu-check-out}
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }

# Where the data is: next to the checkout, inside it, or $JACNOISE_DATA.
data=""
for d in "${JACNOISE_DATA:-}" ../shared/datasets shared/datasets data; do
    if [ -n "$d" ] && [ -f "$d/train-images-idx3-ubyte.gz" ] && [ -f "$d/zip.train.gz" ]; then
        data=$(cd "$d" && pwd)
        break
    fi
done
say "gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ); data: ${data:-NOT FOUND}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >>"$summary" 2>&1

step() {  # step NAME SECONDS COMMAND...: runs with a time limit, logs to $out/NAME.log
    name=$1 limit=$2
    shift 2
    start=$(date +%s)
    timeout "$limit" "$@" >"$out/$name.log" 2>&1
    rc=$?
    say "$name: exit $rc in $(($(date +%s) - start))s"
    return $rc
}

step configure 120 cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DJACNOISE_CUDA=ON \
    -DJACNOISE_REQUIRE_TORCH=OFF ${data:+-DJACNOISE_TEST_DATA=$data} || exit 1
step build 240 cmake --build build-gpu -j"$(nproc)" || { tail -n 30 "$out/build.log" >>"$summary"; exit 1; }
./build-gpu/jacnoise info >>"$summary" 2>&1

step gpu_tests 300 ctest --test-dir build-gpu -L gpu --output-on-failure -V
grep -E "^[0-9]+: (check |GPU MNIST|.*rel|.*layer)|tests passed|Skipped|Failed" "$out/gpu_tests.log" | head -n 80 >>"$summary"

step bench_cuda 240 ./build-gpu/bench/bench_cuda_step --reps 200
cat "$out/bench_cuda.log" >>"$summary"

if command -v compute-sanitizer >/dev/null 2>&1; then
    for tool in memcheck racecheck; do
        step "sanitizer_$tool" 300 compute-sanitizer --tool "$tool" --error-exitcode 9 ./build-gpu/tests/test_cuda_step
        tail -n 5 "$out/sanitizer_$tool.log" >>"$summary"
    done
else
    say "compute-sanitizer: not found"
fi

step cpu_tests 300 ctest --test-dir build-gpu -LE "gpu|oracle" --output-on-failure
tail -n 3 "$out/cpu_tests.log" >>"$summary"
say "done"
