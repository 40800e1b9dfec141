/* Back-propagation of the main loss through the tanh MLP. */
#include "cpu/ops.h"
#include "jacnoise/elementwise.h"

void jn_cpu_backward(jn_cpu_ws *ws, const jn_real *params, int rows, int bottom, jn_real *dz, jn_real *grad)
{
    const jn_model *m = &ws->model;
    int cur = 0;  /* delta[cur] = dObj/dz_l */
    for (int l = m->n_layers; l >= bottom; l--) {
        int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const jn_real *d = ws->delta[cur];
        /* The first contribution to grad: written, so that grad needs no zeroing pass. */
        jn_gemm_weight_grad(ws->log, 0, rows, n_out, n_in, d, ws->act[l - 1], jn_weights(m, grad, l));
        jn_real *db = jn_biases(m, grad, l);
        for (int j = 0; j < n_out; j++)
            db[j] = 0;
        jn_cpu_add_column_sums(d, (size_t)rows, (size_t)n_out, db);
        if (l == 1)
            break;
        jn_real *da = l == bottom ? dz : ws->delta[1 - cur];
        jn_gemm_input_grad(ws->log, rows, n_out, n_in, d, jn_weights_c(m, params, l), da);
        const jn_real *a = ws->act[l - 1];
        for (size_t k = 0; k < (size_t)rows * n_in; k++)
            da[k] = jn_tanh_backward(da[k], (jn_real)1 - a[k] * a[k]);
        cur = 1 - cur;
    }
}
