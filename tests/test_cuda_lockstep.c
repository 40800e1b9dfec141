/* The CUDA backend's lock-step slots against the same configurations trained alone, through
 * the backend interface the trainer uses. A group of 4 slots with mixed seeds (two equal),
 * penalty weights, noise levels (one without penalty noise, one without input noise), learning
 * rates, momentum and weight decay, trains chunks in which slots sit out and rejoin mid-epoch
 * (staggered), one model diverges mid-chunk (its slot freezes, the others go on), a finished
 * slot is refilled with a fresh configuration (the captured graph must stay valid), the last
 * batch of the epoch is short (launched eagerly), and every slot is evaluated in one batched
 * pass; all of it with the output's penalty by one Gaussian tangent, then by its exact norm
 * (reverse mode) with 2 copies. Each configuration is then trained alone, in another slot of
 * a 4-slot backend whose other slots are idle (the same GEMM shapes), and in a 1-slot backend:
 *   - alone in 4 slots: byte-identical parameters, velocity, sums and divergence, on any device
 *     (a model never depends on its slot or on the other models);
 *   - alone in 1 slot: byte-identical under the CUDA emulator, whose cuBLAS is one
 *     double-accumulating loop whatever the batch count; on a GPU, cuBLAS may pick other
 *     kernels for a batch of 4 GEMMs than for 1, so there within 1e-4 (the `check` tolerance);
 *   - graph replay and eager launches: byte-identical;
 *   - the device memory the backend allocates = jn_cuda_backend_bytes (exactly, under the
 *     emulator, which counts what is requested; on a GPU at least that).
 * Skipped (77) where no CUDA device is visible. */
#include "check.h"
#include "jacnoise/backend.h"
#include "jacnoise/cuda.h"
#include "jacnoise/error.h"
#include "jacnoise/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define M 4
#define N 60       /* examples: 7 batches of 8 and a last one of 4 */
#define B 8
#define BATCHES 8
#define MAX_JOBS 8

typedef struct {
    const char *name;
    jn_model_hparams hp;
    double lr;
    jn_real *params, *velocity;
    int epoch;
    long batch;
    uint64_t step;
    int diverged;
    jn_epoch_sums sums;
} job;

static jn_model model;
static jn_objective group_obj;
static jn_dataset train;
static int emulated;

/* A fresh job: its own initialisation from its seed, zero velocity. */
static job make_job(const char *name, jn_model_hparams hp, double lr)
{
    job j = {.name = name, .hp = hp, .lr = lr};
    j.params = malloc(sizeof(jn_real) * model.n_params);
    j.velocity = calloc(model.n_params, sizeof(jn_real));
    REQUIRE(j.params && j.velocity, "out of memory");
    jn_model_init_params(&model, hp.seed, j.params);
    return j;
}

static void free_job(job *j)
{
    free(j->params);
    free(j->velocity);
}

static jn_backend *make_backend(int models, int graph)
{
    const jn_backend_setup setup = {B, models, 0, 0, graph};
    jn_backend *be = jn_backend_create(JN_DEVICE_CUDA, &model, &group_obj, &setup, &train);
    REQUIRE(be, "backend of %d slots: %s", models, jn_last_error());
    return be;
}

/* Puts a job into a slot: its hyperparameters and state. */
static void enter(jn_backend *be, int slot, const job *j)
{
    REQUIRE(be->ops->set_hparams(be, slot, &j->hp) == 0, "set_hparams: %s", jn_last_error());
    REQUIRE(be->ops->set_state(be, slot, j->params, j->velocity) == 0, "set_state: %s", jn_last_error());
}

/* One chunk of n batches from the group's batch `first` for the jobs in the slots (NULL:
 * inactive); then each job's state pulled and its position advanced, as the trainer does. */
