/* Losses on the logits (SPEC "Model"): softmax cross-entropy and squared error on the
 * softmax. Computed per row in double: the softmax of float32 logits loses nothing that way,
 * and the loss sums stay exact enough to compare backends. Softmax values are recomputed
 * from the log-sum-exp rather than stored, so any number of classes needs no scratch. */
#include "cpu/ops.h"

#include <math.h>

int jn_cpu_argmax(const jn_real *row, int n)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (row[j] > row[best])
            best = j;
    return best;
}

static double log_sum_exp(const jn_real *z, int n)
{
    double zmax = z[0];
    for (int j = 1; j < n; j++)
        zmax = z[j] > zmax ? z[j] : zmax;
    double sum = 0;
    for (int j = 0; j < n; j++)
        sum += exp((double)z[j] - zmax);
    return zmax + log(sum);
}

double jn_cpu_loss_rows(jn_loss_kind kind, const jn_real *logits, const int32_t *y, int rows,
                        int classes, double scale, jn_real *dlogits, int *errors)
{
    double total = 0;
    for (int i = 0; i < rows; i++) {
        const jn_real *z = logits + (size_t)i * classes;
        jn_real *dz = dlogits + (size_t)i * classes;
        int label = y[i];
        double lse = log_sum_exp(z, classes);
        if (jn_cpu_argmax(z, classes) != label)
            (*errors)++;
        if (kind == JN_LOSS_XENT) {
            total += lse - (double)z[label];
            for (int j = 0; j < classes; j++)
                dz[j] = (jn_real)(scale * (exp((double)z[j] - lse) - (j == label)));
        } else {
            /* 0.5 ||p - onehot||^2; through the softmax Jacobian: dz_j = p_j (e_j - p.e). */
            double pe = 0;
            for (int j = 0; j < classes; j++) {
                double p = exp((double)z[j] - lse), e = p - (j == label);
                total += 0.5 * e * e;
                pe += p * e;
            }
            for (int j = 0; j < classes; j++) {
                double p = exp((double)z[j] - lse);
                dz[j] = (jn_real)(scale * p * ((p - (j == label)) - pe));
            }
        }
    }
    return total;
}

void jn_cpu_main_loss(const jn_cpu_ws *ws, const jn_batch *batch, const jn_real *logits, double scale,
                      jn_real *dlogits, jn_step_terms *terms)
{
    const int B = batch->rows, L = ws->model.n_layers;
    terms->errors = 0;
    terms->loss = jn_cpu_loss_rows(ws->obj.loss, logits, batch->y, B, ws->model.sizes[L], scale, dlogits,
                                   &terms->errors) / B;
}
