/* The CUDA engine's step against the CPU reference, on shapes chosen to stress the kernels'
 * edges (widths and batch sizes of 1, 7, 1000, 1023), for every loss, target and estimator.
 * Same inputs on both sides (parameters, batch and noise made on the host and uploaded);
 * each gradient tensor must agree to ||gpu - cpu|| / ||cpu|| < 1e-4 (both float32, GEMM
 * sums in different orders: ~1e-6 expected; a wrong kernel is off by O(1)), the loss terms
 * likewise, the update and the error count exactly as computed from the same gradients.
 * A batch past the gather's 32-bit index is refused, with its sizes, before anything is
 * allocated. Skipped (77) where no CUDA device is visible. With --faults, the error paths of the probes,
 * of cuBLAS and of calls checked apart from where they are made instead, under faults the
 * CUDA emulator makes (tests/test_cuda_faults.py). */
#include "check.h"
#include "cuda/check.h"
#include "cuda/gemm.h"
#include "cuda/workspace.h"
#include "jacnoise/backend.h"
#include "jacnoise/cpu.h"
#include "jacnoise/cuda.h"
#include "jacnoise/error.h"
#include "jacnoise/evaluate.h"
#include "jacnoise/profile.h"
#include "jacnoise/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CUDA_REQUIRE(call) REQUIRE((call) == cudaSuccess, "%s", #call)

static float *to_device(const void *host, size_t bytes)
{
    void *d = NULL;
    CUDA_REQUIRE(cudaMalloc(&d, bytes ? bytes : 1));
    CUDA_REQUIRE(cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice));
    return d;
}

