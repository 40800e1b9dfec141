# Numerical engine, training, CLI and oracle tests.

jn_c_test(test_gradients SOURCES test_gradients.c F64 LABELS engine)
jn_c_test(test_penalty SOURCES test_penalty.c F64 LABELS engine)
jn_c_test(test_evaluate SOURCES test_evaluate.c F64 LABELS engine)
jn_py_test(test_training test_training.py LABELS training TIMEOUT 900)
jn_py_test(test_analysis test_analysis.py LABELS analysis TIMEOUT 300)
jn_py_test(test_tools_pipe test_tools_pipe.py LABELS analysis TIMEOUT 300)
# summary.json and metrics.jsonl: taken or refused alike by jacnoise and tools/tool_files.py.
jn_py_test(test_json_files test_json_files.py LABELS analysis TIMEOUT 300)
# Every tools/*.py refuses a bad command line in one line, exit 2, and prints --help.
jn_py_test(test_tools_usage test_tools_usage.py LABELS analysis TIMEOUT 300)
# Every shell tool (tools/*.sh, tools/slurm/*.sbatch, datasets/fetch.sh) prints its usage for --help, exit 0.
jn_py_test(test_tools_help test_tools_help.py LABELS analysis TIMEOUT 120)
# jacnoise eval's JSON against the model run in NumPy on the checkpoint's parameters.
jn_py_test(test_eval test_eval.py LABELS cli TIMEOUT 300)
# tools/export_model.py: a checkpoint as a .npz, run in NumPy and PyTorch against jacnoise eval.
jn_py_test(test_export test_export.py LABELS cli TIMEOUT 300)
# bench/peers/run_peers.py's refusals (nothing timed).
jn_py_test(test_peers test_peers.py LABELS cli TIMEOUT 900)
# The C benchmarks' command lines and the files they leave (nothing timed to a figure).
if(JACNOISE_BENCH)
  # Each program it runs has a bound of its own (60 s for a refusal), which names what hung;
  # the whole took 147 s on a shared 2-core machine, 241 s pinned to one core beside a CPU hog.
  jn_py_test(test_bench test_bench.py LABELS cli TIMEOUT 900)
  set_property(TEST test_bench APPEND PROPERTY ENVIRONMENT "JACNOISE_BENCH_DIR=$<TARGET_FILE_DIR:bench_checkpoint>")
endif()
# No program names its sources by the build machine's path (__FILE__ in the CUDA messages). The
# sanitizers' own tables keep full paths for their reports: not checked in that build.
if(NOT JACNOISE_SANITIZE)
  jn_py_test(test_source_paths test_source_paths.py ARGS ${PROJECT_BINARY_DIR} LABELS engine TIMEOUT 120)
endif()
# The CUDA benchmarks' limit on a step against the CPU reference, which needs no GPU.
jn_c_test(test_bench_vs_cpu SOURCES test_bench_vs_cpu.c LABELS engine)
target_include_directories(test_bench_vs_cpu PRIVATE ${PROJECT_SOURCE_DIR}/bench)

# PyTorch autograd oracle (float64) for one step of every penalty target and estimator.
jn_py_test(test_torch_oracle torch_oracle.py LABELS oracle)
jn_c_test(test_gemm SOURCES test_gemm.c LABELS engine)
jn_c_test(test_rng SOURCES test_rng.c LABELS engine)
# The passes built per instruction set give the baseline build's bits.
jn_c_test(test_isa_builds SOURCES test_isa_builds.c LABELS engine)
# OpenBLAS core selection: the decision, the re-execution, and the GEMM oracle under each core.
jn_c_test(test_blas_core SOURCES test_blas_core.c LABELS engine)
jn_py_test(test_blas_cores test_blas_cores.py LABELS engine TIMEOUT 600)
set_property(TEST test_blas_cores APPEND PROPERTY ENVIRONMENT "JACNOISE_TEST_GEMM=$<TARGET_FILE:test_gemm>")
jn_c_test(test_permutation SOURCES test_permutation.c LABELS engine)
jn_py_test(test_cli test_cli.py LABELS cli TIMEOUT 900)
# Each command's --help lists the options it takes, with their ranges; README's table agrees.
jn_py_test(test_cli_help test_cli_help.py LABELS cli TIMEOUT 600)
jn_py_test(test_reliability test_reliability.py LABELS reliability TIMEOUT 900)
jn_py_test(test_reliability_tmp test_reliability_tmp.py LABELS reliability sweep TIMEOUT 600)
if(JACNOISE_WITH_CUDA)
  # GPU tests: skipped (77) where no CUDA device is visible.
  jn_c_test(test_cuda_step SOURCES test_cuda_step.c LABELS gpu)
  jn_c_test(test_cuda_lockstep SOURCES test_cuda_lockstep.c LABELS gpu)
  # Kernel launches and GEMM calls per step, counted by the CUDA emulator (skipped elsewhere).
  jn_py_test(test_cuda_launches test_cuda_launches.py LABELS gpu TIMEOUT 600)
  # jacnoise profile --device cuda: its report, and its launch count against the emulator's.
  jn_py_test(test_profile_cuda test_profile_cuda.py LABELS gpu TIMEOUT 900)
  jn_py_test(test_cuda test_cuda.py LABELS gpu TIMEOUT 900)
  # The GPU a run trained on, as its summary.json and `show` record it.
  jn_py_test(test_cuda_record test_cuda_record.py LABELS gpu TIMEOUT 600)
  # jacnoise check's verdict: every tensor compared, each row against the tolerance, the exit status.
  jn_py_test(test_check test_check.py LABELS gpu TIMEOUT 600)
  # sweep --device cuda: lock-step groups end as the same configurations trained alone.
  jn_py_test(test_cuda_sweep test_cuda_sweep.py LABELS gpu TIMEOUT 1800)
  # The error paths under faults injected by the CUDA emulator (skipped on a real GPU).
  jn_py_test(test_cuda_faults test_cuda_faults.py LABELS gpu TIMEOUT 900)
endif()
# tools/kernel_times.py's table (any build), then tools/gpu-check.sh --dry-run on a CUDA build:
# each GPU step's command line gets past its options without a device (skipped, 77, without
# CUDA). Not labelled gpu: the device check runs the gpu label itself.
jn_py_test(test_gpu_check test_gpu_check.py LABELS device TIMEOUT 600)

# The profile: its cost model against the GEMMs a step issues, and the command's report.
jn_c_test(test_profile_cost SOURCES test_profile_cost.c LABELS engine)
jn_c_test(test_profile_rounds SOURCES test_profile_rounds.c LABELS engine)
jn_py_test(test_profile test_profile.py LABELS cli TIMEOUT 1500)
jn_c_test(test_file_flips SOURCES test_file_flips.c LABELS engine)
# Atomic writes' temporary files: another user's stale one, and those killed writers left.
jn_c_test(test_tmp_files SOURCES test_tmp_files.c LABELS engine)
# A run folder's lock: a reader's instant (show) does not refuse a trainer; a holder that stays does.
jn_c_test(test_lock_readers SOURCES test_lock_readers.c LABELS engine)
# Notes and warnings too long for their line are cut in the middle, as error lines are.
jn_c_test(test_messages SOURCES test_messages.c LABELS engine)
# The file writes' descriptors are closed on exec: their calls on them are wrapped to look.
jn_c_test(test_cloexec SOURCES test_cloexec.c LABELS engine)
target_link_options(test_cloexec PRIVATE -Wl,--wrap=fsync,--wrap=syncfs,--wrap=write,--wrap=writev)
