/* The CPU reference behind the backend interface: gather, noise, step, update, step after
 * step, on the host. M slots are M models trained one after another with one workspace: each
 * slot's steps are exactly a solo run's calls (its own objective, seed, permutation and
 * learning rate, the same BLAS threading), so each slot gives a solo run's bytes. */
#include "cpu/machine.h"
#include "cpu/workspace.h"
#include "jacnoise/backend.h"
#include "jacnoise/blas.h"
#include "jacnoise/cpu.h"
#include "jacnoise/error.h"
#include "jacnoise/evaluate.h"
#include "jacnoise/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    jn_objective obj;  /* the backend's structure with this model's numbers */
    jn_model_hparams hp;
    jn_real *params, *velocity;
    uint32_t *perm;
    int perm_epoch;    /* epoch whose permutation perm holds under hp.seed; -1 = none */
} cpu_slot;

typedef struct {
    jn_backend base;
    jn_model model;
    jn_objective obj;
    jn_backend_setup setup;
    const jn_dataset *train;
    jn_cpu_ws *ws;      /* scratch for every slot: the slots share one shape */
    jn_real *grad;
    jn_cpu_step_inputs in;
    cpu_slot *slot;     /* [setup.models] */
} cpu_backend;

static int cpu_set_hparams(jn_backend *be, int slot, const jn_model_hparams *hp)
{
    cpu_backend *c = (cpu_backend *)be;
    if (jn_backend_check_slot(be, slot) || jn_model_hparams_check(&c->obj, hp))
        return -1;
    cpu_slot *s = &c->slot[slot];
    s->hp = *hp;
    s->obj = jn_model_hparams_objective(&c->obj, hp);
    s->perm_epoch = -1;
    return 0;
}

static int cpu_set_state(jn_backend *be, int slot, const jn_real *params, const jn_real *velocity)
{
    cpu_backend *c = (cpu_backend *)be;
    if (jn_backend_check_slot(be, slot))
        return -1;
    memcpy(c->slot[slot].params, params, sizeof(jn_real) * c->model.n_params);
    memcpy(c->slot[slot].velocity, velocity, sizeof(jn_real) * c->model.n_params);
    return 0;
}

static int cpu_get_state(jn_backend *be, int slot, jn_real *params, jn_real *velocity)
{
    cpu_backend *c = (cpu_backend *)be;
    if (jn_backend_check_slot(be, slot))
        return -1;
    memcpy(params, c->slot[slot].params, sizeof(jn_real) * c->model.n_params);
    memcpy(velocity, c->slot[slot].velocity, sizeof(jn_real) * c->model.n_params);
    return 0;
}

/* One slot's steps of the chunk; stops that slot at its first non-finite loss or penalty.
 * Returns -1 only on an error (the permutation's memory). */
static int train_slot(cpu_backend *c, cpu_slot *s, const jn_train_chunk *chunk, const jn_slot_chunk *at,
                      jn_epoch_sums *sums, jn_chunk_result *res)
{
    if (s->perm_epoch != at->epoch) {
        if (jn_rng_permutation(s->hp.seed, JN_STREAM_SHUFFLE, (uint64_t)at->epoch, s->perm, (uint32_t)c->train->n))
            return -1;
        s->perm_epoch = at->epoch;
    }
    jn_cpu_ws_set_objective(c->ws, &s->obj);
    res->steps_done = 0;
    res->diverged = 0;
    for (long k = 0; k < chunk->n_batches; k++) {
        jn_step_terms terms;
        const int rows = jn_cpu_train_step(c->ws, &c->in, c->train, s->perm, chunk->first_batch + k, c->setup.batch,
                                           s->hp.seed, at->global_step + (uint64_t)k, at->lr, s->hp.momentum,
                                           s->params, s->velocity, c->grad, &terms);
        if (!rows) {
            res->diverged = 1;
            return 0;
        }
        sums->loss += terms.loss * rows;
        sums->penalty += terms.penalty * rows;
        sums->errors += terms.errors;
        sums->examples += rows;
        sums->steps++;
        res->steps_done++;
    }
    return 0;
}

static int cpu_train(jn_backend *be, const jn_train_chunk *chunk, jn_epoch_sums *sums, jn_chunk_result *res)
{
    cpu_backend *c = (cpu_backend *)be;
    for (int m = 0; m < c->setup.models; m++)
        if (chunk->slot[m].active && train_slot(c, &c->slot[m], chunk, &chunk->slot[m], &sums[m], &res[m]))
            return -1;
    return 0;
}