static void check_case(jn_cuda_ctx *ctx, const char *label, int d, const int *hidden, int n_hidden, int C, int B,
                       jn_objective obj)
{
    jn_model m;
    REQUIRE(jn_model_make(&m, d, hidden, n_hidden, C) == 0, "model: %s", jn_last_error());
    REQUIRE(jn_objective_check(&obj, &m) == 0, "objective: %s", jn_last_error());
    const size_t P = m.n_params, in = (size_t)B * d;
    const jn_noise_sizes ns = jn_objective_noise_sizes(&obj, &m, B);
    float *params = malloc(P * sizeof(float)), *bump = malloc(P * sizeof(float));
    float *x = malloc(in * sizeof(float)), *xi = malloc((ns.xi + 1) * sizeof(float));
    float *eps = malloc((ns.eps + 1) * sizeof(float)), *v = malloc((ns.v + 1) * sizeof(float));
    int32_t *y = malloc((size_t)B * sizeof(int32_t));
    jn_model_init_params(&m, 5, params);
    jn_rng_uniform(5, JN_STREAM_EVAL_TANGENT, 1, bump, P, 0.2);
    for (size_t i = 0; i < P; i++)
        params[i] = 1.2f * params[i] + bump[i];
    jn_rng_uniform(5, JN_STREAM_EVAL_NOISE, 2, x, in, 0.5);
    for (size_t k = 0; k < in; k++)
        x[k] += 0.5f;
    for (int i = 0; i < B; i++)
        y[i] = (i * 7) % C;
    jn_rng_normal(5, JN_STREAM_INPUT_NOISE, 3, xi, ns.xi);
    jn_rng_normal(5, JN_STREAM_JAC_NOISE, 3, eps, ns.eps);
    jn_rng_normal(5, JN_STREAM_TANGENT, 3, v, ns.v);

    /* CPU reference. */
    jn_cpu_ws *cws = jn_cpu_ws_new(&m, &obj, B);
    REQUIRE(cws, "cpu workspace");
    float *cgrad = malloc(P * sizeof(float)), *cparams = malloc(P * sizeof(float)), *cvel = calloc(P, sizeof(float));
    const jn_batch cb = {x, y, B};
    const jn_noise cn = {ns.xi ? xi : NULL, ns.eps ? eps : NULL, ns.v ? v : NULL};
    jn_step_terms terms;
    jn_cpu_step(cws, params, &cb, &cn, &terms, cgrad);
    memcpy(cparams, params, P * sizeof(float));
    const double lr = 0.05, mu = 0.9;
    jn_cpu_sgd_update(&m, cparams, cgrad, cvel, lr, mu, obj.weight_decay);

    /* The same on the GPU. */
    jn_cuda_ws *gws = jn_cuda_ws_new(ctx, &m, &obj, B, 1);
    REQUIRE(gws, "cuda workspace: %s", jn_last_error());
    const jn_hparams hp = {(float)lr, (float)mu, (float)obj.weight_decay, (float)obj.input_noise, (float)obj.jac_noise,
                           (float)obj.jac_lambda};
    REQUIRE(jn_cuda_ws_set_hparams(gws, &hp) == 0, "hparams");
    float *dparams = to_device(params, P * sizeof(float)), *dvel = NULL, *dgrad = NULL;
    CUDA_REQUIRE(cudaMalloc((void **)&dvel, P * sizeof(float)));
    CUDA_REQUIRE(cudaMemset(dvel, 0, P * sizeof(float)));
    CUDA_REQUIRE(cudaMalloc((void **)&dgrad, P * sizeof(float)));
    float *dx = to_device(x, in * sizeof(float)), *dxi = to_device(xi, ns.xi * sizeof(float));
    float *deps = to_device(eps, ns.eps * sizeof(float)), *dv = to_device(v, ns.v * sizeof(float));
    int32_t *dy = (int32_t *)to_device(y, (size_t)B * sizeof(int32_t));
    jn_step_sums *dsums = NULL;
    CUDA_REQUIRE(cudaMalloc((void **)&dsums, sizeof(jn_step_sums)));
    const jn_batch gb = {dx, dy, B};
    const jn_noise gn = {ns.xi ? dxi : NULL, ns.eps ? deps : NULL, ns.v ? dv : NULL};
    jn_gemm_log log = {0};
    jn_cuda_ws_log_gemms(gws, &log);
    REQUIRE(jn_cuda_step(gws, dparams, &gb, &gn, dsums, NULL, dgrad) == 0, "cuda step: %s", jn_last_error());
    jn_cuda_ws_log_gemms(gws, NULL);
    /* The exact output norm's step issues the cost model's GEMMs exactly (reverse mode, as on
     * the CPU; forward mode over the input basis did d / C times its penalty's work). */
    if (jn_objective_jacobian_rows(&obj)) {
        double phases[JN_PHASES], issued = 0;
        const double model = jn_step_flops(&m, &obj, B, phases);
        for (int i = 0; i < log.count; i++)
            issued += jn_gemm_flops(&log.calls[i]);
        CHECK(fabs(issued - model) <= 1e-12 * model, "%s: the step's GEMMs do %.6g FLOPs, the cost model says %.6g",
              label, issued, model);
    }
    jn_gemm_log_free(&log);
    float *ggrad = malloc(P * sizeof(float)), *gparams = malloc(P * sizeof(float));
    jn_step_sums sums;
    CUDA_REQUIRE(cudaMemcpy(ggrad, dgrad, P * sizeof(float), cudaMemcpyDeviceToHost));
    CUDA_REQUIRE(cudaMemcpy(&sums, dsums, sizeof sums, cudaMemcpyDeviceToHost));
    REQUIRE(jn_cuda_sgd_update(gws, dparams, dgrad, dvel, dsums, NULL, NULL) == 0, "update: %s", jn_last_error());
    CUDA_REQUIRE(cudaMemcpy(gparams, dparams, P * sizeof(float), cudaMemcpyDeviceToHost));

    double loss_rel = fabs(sums.loss / B - terms.loss) / fabs(terms.loss);
    double pen_rel = obj.jac_lambda > 0 ? fabs(sums.penalty / B - terms.penalty) / fabs(terms.penalty) : 0;
    double worst = 0;
    int worst_layer = 0;
    for (int l = 1; l <= m.n_layers; l++) {
        double e = check_rel_diff(ggrad + m.w_offset[l], cgrad + m.w_offset[l], (size_t)m.sizes[l] * m.sizes[l - 1]);
        double eb = check_rel_diff(ggrad + m.b_offset[l], cgrad + m.b_offset[l], (size_t)m.sizes[l]);
        if (fmax(e, eb) > worst) {
            worst = fmax(e, eb);
            worst_layer = l;
        }
    }
    double upd = check_rel_diff(gparams, cparams, P);
    printf("%-34s loss %.1e penalty %.1e grad %.1e (layer %d) update %.1e errors %.0f/%d\n", label, loss_rel, pen_rel,
           worst, worst_layer, upd, sums.errors, terms.errors);
    CHECK(loss_rel < 1e-4, "%s: loss %.9g vs cpu %.9g", label, sums.loss / B, terms.loss);
    CHECK(pen_rel < 1e-4, "%s: penalty %.9g vs cpu %.9g", label, sums.penalty / B, terms.penalty);
    CHECK(worst < 1e-4, "%s: gradient of layer %d differs by %.3e", label, worst_layer, worst);
    CHECK(upd < 1e-5, "%s: parameters after the update differ by %.3e", label, upd);

    /* Error counting on the same rows. */
    CUDA_REQUIRE(cudaMemset(dsums, 0, sizeof(jn_step_sums)));
    REQUIRE(jn_cuda_count_errors(gws, dparams, dx, dy, B, dsums) == 0, "count: %s", jn_last_error());
    CUDA_REQUIRE(cudaMemcpy(&sums, dsums, sizeof sums, cudaMemcpyDeviceToHost));
    jn_dataset set = {.n = B, .d = d, .classes = C, .x = x, .y = y};
    long cpu_errors;
    REQUIRE(jn_cpu_count_errors(&m, gparams, &set, &cpu_errors) == 0, "cpu count");
    CHECK((long)sums.errors == cpu_errors, "%s: gpu counts %.0f errors, cpu %ld", label, sums.errors, cpu_errors);

    void *dev[] = {dparams, dvel, dgrad, dx, dxi, deps, dv, dy, dsums};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
        cudaFree(dev[i]);
    jn_cuda_ws_free(gws);
    jn_cpu_ws_free(cws);
    free(params), free(bump), free(x), free(xi), free(eps), free(v), free(y), free(cgrad), free(cparams), free(cvel),
        free(ggrad), free(gparams);
}

