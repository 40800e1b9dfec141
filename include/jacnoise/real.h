/* The floating-point type of the numerical code.
 *
 * The engine stores and computes in float32 (SPEC.md). The same sources compiled with
 * -DJN_DOUBLE give a float64 build that the finite-difference tests link, so that gradient
 * checks are limited by the method, not by rounding. */
#ifndef JACNOISE_REAL_H
#define JACNOISE_REAL_H

#ifdef JN_DOUBLE
typedef double jn_real;
#define JN_REAL_NAME "float64"
#define JN_TANH tanh
#else
typedef float jn_real;
#define JN_REAL_NAME "float32"
#define JN_TANH tanhf
#endif

/* Marks functions compiled for both host and device (nvcc); plain inline for a C compiler. */
#ifdef __CUDACC__
#define JN_HD __host__ __device__ static inline
#else
#define JN_HD static inline
#endif

#endif
