/* Run-time choice between builds of the same C: the baseline instruction set, and AVX2 or
 * AVX-512 on x86-64 CPUs that have them (more lanes for the vectorised loops; the C is the
 * same, so is the arithmetic, except glibc's vector tanhf, whose 8- and 16-lane versions may
 * differ in the last bit). Usage:
 *   static void f_base(...) { f_body(...); }
 *   JN_TARGET_AVX2 static void f_avx2(...) { f_body(...); }
 *   JN_TARGET_AVX512 static void f_avx512(...) { f_body(...); }
 *   ... jn_cpu_has_avx512() ? f_avx512(...) : jn_cpu_has_avx2() ? f_avx2(...) : f_base(...);
 * with f_body JN_ALWAYS_INLINE, so each caller compiles it for its own target. The checks
 * include the operating system's support for the registers. */
#ifndef JACNOISE_ISA_H
#define JACNOISE_ISA_H

#define JN_ALWAYS_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__) && defined(__GNUC__)
#define JN_TARGET_AVX2 __attribute__((target("avx2")))
#define JN_TARGET_AVX512 __attribute__((target("avx512f")))
static inline int jn_cpu_has_avx2(void) { return __builtin_cpu_supports("avx2"); }
static inline int jn_cpu_has_avx512(void) { return __builtin_cpu_supports("avx512f"); }
#else
#define JN_TARGET_AVX2
#define JN_TARGET_AVX512
static inline int jn_cpu_has_avx2(void) { return 0; }
static inline int jn_cpu_has_avx512(void) { return 0; }
#endif

#endif
