/* The elementwise and per-row mathematics of a training step, written once.
 *
 * Each function is one formula of SPEC.md. The CPU reference calls them in its loops and the
 * CUDA kernels call them per thread (JN_HD makes them __host__ __device__ under nvcc), so the
 * CPU tests exercise the very expressions the GPU runs. */
#ifndef JACNOISE_ELEMENTWISE_H
#define JACNOISE_ELEMENTWISE_H

#include <math.h>

#include "jacnoise/real.h"

/* a = tanh(z + b); also returns the gate g = 1 - a^2 (the tanh derivative) the tangent and
 * reverse passes need. */
JN_HD jn_real jn_tanh_gate(jn_real z_plus_b, jn_real *gate)
{
    jn_real a = JN_TANH(z_plus_b);
    *gate = (jn_real)1 - a * a;
    return a;
}

/* value * gate, and 0 where the unit is saturated (gate exactly 0): there the true tanh'
 * (~4 e^-2|z|) vanishes faster than the tangent s = v W^T can grow with the weights, and
 * 0 * Inf (s overflowing, |W| ~ 1e37 in float32) would make the Jacobian and curvature NaN. */
JN_HD jn_real jn_gated(jn_real gate, jn_real value) { return gate == (jn_real)0 ? (jn_real)0 : gate * value; }

/* Tangent through tanh: t_l = (1 - a_l^2) * s_l. */
JN_HD jn_real jn_tangent_update(jn_real gate, jn_real s) { return jn_gated(gate, s); }

/* Reverse pass, tangent adjoint: ds_l = u_l * g_l. */
JN_HD jn_real jn_reverse_ds(jn_real u, jn_real gate) { return jn_gated(gate, u); }

/* Reverse pass, primal adjoint: q_l = (p_l - 2 a_l sum_k u_lk s_lk) * g_l, where us is the
 * sum over the K tangents of u * s at this unit. */
JN_HD jn_real jn_reverse_q(jn_real p, jn_real a, jn_real us, jn_real gate)
{
    return jn_gated(gate, p - (jn_real)2 * a * us);
}

/* hidden1 closed form, per unit: R term g^2 c and dR/dz = -4 a g^2 c (c = ||W_1j||^2). The
 * R term serves the CUDA kernel, which sums R row by row; the CPU reference sums g^2 over the
 * rows first and multiplies by c once per unit (src/cpu/penalty.c). */
JN_HD jn_real jn_hidden1_r(jn_real gate, jn_real c) { return gate * gate * c; }
JN_HD jn_real jn_hidden1_q(jn_real a, jn_real gate, jn_real c) { return (jn_real)-4 * a * gate * gate * c; }

/* Backward through tanh for the main loss: dz = da * (1 - a^2). */
JN_HD jn_real jn_tanh_backward(jn_real da, jn_real gate) { return da * gate; }

/* Index of a row's largest logit, the first one on ties: the class predicted. */
JN_HD int jn_argmax(const jn_real *z, int n)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (z[j] > z[best])
            best = j;
    return best;
}

/* One row's loss on its logits z (SPEC "Model"): softmax cross-entropy (kind 0) or
 * 0.5 ||softmax(z) - onehot||^2 (kind 1), with dz = scale * dloss/dz. In double within the row:
 * the softmax of float32 logits loses nothing that way, and the loss sums stay exact enough to
 * compare backends. The softmax is recomputed from the log-sum-exp rather than stored, so any
 * number of classes needs no scratch. */
JN_HD double jn_loss_row(int kind, const jn_real *z, int classes, int label, double scale, jn_real *dz)
{
    double zmax = z[0];
    for (int j = 1; j < classes; j++)
        zmax = z[j] > zmax ? z[j] : zmax;
    double sum = 0;
    for (int j = 0; j < classes; j++)
        sum += exp((double)z[j] - zmax);
    const double lse = zmax + log(sum);
    if (kind == 0) {
        for (int j = 0; j < classes; j++)
            dz[j] = (jn_real)(scale * (exp((double)z[j] - lse) - (j == label)));
        return lse - (double)z[label];
    }
    /* Through the softmax Jacobian: dz_j = p_j (e_j - p.e), e = p - onehot. */
    double pe = 0, half_sq = 0;
    for (int j = 0; j < classes; j++) {
        const double p = exp((double)z[j] - lse), e = p - (j == label);
        half_sq += 0.5 * e * e;
        pe += p * e;
    }
    for (int j = 0; j < classes; j++) {
        const double p = exp((double)z[j] - lse);
        dz[j] = (jn_real)(scale * p * ((p - (j == label)) - pe));
    }
    return half_sq;
}

/* SGD with momentum and weight decay, one parameter:
 *   vel = mu vel + (g + wd w);  w = w - lr vel   (wd = 0 for biases). */
JN_HD void jn_sgd_momentum(jn_real *w, jn_real *vel, jn_real g, jn_real lr, jn_real mu, jn_real wd)
{
    jn_real v = mu * *vel + (g + wd * *w);
    *vel = v;
    *w -= lr * v;
}

#endif
