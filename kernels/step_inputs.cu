/* A step's inputs on the device (mirrors src/cpu/step_inputs.c). The training set lives on
 * the GPU (as bytes when it came from bytes, scaled here); the epoch's shuffle is a sort of
 * Philox keys; one kernel gathers the batch rows of the permutation and draws the step's
 * Gaussian noise with cuRAND's Philox4_32_10, so no batch or noise ever crosses PCIe; the same
 * kernel writes the first layer's stacked input rows (main, corrupted primal and tangent rows)
 * from each value where it is read or drawn, so the step's first GEMM needs no other launch. Each model
 * of a lock-step group has its own permutation and draws its own noise from its (seed, step);
 * evaluation gathers rows in order, once for all models. */
#include "common.cuh"
#include "jacnoise/rng.h"

#include <cub/device/device_radix_sort.cuh>
#include <curand_kernel.h>

/* The epoch's sort pairs: each example's Philox key (jn_rng_permutation_key, as the CPU
 * draws it) and its index, in one pass; the radix sort of jn_k_shuffle orders them. */
__global__ void shuffle_keys_kernel(uint64_t seed, int epoch, int n, uint32_t *keys, uint32_t *index)
{
    JN_FOR(i, (size_t)n)
    {
        keys[i] = jn_rng_permutation_key(seed, JN_STREAM_SHUFFLE, (uint64_t)epoch, i);
        index[i] = (uint32_t)i;
    }
}

extern "C" cudaError_t jn_k_shuffle_temp_bytes(int n, size_t *bytes)
{
    *bytes = 0;
    return cub::DeviceRadixSort::SortPairs(NULL, *bytes, (const uint32_t *)NULL, (uint32_t *)NULL,
                                           (const uint32_t *)NULL, (uint32_t *)NULL, n);
}

extern "C" int jn_k_shuffle(uint64_t seed, int epoch, int n, uint32_t *keys, uint32_t *sorted_keys,
                            uint32_t *index, uint32_t *perm, void *temp, size_t temp_bytes, cudaStream_t s)
{
    shuffle_keys_kernel<<<jn_blocks((size_t)n), JN_THREADS, 0, s>>>(seed, epoch, n, keys, index);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        return (int)e;
    /* A stable sort of (key, index) pairs: ties keep index order. This is the permutation
     * jn_rng_permutation (src/core/rng.c) defines and the CPU computes: a run resumes on
     * either backend mid-epoch and visits the rest of the same epoch. */
    e = cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys, sorted_keys, index, perm, n, 0, 32, s);
    /* CUB checks its launches by peeking: a failed one stays recorded, and is returned here. */
    if (e != cudaSuccess)
        (void)cudaGetLastError();
    return (int)e;
}

/* Four standard normals from element e4 .. e4+3 of (seed, stream, step): a model's noise
 * depends on its own seed and step only, never on the slot it trains in. */
__device__ static inline float4 normals4(uint64_t seed, int stream, uint64_t step, size_t e4)
{
    curandStatePhilox4_32_10_t state;
    const uint64_t subsequence = ((uint64_t)stream << 56) ^ step;
    curand_init(seed, subsequence, e4, &state);
    return curand_normal4(&state);
}

/* Feature k of an example of the resident set. */
__device__ static inline float feature(const uint8_t *bytes, const float *floats, int d, size_t example, size_t k)
{
    return bytes ? bytes[example * d + k] / 255.0f : floats[example * d + k];
}

/* The batch of one model being gathered: feature e of its rows, read from the resident set
 * (not from x, which other threads of the launch are writing). e < rows * d < 2^32
 * (jn_k_gather_noise): a 32-bit division, where a 64-bit one is a long routine on a GPU. */
struct batch_src {
    const uint8_t *bytes;
    const float *floats;
    int d;
    const uint32_t *rows_of_batch;
    __device__ float at(size_t e) const
    {
        const unsigned i = (unsigned)e, width = (unsigned)d;
        return feature(bytes, floats, d, rows_of_batch[i / width], i % width);
    }
};

