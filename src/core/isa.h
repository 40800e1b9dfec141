/* Run-time choice between builds of the same C: the baseline instruction set, and AVX2 or
 * AVX-512 on x86-64 CPUs that have them (more lanes for the vectorised loops, and for the
 * memory-bound passes wider loads and stores; the C is the same, so is the arithmetic, where
 * the file is compiled with contraction into FMA off, except glibc's vector tanhf, whose 8-
 * and 16-lane versions may differ in the last bit). Usage:
 *   JN_ALWAYS_INLINE void f_body(...) { ... }
 *   JN_ISA_BUILDS(f, (params...), f_body(args...))
 *   ... JN_ISA_PICK(f)(args...);
 * f_body is inlined into each build, so each compiles it for its own target. The checks
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

typedef enum { JN_ISA_BASE, JN_ISA_AVX2, JN_ISA_AVX512 } jn_isa;

/* The widest build this CPU runs, at most the limit of jn_cpu_limit_isa (none by default). */
jn_isa jn_cpu_isa(void);
/* Caps jn_cpu_isa (the tests compare each build's bits with the baseline's). */
void jn_cpu_limit_isa(jn_isa limit);

/* name##_base, name##_avx2 and name##_avx512, each running the statement call (which uses the
 * params) compiled for its target; JN_ISA_PICK(name) is the one for this CPU. */
#define JN_ISA_BUILDS(name, params, call)                                                                 \
    static void name##_base params { call; }                                                              \
    JN_TARGET_AVX2 static void name##_avx2 params { call; }                                               \
    JN_TARGET_AVX512 static void name##_avx512 params { call; }
#define JN_ISA_PICK(name)                                                                                 \
    (jn_cpu_isa() == JN_ISA_AVX512 ? name##_avx512 : jn_cpu_isa() == JN_ISA_AVX2 ? name##_avx2 : name##_base)

#endif