/* The device's epoch permutation is the one jn_rng_permutation defines, so a run resumed on
 * the other backend mid-epoch (batches 0 .. k-1 from one, k .. from the other) visits every
 * example of that epoch exactly once. */
static void check_permutation(jn_cuda_ctx *ctx, uint64_t seed, int epoch, int n)
{
    uint32_t *buf[4] = {0};
    for (int i = 0; i < 4; i++)
        CUDA_REQUIRE(cudaMalloc((void **)&buf[i], sizeof(uint32_t) * (n + 1)));
    size_t temp_bytes;
    CUDA_REQUIRE(jn_k_shuffle_temp_bytes(n, &temp_bytes));
    void *temp = NULL;
    CUDA_REQUIRE(cudaMalloc(&temp, temp_bytes ? temp_bytes : 1));
    REQUIRE(jn_k_shuffle(seed, epoch, n, buf[0], buf[1], buf[2], buf[3], temp, temp_bytes, ctx->stream) == 0,
            "jn_k_shuffle");
    uint32_t *gpu = malloc(sizeof(uint32_t) * (n + 1)), *cpu = malloc(sizeof(uint32_t) * (n + 1));
    int *visits = malloc(sizeof(int) * (n + 1));
    CUDA_REQUIRE(cudaStreamSynchronize(ctx->stream));
    CUDA_REQUIRE(cudaMemcpy(gpu, buf[3], sizeof(uint32_t) * n, cudaMemcpyDeviceToHost));
    REQUIRE(jn_rng_permutation(seed, JN_STREAM_SHUFFLE, (uint64_t)epoch, cpu, (uint32_t)n) == 0, "cpu permutation");
    int differ = 0;
    for (int i = 0; i < n; i++)
        differ += gpu[i] != cpu[i];
    CHECK(differ == 0, "seed %llu epoch %d n %d: the permutations differ at %d of %d positions",
          (unsigned long long)seed, epoch, n, differ, n);
    /* Switching backend after k of n examples, both ways. */
    const int splits[] = {1, n / 3, n / 2 + 1, n - 1};
    for (int way = 0; way < 2; way++)
        for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
            const uint32_t *before = way ? cpu : gpu, *after = way ? gpu : cpu;
            memset(visits, 0, sizeof(int) * (n + 1));
            for (int i = 0; i < n; i++)
                visits[(i < splits[k] ? before : after)[i] % (uint32_t)n]++;
            int wrong = 0;
            for (int i = 0; i < n; i++)
                wrong += visits[i] != 1;
            CHECK(wrong == 0, "n %d, %s then %s after %d examples: %d examples not visited exactly once", n,
                  way ? "cpu" : "gpu", way ? "gpu" : "cpu", splits[k], wrong);
        }
    printf("permutation seed %llu epoch %d n %d: gpu and cpu differ at %d positions\n", (unsigned long long)seed,
           epoch, n, differ);
    for (int i = 0; i < 4; i++)
        cudaFree(buf[i]);
    cudaFree(temp);
    free(gpu), free(cpu), free(visits);
}

