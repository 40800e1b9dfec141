/* The hidden1 closed form (mirrors src/cpu/penalty.c and jn_cpu_hidden1_rows) on the stacked rows
 * of the first layer: `main` main rows, then B corrupted rows. With c_j = ||W_1j||^2 and
 * g = 1 - a~^2 at the corrupted input: R_i = sum_j g_ij^2 c_j, dR/dz = -4 a g^2 c and
 * dR/dW_1j = 2 (sum_i g_ij^2) W_1j + sum_i q_ij x~_i. Three kernels: c (a block per unit); the
 * layer after its one GEMM over main and corrupted rows (a block per row: bias + tanh and gate
 * on every row, and on a corrupted row R_i and q where a~ and g are made, R reduced in a fixed
 * order; the last block sums R into the step's penalty); and the layer's backward (a block per
 * unit: the main rows' tanh backward, the bias gradient of both, sum_i g^2 and the 2 g^2 W
 * term, all reduced in a fixed tree order). The q x~ term goes with the main rows' dW in one
 * GEMM. The closed form's own bias gradient, sum_i g^2 and weight term were three launches,
 * the main loss's first layer two more. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

/* c_j = ||W_1j||^2 of each model's first-layer units: a block per unit, summed in double in
 * a fixed tree order (the same bits every run). */
__global__ void hidden1_unit_norms_kernel(const float *w, size_t param_stride, int n1, int d, float *c)
{
    const size_t m = blockIdx.z, j = blockIdx.x;
    w += m * param_stride + j * d;
    double sum = 0;
    for (int k = threadIdx.x; k < d; k += JN_THREADS)
        sum += (double)w[k] * w[k];
    sum = jn_block_sum(sum);
    if (threadIdx.x == 0)
        c[m * n1 + j] = (float)sum;
}

extern "C" int jn_k_hidden1_unit_norms(const float *w, size_t param_stride, int n1, int d, int models, float *c,
                                       cudaStream_t s)
{
    dim3 grid(n1, 1, models);
    hidden1_unit_norms_kernel<<<grid, JN_THREADS, 0, s>>>(w, param_stride, n1, d, c);
    JN_LAUNCHED();
}

__global__ void hidden1_rows_kernel(const float *pre, const float *bias, size_t param_stride, const float *c,
                                    int main_rows, int rows, int n1, size_t stride, const jn_hparams *hp,
                                    double weight, double sum_weight, int write_sums, float *a, float *gate, float *q,
                                    double *row_r, unsigned *tickets, jn_step_sums *sums, const jn_step_ctl *ctl,
                                    int models)
{
    const size_t m = blockIdx.z, i = blockIdx.x, at = m * stride + i * n1;
    const bool corrupted = i >= (size_t)main_rows;
    const float scale = (float)(hp[m].jac_lambda * weight);
    pre += at;
    a += at;
    gate += at;
    q += at;
    bias += m * param_stride;
    c += m * n1;
    double r = 0;
    for (int j = threadIdx.x; j < n1; j += JN_THREADS) {
        float g;
        const float aj = jn_tanh_gate(pre[j] + bias[j], &g);
        a[j] = aj;
        gate[j] = g;
        if (corrupted) {
            r += (double)jn_hidden1_r(g, c[j]);
            q[j] = scale * jn_hidden1_q(aj, g, c[j]);
        }
    }
    row_r += m * rows;
    if (corrupted) {
        r = jn_block_sum(r);
        if (threadIdx.x == 0)
            row_r[i - main_rows] = r;
    }

    /* The last block of the model sums R. */
    if (!jn_last_block(&tickets[m], gridDim.x))
        return;
    double total = 0;
    for (int k = threadIdx.x; k < rows; k += JN_THREADS)
        total += row_r[k];
    total = sum_weight * jn_block_sum(total);
    if (threadIdx.x == 0) {
        jn_step_sums *out = &sums[(ctl ? ctl->k : 0) * models + m];
        if (write_sums)
            *out = jn_step_sums{0, total, 0};
        else
            out->penalty += total;
    }
}

extern "C" int jn_k_hidden1_rows(const float *pre, const float *bias, size_t param_stride, const float *c,
                                 int main_rows, int rows, int n1, int models, size_t stride, const jn_hparams *hp,
                                 double weight, double sum_weight, int write_sums, float *a, float *gate, float *q,
                                 double *row_r, unsigned *tickets, jn_step_sums *sums, const jn_step_ctl *ctl,
                                 cudaStream_t s)
{
    dim3 grid(main_rows + rows, 1, models);
    hidden1_rows_kernel<<<grid, JN_THREADS, 0, s>>>(pre, bias, param_stride, c, main_rows, rows, n1, stride, hp, weight,
                                                    sum_weight, write_sums, a, gate, q, row_r, tickets, sums, ctl,
                                                    models);
    JN_LAUNCHED();
}

/* A block per unit j: its column of the main and corrupted rows (a thread per row, so the
 * reads are strided by n1; a block per unit gives n1 blocks per model where a thread per unit
 * gave n1 threads). */
__global__ void hidden1_units_kernel(const float *adj, const float *gate, int main_rows, int rows, int n1, int d,
                                     size_t stride, const float *w, size_t param_stride, const jn_hparams *hp,
                                     double weight, float *dpre, float *db, float *dw)
{
    const size_t m = blockIdx.z, j = blockIdx.x;
    adj += m * stride + j;
    gate += m * stride + j;
    dpre += m * stride + j;
    double bias_sum = 0, gate_sq = 0;
    for (size_t i = threadIdx.x; i < (size_t)(main_rows + rows); i += JN_THREADS) {
        const float g = gate[i * n1];
        if (i < (size_t)main_rows) {
            const float delta = jn_tanh_backward(adj[i * n1], g);
            dpre[i * n1] = delta;
            bias_sum += delta;
        } else {
            bias_sum += dpre[i * n1];  /* q, from the rows kernel */
            gate_sq += (double)(g * g);
        }
    }
    bias_sum = jn_block_sum(bias_sum);
    gate_sq = jn_block_sum(gate_sq);
    if (threadIdx.x == 0)
        db[m * param_stride + j] += (float)bias_sum;
    const float f = (float)(2.0 * hp[m].jac_lambda * weight * gate_sq);
    w += m * param_stride + j * d;
    dw += m * param_stride + j * d;
    for (int k = threadIdx.x; k < d; k += JN_THREADS)
        dw[k] += f * w[k];
}

extern "C" int jn_k_hidden1_units(const float *adj, const float *gate, int main_rows, int rows, int n1, int d,
                                  int models, size_t stride, const float *w, size_t param_stride,
                                  const jn_hparams *hp, double weight, float *dpre, float *db, float *dw,
                                  cudaStream_t s)
{
    hidden1_units_kernel<<<dim3(n1, 1, models), JN_THREADS, 0, s>>>(adj, gate, main_rows, rows, n1, d, stride, w,
                                                                    param_stride, hp, weight, dpre, db, dw);
    JN_LAUNCHED();
}