static void chunk(jn_backend *be, job **slot, long first, long n)
{
    jn_slot_chunk at[M];
    jn_epoch_sums sums[M];
    jn_chunk_result res[M];
    for (int s = 0; s < be->models; s++) {
        job *j = slot[s];
        REQUIRE(!j || (j->batch == first && !j->diverged), "test script: %s is not at batch %ld", j->name, first);
        at[s] = (jn_slot_chunk){j != NULL, j ? j->epoch : 0, j ? j->step : 0, j ? j->lr * pow(0.9, j->epoch) : 0};
        sums[s] = j ? j->sums : (jn_epoch_sums){0};
        res[s] = (jn_chunk_result){-7, -7};  /* must be left alone for an inactive slot */
    }
    const jn_train_chunk c = {first, n, at};
    REQUIRE(be->ops->train(be, &c, sums, res) == 0, "train: %s", jn_last_error());
    for (int s = 0; s < be->models; s++) {
        job *j = slot[s];
        if (!j) {
            CHECK(res[s].steps_done == -7 && res[s].diverged == -7, "inactive slot %d: its result was written", s);
            continue;
        }
        CHECK(res[s].diverged || res[s].steps_done == n, "%s: %ld of %ld steps without a divergence", j->name,
              res[s].steps_done, n);
        /* The sums count the steps done and their examples, a short last batch as it is. */
        long examples = 0;
        for (long b = first; b < first + res[s].steps_done; b++)
            examples += N - b * B < B ? N - b * B : B;
        CHECK(sums[s].steps - j->sums.steps == res[s].steps_done && sums[s].examples - j->sums.examples == examples,
              "%s: the chunk's sums count %ld steps of %ld examples, expected %ld of %ld", j->name,
              sums[s].steps - j->sums.steps, sums[s].examples - j->sums.examples, res[s].steps_done, examples);
        j->sums = sums[s];
        j->step += (uint64_t)res[s].steps_done;
        j->batch += res[s].steps_done;
        j->diverged = res[s].diverged;
        REQUIRE(be->ops->get_state(be, s, j->params, j->velocity) == 0, "get_state: %s", jn_last_error());
        if (j->batch == BATCHES) {
            j->epoch++;
            j->batch = 0;
        }
    }
}

/* The chunks a job took in the group, replayed for it alone. */
typedef struct {
    long first, n;
} span;

typedef struct {
    span spans[8];
    int count;
} history;

static void record(job **slot, history *per_job, job *jobs, long first, long n)
{
    for (int s = 0; s < M; s++)
        if (slot[s]) {
            history *own = &per_job[slot[s] - jobs];
            own->spans[own->count++] = (span){first, n};
        }
}

/* The group's script: per chunk, an optional refill (slot, job), the job in each slot (-1: the
 * slot sits out) and the batches. */
static const struct {
    int refill_slot, refill_job, who[M];
    long first, n;
} script[] = {
    {-1, -1, {0, 1, 2, 3}, 0, 5},   /* epoch 0, batches 0-4: all four; d diverges on the way */
    {-1, -1, {0, 1, -1, -1}, 5, 3}, /* batches 5-7 (the last one short): c sits out, d is done */
    {3, 4, {0, 1, -1, 4}, 0, 5},    /* the next epoch for a and b; e refills d's slot, fresh */
    {-1, -1, {0, -1, 2, 4}, 5, 3},  /* b stops (as an early stop would); c rejoins mid-epoch */
};

/* Trains the group's script; jobs[] end in their final states. */
static void group_script(jn_backend *be, job *jobs, history *per_job)
{
    for (int s = 0; s < M; s++)
        enter(be, s, &jobs[s]);
    for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
        if (script[i].refill_slot >= 0)
            enter(be, script[i].refill_slot, &jobs[script[i].refill_job]);
        job *slots[M];
        for (int s = 0; s < M; s++)
            slots[s] = script[i].who[s] >= 0 ? &jobs[script[i].who[s]] : NULL;
        record(slots, per_job, jobs, script[i].first, script[i].n);
        chunk(be, slots, script[i].first, script[i].n);
    }
}

/* The job's history alone in slot `slot` of a backend (its other slots idle). */
static void alone(jn_backend *be, int slot, job *j, const history *h)
{
    enter(be, slot, j);
    for (int i = 0; i < h->count; i++) {
        job *slots[M] = {NULL, NULL, NULL, NULL};
        slots[slot] = j;
        chunk(be, slots, h->spans[i].first, h->spans[i].n);
    }
}

