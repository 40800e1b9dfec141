/* The CPU reference as a profile target (jacnoise/profile.h): the training step of
 * backend_cpu.c (gather + noise, jn_cpu_step, the update) on real batches, its phases read
 * by the wall clock, and its floor: the GEMMs of one logged step replayed alone. */
#include "cpu/gemm.h"
#include "cpu/machine.h"
#include "cpu/workspace.h"
#include "jacnoise/backend.h"
#include "jacnoise/blas.h"
#include "jacnoise/error.h"
#include "jacnoise/profile.h"
#include "jacnoise/rng.h"
#include "jacnoise/wallclock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    jn_profile_target base;
    jn_profile_setup setup;
    const jn_dataset *train;
    jn_cpu_ws *ws;
    jn_cpu_step_inputs in;
    jn_real *params, *velocity, *grad;
    uint32_t *perm;
    uint64_t step;       /* global step: picks the batch and the noise */
    jn_gemm_log log;     /* the GEMMs of one step */
    jn_real *scratch[3]; /* replay operands */
} cpu_target;

/* The batch of the target's next step: its epoch-0 batches of B rows, cycled, as the CUDA
 * target's. Not an epoch's short last one: the FLOPs (and the floor) are B rows', and at
 * --batch 100 of 101 examples every timed step was that last batch's one row. */
static long next_batch(const cpu_target *c)
{
    return (long)(c->step % (uint64_t)(c->train->n / c->setup.batch));
}

/* One training step as backend_cpu.c runs it, its phases reported to the workspace's clock. */
static void train_step(cpu_target *c)
{
    jn_step_terms terms;
    jn_cpu_train_step(c->ws, &c->in, c->train, c->perm, next_batch(c), c->setup.batch, c->setup.seed, c->step,
                      c->setup.lr, c->setup.momentum, c->params, c->velocity, c->grad, &terms);
    c->step++;
}

static int cpu_step(jn_profile_target *t, double *step_s, double phase_s[JN_PHASES])
{
    cpu_target *c = (cpu_target *)t;
    jn_wall_clock clock;
    jn_wall_clock_init(&clock);
    jn_cpu_ws_set_clock(c->ws, &clock.base);
    const double t0 = jn_wall_seconds();
    train_step(c);
    *step_s = jn_wall_seconds() - t0;
    jn_cpu_ws_set_clock(c->ws, NULL);
    memcpy(phase_s, clock.seconds, sizeof clock.seconds);
    return 0;
}

static int cpu_floor(jn_profile_target *t, double *seconds)
{
    cpu_target *c = (cpu_target *)t;
    const double t0 = jn_wall_seconds();
    for (int i = 0; i < c->log.count; i++)
        jn_gemm_replay(&c->log, i, c->scratch[0], c->scratch[1], c->scratch[2]);
    *seconds = jn_wall_seconds() - t0;
    return 0;
}

static void cpu_destroy(jn_profile_target *t)
{
    cpu_target *c = (cpu_target *)t;
    if (!c)
        return;
    jn_cpu_ws_free(c->ws);
    jn_cpu_step_inputs_free(&c->in);
    free(c->params), free(c->velocity), free(c->grad), free(c->perm);
    jn_gemm_log_free(&c->log);
    for (int i = 0; i < 3; i++)
        free(c->scratch[i]);
    free(c);
}

static const jn_profile_target_ops cpu_target_ops = {
    .step = cpu_step,
    .gemm_floor = cpu_floor,
    .fast_step = NULL,
    .destroy = cpu_destroy,
};

jn_profile_target *jn_cpu_profile_target_create(const jn_model *m, const jn_objective *obj,
                                                const jn_profile_setup *setup, const jn_dataset *train)
{
    cpu_target *c = calloc(1, sizeof *c);
    if (!c) {
        jn_fail("out of memory for the profile");
        return NULL;
    }
    c->base.ops = &cpu_target_ops;
    c->base.launches = -1;
    c->base.jvp_in_forward = jn_cpu_stacked(obj);
    c->setup = *setup;
    c->train = train;
    const size_t P = m->n_params;
    c->ws = jn_cpu_ws_new(m, obj, setup->batch);
    c->params = malloc(sizeof(jn_real) * P);
    c->velocity = calloc(P, sizeof(jn_real));
    c->grad = calloc(P, sizeof(jn_real));
    c->perm = malloc(sizeof(uint32_t) * (size_t)train->n);
    if (!c->ws || !c->params || !c->velocity || !c->grad || !c->perm ||
        jn_cpu_step_inputs_alloc(&c->in, m, obj, setup->batch) ||
        jn_rng_permutation(setup->seed, JN_STREAM_SHUFFLE, 0, c->perm, (uint32_t)train->n) < 0)
        goto oom;
    jn_model_init_params(m, setup->seed, c->params);

    /* The floor's shapes: the GEMMs of one step, logged; then the step is undone (a fresh
     * start for the timed ones). */
    jn_cpu_ws_log_gemms(c->ws, &c->log);
    train_step(c);
    jn_cpu_ws_log_gemms(c->ws, NULL);
    jn_model_init_params(m, setup->seed, c->params);
    memset(c->velocity, 0, sizeof(jn_real) * P);
    c->step = 0;
    const size_t big = jn_gemm_log_max_operand(&c->log);
    /* Written, not only allocated (jn_profile_fill_operand): on the zero page the floor of
     * hidden1 at B = 1000 measured 2-4% below the same GEMMs on operands of their own. */
    for (int i = 0; i < 3; i++) {
        if (!(c->scratch[i] = malloc(sizeof(jn_real) * big)))
            goto oom;
        jn_profile_fill_operand(setup->seed, i, c->scratch[i], big);
    }

    const jn_noise_sizes ns = jn_objective_noise_sizes(obj, m, setup->batch);
    c->base.workspace_bytes = jn_cpu_ws_bytes(c->ws) + sizeof(int32_t) * (size_t)setup->batch +
                              sizeof(jn_real) * ((size_t)setup->batch * m->sizes[0] + ns.xi + ns.eps + ns.v);
    c->base.state_bytes = 3 * sizeof(jn_real) * P;
    c->base.gemm_calls = c->log.count;
    return &c->base;
oom:
    cpu_destroy(&c->base);
    jn_fail("out of memory for the profile (batch %d, %zu parameters)", setup->batch, P);
    return NULL;
}

