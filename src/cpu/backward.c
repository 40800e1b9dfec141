/* Back-propagation of the main loss through the tanh MLP. */
#include "cpu/ops.h"

void jn_cpu_backward(jn_cpu_ws *ws, const jn_real *params, int rows, int bottom, jn_real *dz, jn_real *grad)
{
    const jn_model *m = &ws->model;
    int cur = 0;  /* delta[cur] = dObj/dz_l */
    /* The logits' bias gradient takes a pass of its own; each layer below gets its own from the
     * pass through tanh that makes its dObj/dz. */
    jn_real *db = jn_biases(m, grad, m->n_layers);
    for (int j = 0; j < m->sizes[m->n_layers]; j++)
        db[j] = 0;
    jn_cpu_add_column_sums(ws->delta[0], (size_t)rows, (size_t)m->sizes[m->n_layers], db);
    for (int l = m->n_layers; l >= bottom; l--) {
        int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const jn_real *d = ws->delta[cur];
        /* The first contribution to grad: written, so that grad needs no zeroing pass. */
        jn_gemm_weight_grad(ws->log, 0, rows, n_out, n_in, d, ws->act[l - 1], jn_weights(m, grad, l));
        if (l == 1)
            break;
        jn_real *da = l == bottom ? dz : ws->delta[1 - cur];
        jn_gemm_input_grad(ws->log, rows, n_out, n_in, d, jn_weights_c(m, params, l), da);
        jn_real *db_below = jn_biases(m, grad, l - 1);
        if (l > bottom)  /* at bottom - 1 the caller's own terms are there already (step.c) */
            for (int j = 0; j < n_in; j++)
                db_below[j] = 0;
        jn_cpu_tanh_backward_sums(da, ws->act[l - 1], (size_t)rows, (size_t)n_in, db_below);
        cur = 1 - cur;
    }
}
