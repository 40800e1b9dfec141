/* Model shape, parameter layout and initialisation. */
#include "jacnoise/model.h"
#include "jacnoise/error.h"
#include "jacnoise/rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int jn_model_make(jn_model *m, int d, const int *hidden, int n_hidden, int classes)
{
    memset(m, 0, sizeof *m);
    if (n_hidden < 1 || n_hidden > JN_MAX_LAYERS - 1)
        return jn_fail("--hidden: expected 1 to %d hidden layers, got %d", JN_MAX_LAYERS - 1, n_hidden);
    if (d < 1 || d > JN_MAX_WIDTH)
        return jn_fail("model: input dimension %d out of range [1, %d]", d, JN_MAX_WIDTH);
    if (classes < 2 || classes > JN_MAX_WIDTH)
        return jn_fail("model: %d classes, out of range [2, %d]", classes, JN_MAX_WIDTH);
    m->n_layers = n_hidden + 1;
    m->sizes[0] = d;
    for (int i = 0; i < n_hidden; i++) {
        if (hidden[i] < 1 || hidden[i] > JN_MAX_WIDTH)
            return jn_fail("--hidden: layer %d has %d units, out of range [1, %d]", i + 1, hidden[i], JN_MAX_WIDTH);
        m->sizes[i + 1] = hidden[i];
    }
    m->sizes[m->n_layers] = classes;
    size_t off = 0;
    m->max_width = 0;
    for (int l = 0; l <= m->n_layers; l++)
        if (m->sizes[l] > m->max_width)
            m->max_width = m->sizes[l];
    for (int l = 1; l <= m->n_layers; l++) {
        size_t w = (size_t)m->sizes[l] * (size_t)m->sizes[l - 1];  /* widths <= 1e6: no overflow */
        m->w_offset[l] = off;
        off += w;
        m->b_offset[l] = off;
        off += (size_t)m->sizes[l];
        if (off > ((size_t)1 << 34)) {
            m->n_params = off;  /* for the caller to say whose the count is (a file's, --hidden's) */
            return jn_fail("model: %zu parameters is more than the engine supports (2^34)", off);
        }
    }
    m->n_params = off;
    return 0;
}

void jn_model_init_params(const jn_model *m, uint64_t seed, jn_real *params)
{
    for (int l = 1; l <= m->n_layers; l++) {
        int fan_out = m->sizes[l], fan_in = m->sizes[l - 1];
        double r = sqrt(6.0 / (double)(fan_in + fan_out));
        jn_rng_uniform(seed, JN_STREAM_INIT, (uint64_t)l, jn_weights(m, params, l),
                       (size_t)fan_out * (size_t)fan_in, r);
        memset(jn_biases(m, params, l), 0, sizeof(jn_real) * (size_t)fan_out);
    }
}

double jn_weight_decay_term(const jn_model *m, const jn_real *params, double wd)
{
    if (wd == 0)
        return 0;
    double sum = 0;
    for (int l = 1; l <= m->n_layers; l++) {
        const jn_real *w = jn_weights_c(m, params, l);
        size_t n = (size_t)m->sizes[l] * (size_t)m->sizes[l - 1];
        for (size_t i = 0; i < n; i++)
            sum += (double)w[i] * (double)w[i];
    }
    return 0.5 * wd * sum;
}

void jn_model_describe(const jn_model *m, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (int l = 0; l <= m->n_layers && used < cap; l++) {
        int n = snprintf(out + used, cap - used, l ? "-%d" : "%d", m->sizes[l]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