/* Fills out[0 .. n) with normals, 4 per thread; and where `also` is given, also[e] = base(e) +
 * scale * out[e] for e < also_n (base: the batch's feature, or 0 without src): a stacked input
 * row made from the normal where it is drawn. */
__device__ static inline void fill_normals(float *out, size_t n, uint64_t seed, int stream, uint64_t step,
                                           float *also, size_t also_n, float scale, const batch_src *src)
{
    for (size_t e4 = 4 * (blockIdx.x * (size_t)blockDim.x + threadIdx.x); e4 < n;
         e4 += 4 * (size_t)gridDim.x * blockDim.x) {
        float4 z = normals4(seed, stream, step, e4);
        const float v[4] = {z.x, z.y, z.z, z.w};
        for (int k = 0; k < 4 && e4 + k < n; k++) {
            out[e4 + k] = v[k];
            if (also && e4 + k < also_n)
                also[e4 + k] = (src ? src->at(e4 + k) : 0.0f) + scale * v[k];
        }
    }
}

/* Tangent rows 0 .. count - 1 of a pass of the exact norm: the input basis e_{k0 + k}. */
__device__ static inline void fill_basis(float *dst, size_t per_copy, int d, int k0, int count)
{
    JN_FOR(e, (size_t)count * per_copy) dst[e] = e % d == (size_t)k0 + e / per_copy ? 1.0f : 0.0f;
}

/* Also writes the first pass's stacked rows (copy 0, chunk 0: see jn_stack_dst), each value
 * where it is drawn or read: no other launch builds the first layer's input. The destinations
 * are the kernel's own parameters (not a structure's members), so that tools that check a
 * launch's pointers (the CUDA emulator) see them. */
__global__ void gather_noise_kernel(const uint8_t *bytes, const float *floats, int d, const uint32_t *perm,
                                    size_t perm_stride, int batch_size, int rows, const jn_step_ctl *ctl,
                                    const jn_model_ctl *model, float *x, int32_t *y, const int32_t *labels, float *xi,
                                    float *eps, int copies, float *v, int tangents, const jn_hparams *hp,
                                    float *stack_main, size_t main_stride, float *stack_penalty,
                                    size_t penalty_stride, int stack_tangents, int exact)
{
    const int m = blockIdx.z;
    const jn_model_ctl *own = &model[m];
    if (jn_frozen(own))
        return;  /* nothing of this step reaches its parameters */
    const size_t per_copy = (size_t)rows * d;
    const uint64_t step = own->step + (uint64_t)ctl->k;
    const batch_src src = {bytes, floats, d, perm + m * perm_stride + (size_t)(ctl->batch + ctl->k) * batch_size};
    float *main = stack_main ? stack_main + m * main_stride : NULL;
    float *primal = stack_penalty ? stack_penalty + m * penalty_stride : NULL;
    float *tangent = primal ? primal + per_copy : NULL;
    x += m * per_copy;
    JN_FOR(e, per_copy)
    {
        const float value = src.at(e);
        x[e] = value;
        if (main && !xi)
            main[e] = value;
        if (primal && !eps)
            primal[e] = value;
    }
    JN_FOR(i, (size_t)rows) y[m * rows + i] = labels[src.rows_of_batch[i]];
    if (xi)
        fill_normals(xi + m * per_copy, per_copy, own->seed, JN_STREAM_INPUT_NOISE, step, main, per_copy,
                     hp[m].input_noise, &src);
    if (eps)
        fill_normals(eps + m * copies * per_copy, copies * per_copy, own->seed, JN_STREAM_JAC_NOISE, step, primal,
                     per_copy, hp[m].jac_noise, &src);
    if (v)
        fill_normals(v + m * (size_t)copies * tangents * per_copy, (size_t)copies * tangents * per_copy, own->seed,
                     JN_STREAM_TANGENT, step, tangent, (size_t)stack_tangents * per_copy, 1.0f, NULL);
    else if (tangent && exact)
        fill_basis(tangent, per_copy, d, 0, stack_tangents);
}

