/* A step's inputs on the host: the gathered mini-batch and the counter-based noise of its
 * global step. The CPU backend and `jacnoise step` both take their inputs from here, so a
 * step dump holds exactly what training computed on. */
#include "jacnoise/cpu.h"
#include "jacnoise/error.h"
#include "jacnoise/rng.h"

#include <stdlib.h>
#include <string.h>

int jn_cpu_step_inputs_alloc(jn_cpu_step_inputs *in, const jn_model *m, const jn_objective *obj, int max_rows)
{
    jn_noise_sizes n = jn_objective_noise_sizes(obj, m, max_rows);
    in->x = calloc((size_t)max_rows * m->sizes[0], sizeof(jn_real));
    in->xi = calloc(n.xi + 1, sizeof(jn_real));
    in->eps = calloc(n.eps + 1, sizeof(jn_real));
    in->v = calloc(n.v + 1, sizeof(jn_real));
    in->y = calloc((size_t)max_rows, sizeof(int32_t));
    if (in->x && in->xi && in->eps && in->v && in->y)
        return 0;
    jn_cpu_step_inputs_free(in);
    return jn_fail("out of memory for a batch of %d and its noise", max_rows);
}

void jn_cpu_step_inputs_free(jn_cpu_step_inputs *in)
{
    free(in->x);
    free(in->xi);
    free(in->eps);
    free(in->v);
    free(in->y);
    memset(in, 0, sizeof *in);
}

int jn_cpu_step_inputs_fill(jn_cpu_step_inputs *in, const jn_model *m, const jn_objective *obj,
                            const jn_dataset *train, const uint32_t *perm, long b, int batch_size,
                            uint64_t seed, uint64_t step, jn_batch *batch, jn_noise *noise)
{
    long first = b * batch_size;
    int rows = (int)(train->n - first < batch_size ? train->n - first : batch_size);
    const size_t d = (size_t)train->d;
    for (int i = 0; i < rows; i++) {
        uint32_t ex = perm[first + i];
        const float *src = train->x + ex * d;
        for (size_t k = 0; k < d; k++)
            in->x[i * d + k] = (jn_real)src[k];
        in->y[i] = train->y[ex];
    }
    jn_noise_sizes n = jn_objective_noise_sizes(obj, m, rows);
    jn_rng_normal(seed, JN_STREAM_INPUT_NOISE, step, in->xi, n.xi);
    jn_rng_normal(seed, JN_STREAM_JAC_NOISE, step, in->eps, n.eps);
    jn_rng_normal(seed, JN_STREAM_TANGENT, step, in->v, n.v);
    *batch = (jn_batch){in->x, in->y, rows};
    *noise = (jn_noise){n.xi ? in->xi : NULL, n.eps ? in->eps : NULL, n.v ? in->v : NULL};
    return rows;
}
