/* The CUDA benchmarks' hold on what they time (bench/bench_vs_cpu.h), without a GPU: a step
 * against the CPU reference within its tolerance in either precision (fp32 jacnoise check's
 * default; TF32 the GEMM chain's bound, without check's saturated-tanh term; a TF32 step beyond
 * its derived bound was printed as if it were the engine's), and no row whose models stopped
 * on a non-finite step; beyond either, one line naming the row and exit 1. And
 * the validated line's worst row of each precision. */
#include "bench_vs_cpu.h"
#include "check.h"
#include "jacnoise/objective.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* One check of a row, as a benchmark makes it. */
typedef struct {
    int tf32;
    double vs_cpu, tolerance;
    int stopped, models;
} row_check;

/* bench_check_cpu and bench_check_stopped on *c in a child: its exit status and stderr. */
static int child_check(const char *row, const row_check *c, char *err, size_t cap)
{
    int fd[2];
    REQUIRE(pipe(fd) == 0, "pipe");
    fflush(NULL);
    const pid_t pid = fork();
    REQUIRE(pid >= 0, "fork");
    if (pid == 0) {
        dup2(fd[1], 2);
        bench_worst worst[2] = {{0, 0}, {0, 0}};
        bench_check_cpu(row, c->tf32, c->vs_cpu, c->tolerance, worst);
        bench_check_stopped(row, c->stopped, c->models);
        _exit(0);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t got;
    while (n + 1 < cap && (got = read(fd[0], err + n, cap - 1 - n)) > 0)
        n += (size_t)got;
    err[n] = 0;
    close(fd[0]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(void)
{
    bench_prog = "bench_cuda_step";
    const int hidden[2] = {16, 16};
    jn_model m;
    REQUIRE(!jn_model_make(&m, 64, hidden, 2, 10), "model");
    const jn_objective obj = {.loss = JN_LOSS_XENT, .jac_copies = 1, .jac_proj = 1, .jac_lambda = 0.1,
                              .jac_noise = 0.3, .target = JN_TARGET_OUTPUT};
    const double fp32 = jn_step_tolerance(&m, &obj, 10, 0, NULL), tf32 = jn_step_tolerance(&m, &obj, 10, 1, NULL);
    CHECK(fp32 == JN_FP32_TOLERANCE && tf32 > fp32, "tolerances fp32 %g, tf32 %g", fp32, tf32);

    /* Beyond the limit, in either precision (and a NaN, which passes no threshold); models
     * stopped. */
    const struct {
        row_check c;
        const char *says;
    } refused[] = {{{0, 2 * fp32, fp32, 0, 1}, "the step differs from the CPU reference's by "},
                   {{1, 2 * tf32, tf32, 0, 1}, "the step differs from the CPU reference's by "},
                   {{1, NAN, tf32, 0, 1}, "the step differs from the CPU reference's by "},
                   {{1, tf32 / 2, tf32, 2, 4}, "2 of the 4 models stopped on a non-finite step"}};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char err[512], want[256];
        const row_check *c = &refused[i].c;
        snprintf(want, sizeof want, "bench_cuda_step: B = 10, plain: %s", refused[i].says);
        const int code = child_check("B = 10, plain", c, err, sizeof err);
        CHECK(code == 1 && !strncmp(err, want, strlen(want)) && strchr(err, '\n') == err + strlen(err) - 1,
              "tf32 %d, %g against %g, %d of %d stopped: exit %d, expected 1 and one line '%s...': '%s'", c->tf32,
              c->vs_cpu, c->tolerance, c->stopped, c->models, code, want, err);
    }

    /* Within it: kept, the row closest to its limit of each precision. */
    char err[512];
    const row_check within = {1, tf32 / 2, tf32, 0, 4};
    CHECK(child_check("row", &within, err, sizeof err) == 0 && !err[0], "within: '%s'", err);
    bench_worst worst[2] = {{0, 0}, {0, 0}};
    bench_check_cpu("a", 1, tf32 / 2, tf32, worst);
    bench_check_cpu("b", 1, 1e-3, 1e-2, worst);
    bench_check_cpu("c", 0, 1e-6, fp32, worst);
    CHECK(worst[1].vs_cpu == tf32 / 2 && worst[1].tolerance == tf32 && worst[0].vs_cpu == 1e-6 &&
          worst[0].tolerance == fp32, "worst: fp32 %g of %g, tf32 %g of %g", worst[0].vs_cpu, worst[0].tolerance,
          worst[1].vs_cpu, worst[1].tolerance);
    return check_exit();
}