/* Mean, variance and the largest |correlation| with the blocks before it, of block b of n
 * values. */
static void block_stats(float *const *blocks, int b, size_t n, double *mean, double *var, double *corr)
{
    double mb[16], sb[16];
    for (int k = 0; k <= b; k++) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < n; i++)
            sum += blocks[k][i];
        mb[k] = sum / n;
        for (size_t i = 0; i < n; i++)
            sq += (blocks[k][i] - mb[k]) * (blocks[k][i] - mb[k]);
        sb[k] = sqrt(sq / n);
    }
    *mean = mb[b];
    *var = sb[b] * sb[b];
    *corr = 0;
    for (int k = 0; k < b; k++) {
        double cov = 0;
        for (size_t i = 0; i < n; i++)
            cov += (blocks[k][i] - mb[k]) * (blocks[b][i] - mb[b]);
        *corr = fmax(*corr, fabs(cov / n / (sb[k] * sb[b])));
    }
}

/* A step's batch and noise as the device makes them (jn_cuda_fill_step, for the backend and
 * `check`): the batch is the rows of the epoch's permutation; the noise depends on the model's
 * seed and step, not on where its chunk began (a step drawn as a chunk's second equals it
 * drawn first); the input noise, each copy's penalty noise and each tangent are independent
 * standard normals (`check` hands the CPU these very buffers, so it cannot see that). */
