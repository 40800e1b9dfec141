/* The CPU's name and its BLAS's measured speed, for the CPU backend's description and the
 * profile. Internal to src/cpu. */
#ifndef JACNOISE_CPU_MACHINE_H
#define JACNOISE_CPU_MACHINE_H

/* The "model name" of a file in /proc/cpuinfo's format into out (cap bytes); "unknown CPU"
 * where it names none, or an empty one. */
void jn_cpu_model_from(const char *cpuinfo, char *out, unsigned long cap);

/* The CPU's model and cores online ("AMD EPYC 7B13 (2 cores online)"). */
void jn_cpu_model_name(char *out, unsigned long cap);

/* The measured peak: GFLOP/s of an n x n x n SGEMM (the best of reps runs, after a warm-up),
 * at the current thread count. */
double jn_blas_sgemm_peak(int n, int reps);

#endif