extern "C" int jn_k_gather_noise(const uint8_t *bytes, const float *floats, const int32_t *labels, int d,
                                 const uint32_t *perm, size_t perm_stride, int batch_size, int rows,
                                 const jn_step_ctl *ctl, const jn_model_ctl *model, int models, float *x, int32_t *y,
                                 float *xi, float *eps, int copies, float *v, int tangents, const jn_hparams *hp,
                                 jn_stack_dst stack, cudaStream_t s)
{
    if ((size_t)rows * d > UINT32_MAX)
        return (int)cudaErrorInvalidValue;  /* batch_src's 32-bit index */
    size_t most = (size_t)rows * d * (v ? (size_t)copies * tangents : 1);
    dim3 grid(jn_blocks(most / 4 + 1), 1, models);
    gather_noise_kernel<<<grid, JN_THREADS, 0, s>>>(bytes, floats, d, perm, perm_stride, batch_size, rows, ctl, model,
                                                    x, y, labels, xi, eps, copies, v, tangents, hp, stack.main,
                                                    stack.main_stride, stack.penalty, stack.penalty_stride,
                                                    stack.tangents, stack.exact);
    JN_LAUNCHED();
}

/* The same rows as the gather writes, from buffers: main rows, then primal and tangent rows. */
__global__ void stack_inputs_kernel(const float *x, const float *xi, const float *eps, size_t eps_stride,
                                    const float *v, size_t v_stride, const jn_hparams *hp, int rows, int d,
                                    float *stack_main, size_t main_stride, float *stack_penalty,
                                    size_t penalty_stride, int tangents, int k0, int exact)
{
    const size_t m = blockIdx.z, per_copy = (size_t)rows * d;
    x += m * per_copy;
    if (stack_main) {
        float *main = stack_main + m * main_stride;
        const float scale = hp[m].input_noise;
        const float *noise = xi ? xi + m * per_copy : NULL;
        JN_FOR(e, per_copy) main[e] = noise ? x[e] + scale * noise[e] : x[e];
    }
    if (stack_penalty) {
        float *primal = stack_penalty + m * penalty_stride;
        const float scale = hp[m].jac_noise;
        const float *noise = eps ? eps + m * eps_stride : NULL;
        JN_FOR(e, per_copy) primal[e] = noise ? x[e] + scale * noise[e] : x[e];
        if (v) {
            const float *own_v = v + m * v_stride;
            JN_FOR(e, (size_t)tangents * per_copy) primal[per_copy + e] = own_v[e];
        } else if (exact) {
            fill_basis(primal + per_copy, per_copy, d, k0, tangents);
        }
    }
}

extern "C" int jn_k_stack_inputs(const float *x, const float *xi, const float *eps, size_t eps_stride,
                                 const float *v, size_t v_stride, const jn_hparams *hp, int rows, int d, int models,
                                 jn_stack_dst stack, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)rows * d), 1, models);
    stack_inputs_kernel<<<grid, JN_THREADS, 0, s>>>(x, xi, eps, eps_stride, v, v_stride, hp, rows, d, stack.main,
                                                    stack.main_stride, stack.penalty, stack.penalty_stride,
                                                    stack.tangents, stack.k0, stack.exact);
    JN_LAUNCHED();
}

/* Evaluation's rows first .. first + rows - 1 in order, once for all models: features
 * (bytes scaled) and labels in one launch. */
__global__ void gather_rows_kernel(const uint8_t *bytes, const float *floats, const int32_t *labels, int d,
                                   long first, int rows, float *x, int32_t *y)
{
    const size_t count = (size_t)rows * d;
    JN_FOR(e, count) x[e] = feature(bytes, floats, d, first + e / d, e % d);
    JN_FOR(i, (size_t)rows) y[i] = labels[first + i];
}

extern "C" int jn_k_gather_rows(const uint8_t *bytes, const float *floats, const int32_t *labels, int d, long first,
                                int rows, float *x, int32_t *y, cudaStream_t s)
{
    gather_rows_kernel<<<jn_blocks((size_t)rows * d), JN_THREADS, 0, s>>>(bytes, floats, labels, d, first, rows, x, y);
    JN_LAUNCHED();
}