static void check_step_inputs(jn_cuda_ctx *ctx)
{
    enum { N = 40, D = 64, C = 3, B = 10, SEED = 11 };
    const int hidden[1] = {8};
    jn_model m;
    REQUIRE(jn_model_make(&m, D, hidden, 1, C) == 0, "model");
    const jn_objective obj = {.loss = JN_LOSS_XENT, .jac_copies = 2, .jac_proj = 2, .target = JN_TARGET_OUTPUT,
                              .input_noise = 0.2, .jac_noise = 0.3, .jac_lambda = 0.1};
    REQUIRE(jn_objective_check(&obj, &m) == 0, "objective: %s", jn_last_error());
    static float x[N * D];
    static int32_t y[N];
    for (int k = 0; k < N * D; k++)
        x[k] = (float)((k * 2654435761u) >> 24 & 255) / 255.0f;
    for (int i = 0; i < N; i++)
        y[i] = i % C;
    const jn_dataset train = {.name = "synthetic", .n = N, .d = D, .classes = C, .x = x, .y = y};
    jn_cuda_ws *ws = jn_cuda_ws_new(ctx, &m, &obj, B, 1);
    REQUIRE(ws, "cuda workspace: %s", jn_last_error());
    jn_cuda_step_inputs in;
    jn_cuda_slots slots;
    REQUIRE(jn_cuda_step_inputs_alloc(&in, &m, &obj, &train, B, 1, 0) == 0, "inputs: %s", jn_last_error());
    REQUIRE(jn_cuda_slots_alloc(&slots, &m, 1, 2) == 0, "slots: %s", jn_last_error());
    const jn_hparams hp = {0.05f, 0.9f, 0, (float)obj.input_noise, (float)obj.jac_noise, (float)obj.jac_lambda};
    REQUIRE(jn_cuda_ws_set_hparams(ws, &hp) == 0, "hparams");
    const jn_noise_sizes ns = jn_objective_noise_sizes(&obj, &m, B);
    const size_t per = (size_t)B * D, n = per + ns.xi + ns.eps + ns.v;
    float *got[3];
    int32_t labels[3][B];
    for (int i = 0; i < 3; i++)
        REQUIRE((got[i] = malloc(n * sizeof(float))), "out of memory");
    /* got[0], got[1]: steps 20 and 21 (batches 1 and 2) in one chunk; got[2]: step 21 first in its chunk. */
    for (int i = 0; i < 3; i++) {
        if (i != 1) {
            const jn_model_ctl at = {SEED, i == 0 ? 20 : 21, 1, -1};
            REQUIRE(jn_cuda_slots_begin(&slots, &at, i == 0 ? 1 : 2, ctx->stream) == 0, "begin: %s", jn_last_error());
            REQUIRE(jn_cuda_step_inputs_shuffle(&in, ctx->stream, 0, SEED, 0) == 0, "shuffle: %s", jn_last_error());
        } else {
            REQUIRE(jn_cuda_sgd_update(ws, slots.params, slots.grad, slots.velocity, slots.sums, slots.ctl,
                                       slots.model) == 0, "update: %s", jn_last_error());
        }
        jn_batch gb;
        jn_noise gn;
        REQUIRE(jn_cuda_fill_step(ws, &in, &slots, B, B, &gb, &gn) == 0, "step: %s", jn_last_error());
        CUDA_REQUIRE(cudaStreamSynchronize(ctx->stream));
        CUDA_REQUIRE(cudaMemcpy(got[i], gb.x, per * sizeof(float), cudaMemcpyDeviceToHost));
        CUDA_REQUIRE(cudaMemcpy(got[i] + per, gn.xi, ns.xi * sizeof(float), cudaMemcpyDeviceToHost));
        CUDA_REQUIRE(cudaMemcpy(got[i] + per + ns.xi, gn.eps, ns.eps * sizeof(float), cudaMemcpyDeviceToHost));
        CUDA_REQUIRE(cudaMemcpy(got[i] + per + ns.xi + ns.eps, gn.v, ns.v * sizeof(float), cudaMemcpyDeviceToHost));
        CUDA_REQUIRE(cudaMemcpy(labels[i], gb.y, sizeof labels[i], cudaMemcpyDeviceToHost));
    }
    CHECK(!memcmp(got[1], got[2], n * sizeof(float)) && !memcmp(labels[1], labels[2], sizeof labels[1]),
          "step inputs: step 21 drawn second in a chunk differs from it drawn first in one");
    uint32_t perm[N];
    REQUIRE(jn_rng_permutation(SEED, JN_STREAM_SHUFFLE, 0, perm, N) == 0, "cpu permutation");
    int wrong = 0;
    for (int i = 0; i < B; i++) {
        wrong += labels[0][i] != y[perm[B + i]] || memcmp(got[0] + (size_t)i * D, x + (size_t)perm[B + i] * D,
                                                          D * sizeof(float));
        wrong += labels[1][i] != y[perm[2 * B + i]] || memcmp(got[1] + (size_t)i * D,
                                                              x + (size_t)perm[2 * B + i] * D, D * sizeof(float));
    }
    CHECK(wrong == 0, "step inputs: %d rows of batches 1 and 2 are not the permutation's", wrong);
    /* Blocks of B x D normals: the input noise, each copy's penalty noise, each copy's tangents. */
    for (int i = 0; i < 2; i++) {
        float *blocks[16];
        int count = 0;
        for (size_t at = per; at < n; at += per)
            blocks[count++] = got[i] + at;
        for (int b = 0; b < count; b++) {
            double mean, var, corr;
            block_stats(blocks, b, per, &mean, &var, &corr);
            /* 640 normals: the mean's standard deviation is 0.04, the variance's 0.056, a correlation's 0.04. */
            CHECK(fabs(mean) < 0.25 && fabs(var - 1) < 0.3 && corr < 0.25,
                  "step %d, noise block %d of %d: mean %.3f, variance %.3f, |correlation| with an earlier block %.3f",
                  20 + i, b, count, mean, var, corr);
        }
    }
    printf("step inputs: batches are the permutation's rows, %zu noise values per step, a step draws the same in "
           "any chunk\n", n - per);
    for (int i = 0; i < 3; i++)
        free(got[i]);
    jn_cuda_slots_free(&slots);
    jn_cuda_step_inputs_free(&in);
    jn_cuda_ws_free(ws);
}

