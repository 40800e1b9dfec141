/* SGD with momentum and weight decay over the flat parameter array (weights decay, biases
 * do not). */
#include "jacnoise/cpu.h"
#include "jacnoise/elementwise.h"

void jn_cpu_sgd_update(const jn_model *m, jn_real *params, const jn_real *grad, jn_real *velocity,
                       double lr, double momentum, double weight_decay)
{
    const jn_real lr_r = (jn_real)lr, mu = (jn_real)momentum, wd = (jn_real)weight_decay;
    for (int l = 1; l <= m->n_layers; l++) {
        size_t w0 = m->w_offset[l], b0 = m->b_offset[l];
        size_t nw = (size_t)m->sizes[l] * m->sizes[l - 1], nb = (size_t)m->sizes[l];
        for (size_t k = w0; k < w0 + nw; k++)
            jn_sgd_momentum(&params[k], &velocity[k], grad[k], lr_r, mu, wd);
        for (size_t k = b0; k < b0 + nb; k++)
            jn_sgd_momentum(&params[k], &velocity[k], grad[k], lr_r, mu, 0);
    }
}