/* Whether two runs of a job ended the same: bitwise, or (exact = 0) within 1e-4. */
static void compare(const job *x, const job *y, int exact, const char *what)
{
    const size_t bytes = sizeof(jn_real) * model.n_params;
    CHECK(x->diverged == y->diverged && x->step == y->step && x->epoch == y->epoch,
          "%s, %s: diverged %d at step %llu vs %d at %llu", x->name, what, x->diverged, (unsigned long long)x->step,
          y->diverged, (unsigned long long)y->step);
    if (exact) {
        CHECK(!memcmp(x->params, y->params, bytes) && !memcmp(x->velocity, y->velocity, bytes),
              "%s, %s: parameters or velocity not byte-identical (relative difference %.3e)", x->name, what,
              check_rel_diff(x->params, y->params, model.n_params));
        CHECK(!memcmp(&x->sums, &y->sums, sizeof x->sums), "%s, %s: epoch sums differ (loss %.17g vs %.17g)", x->name,
              what, x->sums.loss, y->sums.loss);
    } else if (!x->diverged) {
        const double p = check_rel_diff(x->params, y->params, model.n_params);
        const double v = check_rel_diff(x->velocity, y->velocity, model.n_params);
        CHECK(p < 1e-4 && v < 1e-4, "%s, %s: parameters differ by %.3e, velocity by %.3e", x->name, what, p, v);
        CHECK(fabs(x->sums.loss - y->sums.loss) <= 1e-4 * fabs(y->sums.loss), "%s, %s: loss sums %.9g vs %.9g",
              x->name, what, x->sums.loss, y->sums.loss);
    }
}

static void make_jobs(job *jobs)
{
    /* seed, momentum, weight decay, input noise, penalty noise, lambda; then lr. */
    jobs[0] = make_job("a", (jn_model_hparams){1, 0.9, 0, 0.2, 0.3, 0.1}, 0.1);
    jobs[1] = make_job("b (no penalty noise)", (jn_model_hparams){2, 0.5, 1e-3, 0.1, 0, 0.05}, 0.05);
    jobs[2] = make_job("c (a's seed, no input noise)", (jn_model_hparams){1, 0, 0, 0, 0.1, 0.2}, 0.2);
    jobs[3] = make_job("d (diverges)", (jn_model_hparams){3, 0, 1e30, 0.2, 0.3, 0.1}, 1);
    jobs[4] = make_job("e (refill)", (jn_model_hparams){7, 0.9, 1e-4, 0.3, 0.2, 0.3}, 0.1);
}

/* Device bytes the backend allocates, as the device reports them, against the accounting. */
static void memory(void)
{
    const jn_backend_setup setup = {B, 3, 0, 0, 1};
    const jn_cuda_memory want = jn_cuda_backend_bytes(&model, &group_obj, &setup, &train);
    const size_t accounted = want.shared + want.state + want.activations;
    size_t before = 0, after = 0, total = 0;
    cudaFree(0);  /* the context exists before the first measurement */
    REQUIRE(cudaMemGetInfo(&before, &total) == cudaSuccess, "cudaMemGetInfo");
    jn_backend *be = jn_backend_create(JN_DEVICE_CUDA, &model, &group_obj, &setup, &train);
    REQUIRE(be, "backend: %s", jn_last_error());
    REQUIRE(cudaMemGetInfo(&after, &total) == cudaSuccess, "cudaMemGetInfo");
    const size_t used = before - after;
    printf("device memory of 3 slots: %zu bytes allocated, %zu accounted (shared %zu, state %zu, activations %zu)\n",
           used, accounted, want.shared, want.state, want.activations);
    if (emulated)
        CHECK(used == accounted, "the backend allocates %zu bytes, jn_cuda_backend_bytes says %zu", used, accounted);
    else
        CHECK(used >= accounted, "the backend allocates %zu bytes, less than the %zu accounted", used, accounted);
    be->ops->destroy(be);
}

