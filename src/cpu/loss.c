/* Losses on the logits (SPEC "Model"): softmax cross-entropy and squared error on the
 * softmax, row by row with the formulas the CUDA kernel uses (jacnoise/elementwise.h). */
#include "cpu/ops.h"
#include "jacnoise/elementwise.h"

#include <math.h>

/* Loss of each logits row, the gradient dloss/dz times scale into dlogits; returns the summed
 * loss; *errors += argmax mistakes. */
static double loss_rows(jn_loss_kind kind, const jn_real *logits, const int32_t *y, int rows, int classes,
                        double scale, jn_real *dlogits, int *errors)
{
    double total = 0;
    for (int i = 0; i < rows; i++) {
        const jn_real *z = logits + (size_t)i * classes;
        if (jn_argmax(z, classes) != y[i])
            (*errors)++;
        total += jn_loss_row(kind, z, classes, y[i], scale, dlogits + (size_t)i * classes);
    }
    return total;
}

void jn_cpu_main_loss(const jn_cpu_ws *ws, const jn_batch *batch, const jn_real *logits, double scale,
                      jn_real *dlogits, jn_step_terms *terms)
{
    const int B = batch->rows, L = ws->model.n_layers;
    terms->errors = 0;
    terms->loss = loss_rows(ws->obj.loss, logits, batch->y, B, ws->model.sizes[L], scale, dlogits, &terms->errors) / B;
}

int jn_cpu_near_ties(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch, const jn_real *xi, double tol)
{
    const jn_model *m = &ws->model;
    const int B = batch->rows, L = m->n_layers, C = m->sizes[L];
    jn_cpu_corrupt(batch->x, xi, (jn_real)ws->obj.input_noise, (size_t)B * m->sizes[0], ws->act[0]);
    jn_cpu_forward(ws, params, B, 1, L);
    int ties = 0;
    for (int i = 0; i < B && C > 1; i++) {
        const jn_real *z = ws->act[L] + (size_t)i * C;
        double first = -INFINITY, second = -INFINITY, largest = 0;
        for (int j = 0; j < C; j++) {
            const double v = z[j];
            second = v > first ? first : fmax(second, v);
            first = fmax(first, v);
            largest = fmax(largest, fabs(v));
        }
        ties += first - second <= tol * largest;
    }
    return ties;
}