static int cpu_count_errors(jn_backend *be, const jn_dataset *set, const unsigned char *want, long *errors)
{
    cpu_backend *c = (cpu_backend *)be;
    for (int m = 0; m < c->setup.models; m++)
        if ((!want || want[m]) && jn_cpu_count_errors(&c->model, c->slot[m].params, set, &errors[m]))
            return -1;
    return 0;
}

static void cpu_destroy(jn_backend *be)
{
    cpu_backend *c = (cpu_backend *)be;
    if (!c)
        return;
    jn_cpu_ws_free(c->ws);
    free(c->grad);
    jn_cpu_step_inputs_free(&c->in);
    for (int m = 0; c->slot && m < c->setup.models; m++) {
        free(c->slot[m].params);
        free(c->slot[m].velocity);
        free(c->slot[m].perm);
    }
    free(c->slot);
    free(c);
}

static void cpu_describe(const jn_backend *be, jn_device_info *out)
{
    (void)be;
    memset(out, 0, sizeof *out);
    snprintf(out->backend, sizeof out->backend, "cpu");
    jn_cpu_model_name(out->device, sizeof out->device);
    out->threads = jn_blas_threads();
    snprintf(out->blas, sizeof out->blas, "%s", jn_cpu_blas_info());
}

static const jn_backend_ops cpu_ops = {
    .name = "cpu",
    .preferred_chunk = 1,
    .set_hparams = cpu_set_hparams,
    .set_state = cpu_set_state,
    .get_state = cpu_get_state,
    .train = cpu_train,
    .count_errors = cpu_count_errors,
    .describe = cpu_describe,
    .destroy = cpu_destroy,
};

void jn_cpu_backend_memory(const jn_model *m, const jn_objective *obj, const jn_backend_setup *setup,
                           const jn_dataset *train, double *per_model, double *shared)
{
    (void)obj, (void)setup;
    /* A slot: parameters, velocity and permutation here, and the trainer's parameters,
     * velocity and best parameters of its job. Shared: the data (counted by the caller's
     * budget as already there), the gradient and the workspace (a few batches of
     * activations, small beside the parameters). */
    *per_model = 5.0 * sizeof(jn_real) * (double)m->n_params + 4.0 * train->n;
    *shared = sizeof(jn_real) * (double)m->n_params;
}

jn_backend *jn_cpu_backend_create(const jn_model *m, const jn_objective *obj,
                                  const jn_backend_setup *setup, const jn_dataset *train)
{
    cpu_backend *c = calloc(1, sizeof *c);
    if (!c) {
        jn_fail("out of memory for the CPU backend");
        return NULL;
    }
    c->base.ops = &cpu_ops;
    c->base.models = setup->models;
    c->model = *m;
    c->obj = *obj;
    c->setup = *setup;
    c->train = train;
    jn_cpu_set_threads(setup->threads);
    const size_t P = m->n_params;
    c->ws = jn_cpu_ws_new(m, obj, setup->batch);
    c->grad = calloc(P, sizeof(jn_real));
    c->slot = calloc((size_t)setup->models, sizeof *c->slot);
    int failed = !c->ws || !c->grad || !c->slot || jn_cpu_step_inputs_alloc(&c->in, m, obj, setup->batch);
    for (int s = 0; !failed && s < setup->models; s++) {
        cpu_slot *slot = &c->slot[s];
        slot->obj = *obj;
        slot->hp = (jn_model_hparams){0, 0, obj->weight_decay, obj->input_noise, obj->jac_noise, obj->jac_lambda};
        slot->perm_epoch = -1;
        slot->params = calloc(P, sizeof(jn_real));
        slot->velocity = calloc(P, sizeof(jn_real));
        slot->perm = calloc((size_t)train->n + 1, sizeof(uint32_t));
        failed = !slot->params || !slot->velocity || !slot->perm;
    }
    if (failed) {
        cpu_destroy(&c->base);
        jn_fail("out of memory for the CPU backend (%d model%s, batch %d, %zu parameters each)", setup->models,
                setup->models == 1 ? "" : "s", setup->batch, P);
        return NULL;
    }
    return &c->base;
}
