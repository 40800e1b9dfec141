/* SGD with momentum and weight decay over the flat parameter array (weights decay, biases
 * do not). The update reads and writes every parameter each step, bound by memory: built per
 * instruction set (core/isa.h), whose wider loads and stores are faster (the file is compiled
 * without contraction into FMA: the same bits). */
#include "core/isa.h"
#include "jacnoise/cpu.h"
#include "jacnoise/elementwise.h"

JN_ALWAYS_INLINE void sgd_body(jn_real *params, const jn_real *grad, jn_real *velocity, size_t n, jn_real lr,
                               jn_real mu, jn_real wd)
{
    for (size_t k = 0; k < n; k++)
        jn_sgd_momentum(&params[k], &velocity[k], grad[k], lr, mu, wd);
}

JN_ISA_BUILDS(sgd, (jn_real *params, const jn_real *grad, jn_real *velocity, size_t n, jn_real lr, jn_real mu,
                    jn_real wd),
              sgd_body(params, grad, velocity, n, lr, mu, wd))

void jn_cpu_sgd_update(const jn_model *m, jn_real *params, const jn_real *grad, jn_real *velocity,
                       double lr, double momentum, double weight_decay)
{
    const jn_real lr_r = (jn_real)lr, mu = (jn_real)momentum, wd = (jn_real)weight_decay;
    for (int l = 1; l <= m->n_layers; l++) {
        size_t w0 = m->w_offset[l], b0 = m->b_offset[l];
        size_t nw = (size_t)m->sizes[l] * m->sizes[l - 1], nb = (size_t)m->sizes[l];
        JN_ISA_PICK(sgd)(params + w0, grad + w0, velocity + w0, nw, lr_r, mu, wd);
        JN_ISA_PICK(sgd)(params + b0, grad + b0, velocity + b0, nb, lr_r, mu, 0);
    }
}
