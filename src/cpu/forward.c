/* Forward pass of the tanh MLP (SPEC "Model"): GEMM, then bias + tanh row by row. */
#include "core/isa.h"
#include "cpu/ops.h"
#include "jacnoise/elementwise.h"

JN_ALWAYS_INLINE void bias_tanh_body(const jn_real *pre, const jn_real *bias, int rows, int n, jn_real *a,
                                     jn_real *gate)
{
    for (int i = 0; i < rows; i++) {
        const jn_real *z = pre + (size_t)i * n;
        jn_real *out = a + (size_t)i * n;
        jn_real *g = gate ? gate + (size_t)i * n : NULL;
        for (int j = 0; j < n; j++) {
            jn_real gj;
            out[j] = jn_tanh_gate(z[j] + bias[j], &gj);
            if (g)
                g[j] = gj;
        }
    }
}

/* tanh is the largest elementwise cost of the step: the vectorised loop calls glibc's 4-lane
 * tanhf, its 8-lane one with AVX2 and its 16-lane one with AVX-512. */
JN_ISA_BUILDS(bias_tanh, (const jn_real *pre, const jn_real *bias, int rows, int n, jn_real *a, jn_real *gate),
              bias_tanh_body(pre, bias, rows, n, a, gate))

void jn_cpu_bias_tanh(const jn_real *pre, const jn_real *bias, int rows, int n, jn_real *a, jn_real *gate)
{
    JN_ISA_PICK(bias_tanh)(pre, bias, rows, n, a, gate);
}

/* hidden1 at the corrupted rows (penalty.c): bias + tanh fused with the closed form, so that
 * a and g are used where they are made instead of written and read back (two rows x n
 * arrays), and q written in place of z (a store to another array reads its lines in first).
 * It is the penalty's work but lives here for this file's -ffast-math (CMakeLists.txt), which
 * calls glibc's vectorised tanh; penalty.c is built without it (no contraction into FMA). Its
 * CUDA mirror is jn_k_hidden1_rows, a block per row: the per-unit sums over the rows (db,
 * sum g^2) are jn_k_hidden1_units' there, a block per unit, not this function's.
 * Built per instruction set, as bias_tanh. Per unit the sums run over the rows in order,
 * whatever the vector width; a block of rows at a time, so that they stay in registers across
 * the block (a constant count, which the compiler unrolls: a varying one keeps the loop from
 * vectorising, four times slower). */
JN_ALWAYS_INLINE void hidden1_block(jn_real *restrict zq, const jn_real *restrict bias,
                                    const jn_real *restrict unit_norm, int count, int n, jn_real scale,
                                    jn_real *restrict db, double *restrict gate_sq_sum)
{
    for (int j = 0; j < n; j++) {
        jn_real bias_sum = db[j];
        double gate_sq = gate_sq_sum[j];
        for (int r = 0; r < count; r++) {
            jn_real g;
            const jn_real a = jn_tanh_gate(zq[(size_t)r * n + j] + bias[j], &g);
            const jn_real qv = scale * jn_hidden1_q(a, g, unit_norm[j]);
            zq[(size_t)r * n + j] = qv;
            bias_sum += qv;
            gate_sq += (double)(g * g);
        }
        db[j] = bias_sum;
        gate_sq_sum[j] = gate_sq;
    }
}

JN_ALWAYS_INLINE void hidden1_rows_body(jn_real *zq, const jn_real *bias, const jn_real *unit_norm, int rows, int n,
                                        jn_real scale, jn_real *db, double *gate_sq_sum)
{
    enum { BLOCK = 4 };
    int i = 0;
    for (; i + BLOCK <= rows; i += BLOCK)
        hidden1_block(zq + (size_t)i * n, bias, unit_norm, BLOCK, n, scale, db, gate_sq_sum);
    for (; i < rows; i++)
        hidden1_block(zq + (size_t)i * n, bias, unit_norm, 1, n, scale, db, gate_sq_sum);
}

JN_ISA_BUILDS(hidden1_rows,
              (jn_real *zq, const jn_real *bias, const jn_real *unit_norm, int rows, int n, jn_real scale,
               jn_real *db, double *gate_sq_sum),
              hidden1_rows_body(zq, bias, unit_norm, rows, n, scale, db, gate_sq_sum))

void jn_cpu_hidden1_rows(jn_real *zq, const jn_real *bias, const jn_real *unit_norm, int rows, int n, jn_real scale,
                         jn_real *db, double *gate_sq_sum)
{
    JN_ISA_PICK(hidden1_rows)(zq, bias, unit_norm, rows, n, scale, db, gate_sq_sum);
}

void jn_cpu_forward(jn_cpu_ws *ws, const jn_real *params, int rows, int bottom, int top)
{
    const jn_model *m = &ws->model;
    for (int l = bottom; l <= top; l++) {
        int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const jn_real *b = jn_biases_c(m, params, l);
        jn_real *y = ws->act[l];
        jn_gemm_forward(ws->log, rows, n_out, n_in, ws->act[l - 1], jn_weights_c(m, params, l), y);
        if (l < m->n_layers) {
            jn_cpu_bias_tanh(y, b, rows, n_out, y, NULL);
        } else {
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < n_out; j++)
                    y[(size_t)i * n_out + j] += b[j];
        }
    }
}