/* Steps of the target and of the CPU backend, the trainer's, from the target's state: the
 * first index where they differ, or -1. The backend steps one batch a chunk, since the target
 * cycles through its epoch-0 batches (next_batch) where a chunk would run past them. */
static long first_difference(cpu_target *c, jn_backend *be, int steps, jn_real *ref, jn_real *ref_velocity,
                             int *diverged)
{
    const size_t P = c->ws->model.n_params;
    for (int k = 0; k < steps; k++) {
        const jn_slot_chunk at = {1, 0, c->step, c->setup.lr};
        const jn_train_chunk chunk = {next_batch(c), 1, &at};
        jn_epoch_sums sums = {0};
        jn_chunk_result res;
        if (be->ops->train(be, &chunk, &sums, &res))
            return -2;
        *diverged |= res.diverged;
        train_step(c);
    }
    if (be->ops->get_state(be, 0, ref, ref_velocity))
        return -2;
    for (size_t i = 0; i < P; i++)
        if (memcmp(&c->params[i], &ref[i], sizeof *ref) || memcmp(&c->velocity[i], &ref_velocity[i], sizeof *ref))
            return (long)i;
    return -1;
}

int jn_cpu_profile_target_validate(jn_profile_target *t, int steps)
{
    cpu_target *c = (cpu_target *)t;
    const size_t P = c->ws->model.n_params;
    const uint64_t first = c->step;
    const jn_backend_setup setup = {c->setup.batch, 1, 0, 0, 0};
    const jn_objective *obj = &c->ws->obj;
    const jn_model_hparams hp = {c->setup.seed,    c->setup.momentum, obj->weight_decay,
                                 obj->input_noise, obj->jac_noise,    obj->jac_lambda};
    jn_backend *be = jn_cpu_backend_create(&c->ws->model, obj, &setup, c->train);
    jn_real *ref = malloc(2 * sizeof(jn_real) * P);
    int diverged = 0;
    long at = -2;
    if (be && ref && !be->ops->set_hparams(be, 0, &hp) && !be->ops->set_state(be, 0, c->params, c->velocity))
        at = first_difference(c, be, steps, ref, ref + P, &diverged);
    int rc = 0;
    if (at == -2)
        rc = -1;  /* the backend's error, recorded */
    else if (diverged)
        rc = jn_fail("profile: steps %llu..%llu of the CPU reference were not finite: nothing to validate against",
                     (unsigned long long)first + 1, (unsigned long long)first + (unsigned long long)steps);
    else if (at >= 0)
        rc = jn_fail("profile: after %d steps the timed step's parameter %ld is %.9g (velocity %.9g), the CPU "
                     "reference's %.9g (%.9g): it does not time the step training runs",
                     steps, at, (double)c->params[at], (double)c->velocity[at], (double)ref[at], (double)ref[P + at]);
    if (be)
        be->ops->destroy(be);
    free(ref);
    return rc;
}

void jn_cpu_profile_machine(jn_profile_machine *mc)
{
    memset(mc, 0, sizeof *mc);
    snprintf(mc->backend, sizeof mc->backend, "cpu");
    snprintf(mc->precision, sizeof mc->precision, "fp32");
    jn_cpu_model_name(mc->device, sizeof mc->device);
    char features[96];
    const jn_cpu_features f = jn_cpu_features_detect();
    jn_cpu_features_describe(&f, features, sizeof features);
    snprintf(mc->device + strlen(mc->device), sizeof mc->device - strlen(mc->device), ", %s", features);
    snprintf(mc->library, sizeof mc->library, "%s", jn_cpu_blas_info());
    snprintf(mc->core, sizeof mc->core, "%s", jn_blas_core_name());
    snprintf(mc->core_origin, sizeof mc->core_origin, "%s", jn_blas_core_origin());
    mc->threads = jn_blas_threads();
    mc->peak_gflops = jn_blas_sgemm_peak(2048, 3);
    snprintf(mc->timing, sizeof mc->timing, "the wall clock");
}