/* The group script, every comparison and the memory accounting for group_obj. */
static void run_group(void)
{
    memory();

    /* The group, with graph replay and with eager launches. */
    job group[MAX_JOBS], eager[MAX_JOBS];
    history per_job[MAX_JOBS] = {0}, unused[MAX_JOBS] = {0};
    make_jobs(group);
    make_jobs(eager);
    jn_backend *be = make_backend(M, 1);
    group_script(be, group, per_job);
    CHECK(group[3].diverged && group[3].step >= 1 && group[3].step < 5,
          "d should diverge inside the first chunk, after a step: diverged %d after %llu steps", group[3].diverged,
          (unsigned long long)group[3].step);
    CHECK(group[0].step == 16 && group[1].step == 13 && group[2].step == 8 && group[4].step == 8,
          "steps a %llu b %llu c %llu e %llu", (unsigned long long)group[0].step, (unsigned long long)group[1].step,
          (unsigned long long)group[2].step, (unsigned long long)group[4].step);
    /* Every slot evaluated in one pass, against each configuration's parameters alone. */
    long errors[M], solo_errors[M];
    REQUIRE(be->ops->count_errors(be, &train, NULL, errors) == 0, "count_errors: %s", jn_last_error());
    jn_backend *eager_be = make_backend(M, 0);
    group_script(eager_be, eager, unused);
    for (int j = 0; j < 5; j++)
        compare(&eager[j], &group[j], 1, "eager launches vs graph replay");
    eager_be->ops->destroy(eager_be);

    /* Each configuration alone: in another slot of a 4-slot backend, and in a 1-slot one. */
    jn_backend *four = make_backend(M, 1), *one = make_backend(1, 1);
    job solo4[MAX_JOBS], solo1[MAX_JOBS];
    make_jobs(solo4);
    make_jobs(solo1);
    const int slot_of[5] = {0, 1, 2, 3, 3};
    for (int j = 0; j < 5; j++) {
        alone(four, (slot_of[j] + 1) % M, &solo4[j], &per_job[j]);
        compare(&group[j], &solo4[j], 1, "alone in another slot of 4");
        alone(one, 0, &solo1[j], &per_job[j]);
        compare(&group[j], &solo1[j], emulated, emulated ? "alone in 1 slot (emulator: bitwise)" : "alone in 1 slot");
        if (j == 3)
            continue;  /* its slot was refilled */
        long e;
        unsigned char want[1] = {1};
        REQUIRE(one->ops->set_state(one, 0, group[j].params, group[j].velocity) == 0, "set_state");
        REQUIRE(one->ops->count_errors(one, &train, want, &e) == 0, "count_errors: %s", jn_last_error());
        solo_errors[slot_of[j]] = e;
    }
    for (int s = 0; s < M; s++) {
        printf("slot %d: %ld errors in one pass over the %d examples, %ld for its parameters alone\n", s, errors[s], N,
               solo_errors[s]);
        CHECK(emulated ? errors[s] == solo_errors[s] : labs(errors[s] - solo_errors[s]) <= 1,
              "slot %d: %ld errors in the batched pass, %ld alone", s, errors[s], solo_errors[s]);
    }
    for (int j = 0; j < 5; j++)
        printf("%-30s %2llu steps, epoch %d, %s, loss sum %.9g\n", group[j].name, (unsigned long long)group[j].step,
               group[j].epoch, group[j].diverged ? "diverged" : "finite", group[j].sums.loss);
    four->ops->destroy(four);
    one->ops->destroy(one);
    be->ops->destroy(be);
    for (int j = 0; j < 5; j++) {
        free_job(&group[j]);
        free_job(&eager[j]);
        free_job(&solo4[j]);
        free_job(&solo1[j]);
    }
}

int main(void)
{
    if (jn_cuda_device_count() == 0) {
        printf("no CUDA device visible: skipped\n");
        return CHECK_SKIP;
    }
    struct cudaDeviceProp prop;
    REQUIRE(cudaGetDeviceProperties(&prop, 0) == cudaSuccess, "device properties");
    emulated = strstr(prop.name, "cuda-emu") != NULL;
    const int hidden[2] = {10, 6};
    REQUIRE(jn_model_make(&model, 12, hidden, 2, 3) == 0, "model");
    /* The group's structure: N+J on the output, K = 1, input noise; sized for the largest. */
    group_obj = (jn_objective){.loss = JN_LOSS_XENT, .jac_copies = 1, .jac_proj = 1, .target = JN_TARGET_OUTPUT,
                               .input_noise = 0.3, .jac_noise = 0.3, .jac_lambda = 0.3, .weight_decay = 1e30};
    train = (jn_dataset){.name = "synthetic", .n = N, .d = 12, .classes = 3};
    train.x = malloc(sizeof(float) * N * 12);
    train.y = malloc(sizeof(int32_t) * N);
    REQUIRE(train.x && train.y, "out of memory");
    for (int k = 0; k < N * 12; k++)
        train.x[k] = (float)((k * 2654435761u) >> 24 & 255) / 255.0f;
    for (int i = 0; i < N; i++) {  /* learnable: the largest of the first three features */
        const float *x = train.x + i * 12;
        train.y[i] = x[0] >= x[1] && x[0] >= x[2] ? 0 : x[1] >= x[2] ? 1 : 2;
    }

    run_group();
    /* The exact output norm by reverse mode (its rows' per-model strides and lambdas), 2 copies. */
    group_obj.jac_proj = JN_PROJ_EXACT;
    group_obj.jac_copies = 2;
    printf("\nthe exact output norm, 2 copies:\n");
    run_group();
    free(train.x);
    free(train.y);
    return check_exit();
}
