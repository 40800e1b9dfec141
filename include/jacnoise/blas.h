/* The CPU's BLAS: which OpenBLAS kernels run, choosing them when OpenBLAS falls back to
 * generic ones, and the machine's measured SGEMM peak.
 *
 * OpenBLAS built with DYNAMIC_ARCH picks its kernels ("core") from the CPU model when the
 * library loads. A model it does not know (a CPU newer than the library) gets generic
 * kernels such as Prescott (SSE3) that run the GEMMs 4-6x slower on an AVX-512 machine. The
 * choice is read from OPENBLAS_CORETYPE at load time, so jacnoise checks it first thing in
 * main and, where the core is below what the CPU executes, runs itself again once with the
 * variable set. */
#ifndef JACNOISE_BLAS_H
#define JACNOISE_BLAS_H

/* What the CPU executes (cpuid, with the OS's register-state support from XCR0). */
typedef struct {
    int amd;                                   /* AuthenticAMD or HygonGenuine */
    int avx2, fma;                             /* usable AVX2 and FMA3 */
    int avx512f, avx512bw, avx512dq, avx512vl; /* usable AVX-512 subsets */
} jn_cpu_features;

/* The features of this CPU (all zero off x86-64). */
jn_cpu_features jn_cpu_features_detect(void);

/* "AVX-512 (F BW DQ VL)", "AVX2 FMA", "SSE" ...: a one-line description. */
void jn_cpu_features_describe(const jn_cpu_features *f, char *out, unsigned long cap);

/* The decision, a pure function: the OpenBLAS core to select on a CPU with these features,
 * given the core OpenBLAS reports; NULL to keep it. A core is kept when the user set
 * OPENBLAS_CORETYPE (user_set), when jacnoise does not know its name, or when it already
 * uses the CPU's widest vector instructions; otherwise the core for the CPU's level is
 * returned: SkylakeX (AVX-512 F/BW/DQ/VL), Zen (AMD with AVX2) or Haswell (AVX2). */
const char *jn_blas_core_choose(const jn_cpu_features *f, const char *reported, int user_set);

/* Called first thing in main (argv of main): when jn_blas_core_choose asks for another
 * core, re-executes the program once with OPENBLAS_CORETYPE set (a marker in the
 * environment makes a second re-execution impossible); where it cannot (exec fails, or the
 * library is not DYNAMIC_ARCH), or OpenBLAS ignores the variable, prints one warning line on
 * stderr and goes on with the kernels there are. JACNOISE_TEST_BLAS_REPORTED=CORE makes it
 * act as if OpenBLAS had reported CORE (tests of the re-execution on any CPU). */
void jn_blas_core_init(char **argv);

/* The core in use ("Zen", "SkylakeX"; "unknown" without OpenBLAS) and how it came to be:
 * "chosen by OpenBLAS", "set by OPENBLAS_CORETYPE", "chosen by OpenBLAS: it did not take
 * OPENBLAS_CORETYPE='bogus'", or "selected by jacnoise: OpenBLAS chose Prescott". */
const char *jn_blas_core_name(void);
const char *jn_blas_core_origin(void);

/* The BLAS's thread count (1 without OpenBLAS). */
int jn_blas_threads(void);

#endif
