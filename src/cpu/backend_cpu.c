/* The CPU reference behind the backend interface: gather, noise, step, update, step after
 * step, on the host. */
#include "jacnoise/backend.h"
#include "jacnoise/cpu.h"
#include "jacnoise/error.h"
#include "jacnoise/evaluate.h"
#include "jacnoise/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    jn_backend base;
    jn_model model;
    jn_objective obj;
    jn_backend_setup setup;
    const jn_dataset *train;
    jn_cpu_ws *ws;
    jn_real *params, *velocity, *grad;
    jn_cpu_step_inputs in;
    uint32_t *perm;
    int perm_epoch;  /* epoch whose permutation perm holds; -1 = none */
} cpu_backend;

static int cpu_set_state(jn_backend *be, const jn_real *params, const jn_real *velocity)
{
    cpu_backend *c = (cpu_backend *)be;
    memcpy(c->params, params, sizeof(jn_real) * c->model.n_params);
    memcpy(c->velocity, velocity, sizeof(jn_real) * c->model.n_params);
    return 0;
}

static int cpu_get_state(jn_backend *be, jn_real *params, jn_real *velocity)
{
    cpu_backend *c = (cpu_backend *)be;
    memcpy(params, c->params, sizeof(jn_real) * c->model.n_params);
    memcpy(velocity, c->velocity, sizeof(jn_real) * c->model.n_params);
    return 0;
}

static int cpu_train(jn_backend *be, const jn_train_chunk *chunk, jn_epoch_sums *sums, jn_chunk_result *res)
{
    cpu_backend *c = (cpu_backend *)be;
    if (c->perm_epoch != chunk->epoch) {
        if (jn_rng_permutation(c->setup.seed, JN_STREAM_SHUFFLE, (uint64_t)chunk->epoch, c->perm,
                               (uint32_t)c->train->n))
            return -1;
        c->perm_epoch = chunk->epoch;
    }
    res->steps_done = 0;
    res->diverged = 0;
    for (long k = 0; k < chunk->n_batches; k++) {
        jn_batch batch;
        jn_noise noise;
        int rows = jn_cpu_step_inputs_fill(&c->in, &c->model, &c->obj, c->train, c->perm,
                                           chunk->first_batch + k, c->setup.batch, c->setup.seed,
                                           chunk->global_step + (uint64_t)k, &batch, &noise);
        jn_step_terms terms;
        jn_cpu_step(c->ws, c->params, &batch, &noise, &terms, c->grad);
        if (!isfinite(terms.loss) || !isfinite(terms.penalty)) {
            res->diverged = 1;
            return 0;
        }
        jn_cpu_sgd_update(&c->model, c->params, c->grad, c->velocity, chunk->lr, c->setup.momentum,
                          c->obj.weight_decay);
        sums->loss += terms.loss * rows;
        sums->penalty += terms.penalty * rows;
        sums->errors += terms.errors;
        sums->examples += rows;
        sums->steps++;
        res->steps_done++;
    }
    return 0;
}

static int cpu_count_errors(jn_backend *be, const jn_dataset *set, long *errors)
{
    cpu_backend *c = (cpu_backend *)be;
    return jn_cpu_count_errors(&c->model, c->params, set, errors);
}

static void cpu_destroy(jn_backend *be)
{
    cpu_backend *c = (cpu_backend *)be;
    if (!c)
        return;
    jn_cpu_ws_free(c->ws);
    free(c->params);
    free(c->velocity);
    free(c->grad);
    jn_cpu_step_inputs_free(&c->in);
    free(c->perm);
    free(c);
}

static const jn_backend_ops cpu_ops = {
    .name = "cpu",
    .preferred_chunk = 1,
    .set_state = cpu_set_state,
    .get_state = cpu_get_state,
    .train = cpu_train,
    .count_errors = cpu_count_errors,
    .destroy = cpu_destroy,
};

jn_backend *jn_cpu_backend_create(const jn_model *m, const jn_objective *obj,
                                  const jn_backend_setup *setup, const jn_dataset *train)
{
    cpu_backend *c = calloc(1, sizeof *c);
    if (!c) {
        jn_fail("out of memory for the CPU backend");
        return NULL;
    }
    c->base.ops = &cpu_ops;
    c->model = *m;
    c->obj = *obj;
    c->setup = *setup;
    c->train = train;
    c->perm_epoch = -1;
    const size_t P = m->n_params;
    c->ws = jn_cpu_ws_new(m, obj, setup->batch);
    c->params = calloc(P, sizeof(jn_real));
    c->velocity = calloc(P, sizeof(jn_real));
    c->grad = calloc(P, sizeof(jn_real));
    c->perm = calloc((size_t)train->n + 1, sizeof(uint32_t));
    if (!c->ws || !c->params || !c->velocity || !c->grad || !c->perm ||
        jn_cpu_step_inputs_alloc(&c->in, m, obj, setup->batch)) {
        cpu_destroy(&c->base);
        jn_fail("out of memory for the CPU backend (batch %d, %zu parameters)", setup->batch, P);
        return NULL;
    }
    return &c->base;
}
