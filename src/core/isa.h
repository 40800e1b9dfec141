/* Run-time choice between two builds of the same C: the baseline instruction set, and AVX2
 * on x86-64 CPUs that have it (more lanes for the vectorised loops; the C is the same, so is
 * the arithmetic). Usage:
 *   static void f_base(...) { f_body(...); }
 *   JN_TARGET_AVX2 static void f_avx2(...) { f_body(...); }
 *   ... jn_cpu_has_avx2() ? f_avx2(...) : f_base(...);
 * with f_body JN_ALWAYS_INLINE, so each caller compiles it for its own target. */
#ifndef JACNOISE_ISA_H
#define JACNOISE_ISA_H

#define JN_ALWAYS_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__) && defined(__GNUC__)
#define JN_TARGET_AVX2 __attribute__((target("avx2")))
static inline int jn_cpu_has_avx2(void) { return __builtin_cpu_supports("avx2"); }
#else
#define JN_TARGET_AVX2
static inline int jn_cpu_has_avx2(void) { return 0; }
#endif

#endif