/* A batch of more than 2^32 - 1 values (65537 examples of 65536 inputs) is refused where the
 * step's inputs are set up, naming its sizes, not at the gather's launch as "invalid argument"
 * after every buffer was allocated (which no device could hold here). */
static void check_batch_index(void)
{
    enum { D = 65536, B = 65537 };
    const int hidden[1] = {1};
    jn_model m;
    REQUIRE(jn_model_make(&m, D, hidden, 1, 2) == 0, "model: %s", jn_last_error());
    const jn_objective obj = {.loss = JN_LOSS_XENT, .jac_copies = 1, .jac_proj = 1};
    static float x[D];
    static int32_t y[1];
    const jn_dataset train = {.name = "synthetic", .n = 1, .d = D, .classes = 2, .x = x, .y = y};
    jn_cuda_step_inputs in;
    const int rc = jn_cuda_step_inputs_alloc(&in, &m, &obj, &train, B, 1, 0);
    CHECK(rc == -1 && strstr(jn_last_error(), "a batch of 65537 examples of 65536 inputs is 4295032832 values"),
          "a batch of %d x %d values: %d (%s)", B, D, rc, jn_last_error());
    jn_cuda_step_inputs_free(&in);
    printf("batch index: %s\n", jn_last_error());
}

/* The device probes answer without leaving an error recorded for the next check to report
 * as its own (a failed cudaGetDeviceCount's, where no device is visible). */
static void check_probes(void)
{
    const int count = jn_cuda_device_count();
    CHECK(cudaGetLastError() == cudaSuccess, "jn_cuda_device_count (%d device(s)) left an error recorded", count);
    const int refused = jn_cuda_device_check();
    CHECK(!refused == (count > 0), "jn_cuda_device_check with %d device(s): %d (%s)", count, refused,
          jn_last_error());
    CHECK(cudaGetLastError() == cudaSuccess, "jn_cuda_device_check left an error recorded");
    printf("probes with %d device(s): no error left recorded\n", count);
}

/* A failed call's message names the call itself, whatever variable held its result. */
static void check_names(int rc, const char *call, const char *what)
{
    char name[64];
    snprintf(name, sizeof name, ": %s: ", call);
    CHECK(rc == -1 && strstr(jn_last_error(), name), "%s: %d, '%s'; expected a failure naming %s", what, rc,
          rc ? jn_last_error() : "", call);
    printf("%s: %s\n", what, rc ? jn_last_error() : "(it did not fail)");
}

/* A cuBLAS call failing at its launch is reported with the runtime's error, and leaves that
 * error recorded for no later launch check: here the handle's stream is the legacy one while
 * a blocking stream captures, a launch the runtime refuses (the capture it invalidates is the
 * emulator's one finding). The profile's operand upload, a synchronous copy the capture
 * refuses, and the end of that invalidated capture fail too, each naming its call. */
