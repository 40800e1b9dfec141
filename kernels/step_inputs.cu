/* A step's inputs on the device (mirrors src/cpu/step_inputs.c). The training set lives on
 * the GPU (as bytes when it came from bytes, scaled here); the epoch's shuffle is a sort of
 * Philox keys; one kernel gathers the batch rows of the permutation and draws the step's
 * Gaussian noise with cuRAND's Philox4_32_10, so no batch or noise ever crosses PCIe. */
#include "common.cuh"
#include "jacnoise/rng.h"

#include <cub/device/device_radix_sort.cuh>
#include <curand_kernel.h>

__global__ void shuffle_keys_kernel(uint64_t seed, int epoch, int n, uint32_t *keys, uint32_t *index)
{
    JN_FOR(i, (size_t)n)
    {
        keys[i] = jn_rng_permutation_key(seed, JN_STREAM_SHUFFLE, (uint64_t)epoch, i);
        index[i] = (uint32_t)i;
    }
}

extern "C" size_t jn_k_shuffle_temp_bytes(int n)
{
    size_t bytes = 0;
    cub::DeviceRadixSort::SortPairs(NULL, bytes, (const uint32_t *)NULL, (uint32_t *)NULL,
                                    (const uint32_t *)NULL, (uint32_t *)NULL, n);
    return bytes;
}

extern "C" int jn_k_shuffle(uint64_t seed, int epoch, int n, uint32_t *keys, uint32_t *sorted_keys,
                            uint32_t *index, uint32_t *perm, void *temp, size_t temp_bytes, cudaStream_t s)
{
    shuffle_keys_kernel<<<jn_blocks((size_t)n), JN_THREADS, 0, s>>>(seed, epoch, n, keys, index);
    if (cudaPeekAtLastError() != cudaSuccess)
        JN_LAUNCHED();
    /* A stable sort of (key, index) pairs: ties keep index order. This is the permutation
     * jn_rng_permutation (src/core/rng.c) defines and the CPU computes: a run resumes on
     * either backend mid-epoch and visits the rest of the same epoch. */
    return (int)cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys, sorted_keys, index, perm, n, 0, 32, s);
}

/* Four standard normals from element e4 .. e4+3 of (seed, stream, model, step). */
__device__ static inline float4 normals4(uint64_t seed, int stream, int model, uint64_t step, size_t e4)
{
    curandStatePhilox4_32_10_t state;
    const uint64_t subsequence = ((uint64_t)stream << 56) ^ ((uint64_t)model << 44) ^ step;
    curand_init(seed, subsequence, e4, &state);
    return curand_normal4(&state);
}

/* Fills out[0 .. n) of model m with normals, 4 per thread. */
__device__ static inline void fill_normals(float *out, size_t n, uint64_t seed, int stream, int model, uint64_t step)
{
    for (size_t e4 = 4 * (blockIdx.x * (size_t)blockDim.x + threadIdx.x); e4 < n;
         e4 += 4 * (size_t)gridDim.x * blockDim.x) {
        float4 z = normals4(seed, stream, model, step, e4);
        const float v[4] = {z.x, z.y, z.z, z.w};
        for (int k = 0; k < 4 && e4 + k < n; k++)
            out[e4 + k] = v[k];
    }
}

__global__ void gather_noise_kernel(const uint8_t *bytes, const float *floats, int d, const uint32_t *perm,
                                    int batch_size, int rows, const jn_step_ctl *ctl, uint64_t seed, float *x,
                                    int32_t *y, const int32_t *labels, float *xi, float *eps, int copies, float *v,
                                    int tangents)
{
    const int m = blockIdx.z;
    const size_t per_copy = (size_t)rows * d;
    const uint64_t step = ctl->step;
    const uint32_t *rows_of_batch = perm + (size_t)ctl->batch * batch_size;
    x += m * per_copy;
    JN_FOR(e, per_copy)
    {
        size_t example = rows_of_batch[e / d], k = e % d;
        x[e] = bytes ? bytes[example * d + k] / 255.0f : floats[example * d + k];
    }
    JN_FOR(i, (size_t)rows) y[m * rows + i] = labels[rows_of_batch[i]];
    if (xi)
        fill_normals(xi + m * per_copy, per_copy, seed, JN_STREAM_INPUT_NOISE, m, step);
    if (eps)
        fill_normals(eps + m * copies * per_copy, copies * per_copy, seed, JN_STREAM_JAC_NOISE, m, step);
    if (v)
        fill_normals(v + m * (size_t)copies * tangents * per_copy, (size_t)copies * tangents * per_copy, seed,
                     JN_STREAM_TANGENT, m, step);
}

extern "C" int jn_k_gather_noise(const uint8_t *bytes, const float *floats, const int32_t *labels, int d,
                                 const uint32_t *perm, int batch_size, int rows, const jn_step_ctl *ctl,
                                 uint64_t seed, int models, float *x, int32_t *y, float *xi, float *eps, int copies,
                                 float *v, int tangents, cudaStream_t s)
{
    size_t most = (size_t)rows * d * (v ? (size_t)copies * tangents : 1);
    dim3 grid(jn_blocks(most / 4 + 1), 1, models);
    gather_noise_kernel<<<grid, JN_THREADS, 0, s>>>(bytes, floats, d, perm, batch_size, rows, ctl, seed, x, y,
                                                    labels, xi, eps, copies, v, tangents);
    JN_LAUNCHED();
}
