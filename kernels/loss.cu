/* The top of the step (mirrors src/cpu/loss.c, jn_cpu_tangent_norm_sum of src/cpu/tangent.c and
 * the seed of src/cpu/tangent_reverse.c): everything between the last forward GEMM and the
 * first backward GEMM in one launch. The loss rows: the logits' bias, softmax cross-entropy or
 * squared error on the softmax with dloss/dz and the misclassification flag in one pass over a
 * row (double precision inside a row, as on the CPU). The norm rows: each example's ||t||^2
 * over its K tangent rows at the penalised layer and, while they are read, the reverse pass's
 * seed u = 2 lambda weight t (zeros on the primal rows, whose adjoint is 0 there): the tangents
 * are read once. With the tangent penalty at the output both come from the one GEMM over the
 * stacked rows, so this fuses what were the loss, norms and sums launches.
 *
 * A block per example (its tangent rows reduced by the block in a fixed tree order) writes its
 * row's loss, error flag and norm; the last block of a model to finish (a ticket taken after a
 * fence) sums the rows into the step's sums with a block tree, and the logits' bias gradient
 * with the block's threads as row groups per class, the groups' sums added in order. The sums
 * are then the same bits whatever order the blocks ran in, without atomics on the values; and
 * there are many blocks, where one block per model left a GPU idle. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

/* Row i's loss and error flag; dz = scale * dloss/dz; z gets its bias. */
__device__ static void loss_row(const jn_loss_rows *L, float *z, float *dz, const float *bias, int label, double *loss,
                                double *error)
{
    for (int j = 0; j < L->classes; j++)
        z[j] += bias[j];
    *error = jn_argmax(z, L->classes) != label;
    *loss = jn_loss_row(L->kind, z, L->classes, label, L->scale, dz);
}

/* The rows' pointers are the kernel's own parameters, not members of the structures the
 * launcher takes: tools that check a launch's pointers (the CUDA emulator) see them. */
__global__ void top_terms_kernel(int kind, int classes, float *logits, float *dlogits, float *db, const float *bias,
                                 const int32_t *y, size_t loss_stride, size_t param_stride, double scale,
                                 const float *t, float *norm_adj, int K, int n, size_t norm_stride, double weight,
                                 double sum_weight, int rows, int models, const jn_hparams *hp, int write_sums,
                                 double *row_terms, unsigned *tickets, jn_step_sums *sums, const jn_step_ctl *ctl)
{
    const jn_loss_rows loss = {kind, classes, logits, dlogits, db, bias, y, loss_stride, param_stride, scale};
    const jn_norm_rows norms = {t, norm_adj, K, n, norm_stride, weight, sum_weight};
    const size_t m = blockIdx.z, i = blockIdx.x, B = rows;
    double *row_loss = row_terms + m * 3 * B, *row_error = row_loss + B, *row_norm = row_error + B;
    if (loss.logits && threadIdx.x == 0) {
        const size_t at = m * loss.stride + i * loss.classes;
        loss_row(&loss, loss.logits + at, loss.dlogits + at, loss.bias + m * loss.param_stride, loss.y[m * B + i],
                 &row_loss[i], &row_error[i]);
    }
    if (norms.t) {
        const size_t block = B * norms.n, n = norms.n;
        const float two_w = (float)(2.0 * hp[m].jac_lambda * norms.weight);
        const float *t = norms.t + m * norms.stride + block + i * n;
        float *adj = norms.adj + m * norms.stride;
        for (size_t j = threadIdx.x; j < n; j += JN_THREADS)
            adj[i * n + j] = 0.0f;
        adj += block + i * n;
        double sum = 0;
        for (size_t e = threadIdx.x; e < (size_t)norms.K * n; e += JN_THREADS) {
            const size_t at = (e / n) * block + e % n;
            const float v = t[at];
            adj[at] = two_w * v;
            sum += (double)v * v;
        }
        sum = jn_block_sum(sum);
        if (threadIdx.x == 0)
            row_norm[i] = sum;
    }

    /* The last block of the model sums the rows. */
    if (!jn_last_block(&tickets[m], gridDim.x))
        return;
    double l = 0, e = 0, r = 0;
    for (size_t k = threadIdx.x; k < B; k += JN_THREADS) {
        if (loss.logits) {
            l += row_loss[k];
            e += row_error[k];
        }
        if (norms.t)
            r += row_norm[k];
    }
    l = jn_block_sum(l);
    e = jn_block_sum(e);
    r = norms.sum_weight * jn_block_sum(r);
    if (threadIdx.x == 0) {
        jn_step_sums *out = &sums[(ctl ? ctl->k : 0) * models + m];
        if (write_sums) {
            *out = jn_step_sums{l, r, e};
        } else {
            out->loss += l;
            out->penalty += r;
            out->errors += e;
        }
    }
    if (!loss.logits)
        return;
    /* The logits' bias gradient, column sums of dz: the block's threads as row groups of a
     * tile of up to JN_THREADS classes, each group's rows in order, then the groups in order
     * (a thread per class walking 1000 rows alone took 60 us on an H200). */
    const float *dz = loss.dlogits + m * loss.stride;
    float *own_db = loss.db + m * loss.param_stride;
    const int cols = loss.classes < JN_THREADS ? loss.classes : JN_THREADS, groups = JN_THREADS / cols;
    const int col = threadIdx.x % cols, group = threadIdx.x / cols;
    __shared__ float partial[JN_THREADS];
    for (int j0 = 0; j0 < loss.classes; j0 += cols) {
        const int j = j0 + col;
        float sum = 0;
        if (group < groups && j < loss.classes)
            for (size_t k = group; k < B; k += groups)
                sum += dz[k * loss.classes + j];
        partial[threadIdx.x] = sum;
        __syncthreads();
        if (group == 0 && j < loss.classes) {
            float total = 0;
            for (int g = 0; g < groups; g++)
                total += partial[g * cols + col];
            own_db[j] += total;
        }
        __syncthreads();
    }
}

extern "C" int jn_k_top_terms(jn_loss_rows loss, jn_norm_rows norms, int rows, int models, const jn_hparams *hp,
                              int write_sums, double *row_terms, unsigned *tickets, jn_step_sums *sums,
                              const jn_step_ctl *ctl, cudaStream_t s)
{
    top_terms_kernel<<<dim3(rows, 1, models), JN_THREADS, 0, s>>>(
        loss.kind, loss.classes, loss.logits, loss.dlogits, loss.db, loss.bias, loss.y, loss.stride, loss.param_stride,
        loss.scale, norms.t, norms.adj, norms.K, norms.n, norms.stride, norms.weight, norms.sum_weight, rows, models, hp,
        write_sums, row_terms, tickets, sums, ctl);
    JN_LAUNCHED();
}