static void check_cublas_failure(void)
{
    jn_cuda_ctx ctx;
    REQUIRE(jn_cuda_ctx_open(&ctx, 0) == 0, "%s", jn_last_error());
    const float zeros[4] = {0};
    float *x = to_device(zeros, sizeof zeros), *w = to_device(zeros, sizeof zeros), *y = to_device(zeros, sizeof zeros);
    cudaStream_t capturing;
    CUDA_REQUIRE(cudaStreamCreate(&capturing));
    REQUIRE(cublasSetStream(ctx.blas, NULL) == CUBLAS_STATUS_SUCCESS, "cublasSetStream");
    CUDA_REQUIRE(cudaStreamBeginCapture(capturing, cudaStreamCaptureModeThreadLocal));
    const jn_cuda_gemm g = {ctx.blas, NULL};
    const int rc = jn_cuda_gemm_forward(&g, 1, 2, 2, 2, x, 4, w, 4, y, 4);
    const cudaError_t left = cudaGetLastError();
    const char *why = cudaGetErrorString(cudaErrorStreamCaptureImplicit);
    CHECK(rc == -1 && strstr(jn_last_error(), ": cublasSgemmStridedBatched: ") && strstr(jn_last_error(), why),
          "a GEMM on the legacy stream during a capture: %d, '%s'; expected a failure naming the call and '%s'", rc,
          rc ? jn_last_error() : "", why);
    CHECK(left == cudaSuccess, "the failed cuBLAS call left %s recorded", cudaGetErrorName(left));
    printf("a cuBLAS call failing at its launch: %s\n", rc ? jn_last_error() : "(it did not fail)");
    check_names(jn_cuda_fill_operand(x, 4, 1, 1, 0), "cudaMemcpy", "an operand uploaded during a capture");
    cudaGraphExec_t exec = NULL;
    check_names(jn_cuda_end_capture(capturing, 0, &exec), "cudaStreamEndCapture", "an invalidated capture ended");
    cudaFree(x), cudaFree(w), cudaFree(y);
    cudaStreamDestroy(capturing);
    jn_cuda_ctx_close(&ctx);
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--faults")) {
        check_probes();
        if (jn_cuda_device_count() > 0)
            check_cublas_failure();
        return check_exit();
    }
    if (jn_cuda_device_count() == 0) {
        printf("no CUDA device visible: skipped\n");
        return CHECK_SKIP;
    }
    jn_cuda_ctx ctx;
    REQUIRE(jn_cuda_ctx_open(&ctx, 0) == 0, "%s", jn_last_error());
    check_batch_index();
    check_permutation(&ctx, 1, 0, 7);
    check_permutation(&ctx, 1, 1, 2000);
    check_permutation(&ctx, 20261130, 3, 50000);
    check_step_inputs(&ctx);
    const jn_objective plain = {.loss = JN_LOSS_XENT, .jac_copies = 1, .jac_proj = 1};
    struct {
        const char *name;
        int d, hidden[3], n_hidden, C, B;
    } shapes[] = {
        {"7-1-7-2, B=1", 7, {1, 7}, 2, 2, 1},
        {"33-1023-7-5, B=7", 33, {1023, 7}, 2, 5, 7},
        {"1023-1000-10, B=1023", 1023, {1000}, 1, 10, 1023},
        {"784-1000-1000-10, B=100", 784, {1000, 1000}, 2, 10, 100},
        {"16-7-7-7-3, B=1000", 16, {7, 7, 7}, 3, 3, 1000},
        /* 20 classes over 2000 rows: the exact output norm's rows in 3 chunks. */
        {"9-5-20, B=2000", 9, {5}, 1, 20, 2000},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        jn_objective cases[8];
        const char *names[8];
        int n = 0;
        cases[n] = plain, names[n++] = "plain";
        cases[n] = plain, cases[n].loss = JN_LOSS_SQUARED, cases[n].input_noise = 0.3, cases[n].weight_decay = 0.01,
        names[n++] = "squared + N + L2";
        cases[n] = plain, cases[n].jac_lambda = 0.5, cases[n].jac_noise = 0.3, cases[n].input_noise = 0.2,
        names[n++] = "N+J hidden1";
        cases[n] = plain, cases[n].jac_lambda = 0.5, cases[n].jac_noise = 0.3, cases[n].target = JN_TARGET_OUTPUT,
        cases[n].jac_proj = 2, cases[n].jac_copies = 2, names[n++] = "N+J output K=2, 2 copies";
        cases[n] = plain, cases[n].jac_lambda = 0.5, cases[n].jac_noise = 0.3, cases[n].target = JN_TARGET_HIDDEN,
        cases[n].target_layer = shapes[s].n_hidden, names[n++] = "N+J hidden:last K=1";
        cases[n] = plain, cases[n].jac_lambda = 0.5, cases[n].target = JN_TARGET_OUTPUT,
        cases[n].jac_proj = JN_PROJ_EXACT, names[n++] = "J output exact";
        cases[n] = cases[n - 1], cases[n].jac_noise = 0.3, cases[n].input_noise = 0.2, cases[n].jac_copies = 2,
        names[n++] = "N+J output exact, 2 copies";
        for (int i = 0; i < n; i++) {
            char label[128];
            snprintf(label, sizeof label, "%s, %s", shapes[s].name, names[i]);
            check_case(&ctx, label, shapes[s].d, shapes[s].hidden, shapes[s].n_hidden, shapes[s].C, shapes[s].B,
                       cases[i]);
        }
    }
    jn_cuda_ctx_close(&ctx);
    return check_exit();
}
