/* The passes built per instruction set (core/isa.h) give the baseline build's bits: the sum of
 * squares, column sums, tanh's backward with its column sums, x~ = x + s eps, the stacked
 * [x; x~] rows and the SGD update, at sizes around the vector widths. A build the CPU lacks is
 * reported as not run. */
#include "check.h"
#include "core/isa.h"
#include "cpu/ops.h"
#include "jacnoise/cpu.h"
#include "jacnoise/model.h"

#include <string.h>

enum { MAX_N = 784 * 37 };

typedef struct {
    double sum_squares;
    jn_real column_sums[1001], gated[MAX_N], gated_sums[1001], corrupted[MAX_N], main_rows[MAX_N], stacked[MAX_N], params[MAX_N], velocity[MAX_N];
} outputs;

static jn_real inputs[3][MAX_N];

/* Every pass at size n under the current build; the model's parameter count is at most MAX_N. */
static void run_passes(size_t n, const jn_model *m, outputs *o)
{
    memset(o, 0, sizeof *o);
    o->sum_squares = jn_cpu_sum_squares(inputs[0], n);
    const size_t width = n < 1001 ? n : 1001;
    jn_cpu_add_column_sums(inputs[0], n / width, width, o->column_sums);
    memcpy(o->gated, inputs[1], sizeof(jn_real) * n);
    jn_cpu_tanh_backward_sums(o->gated, inputs[2], n / width, width, o->gated_sums);
    jn_cpu_corrupt(inputs[0], inputs[1], (jn_real)0.3, n, o->corrupted);
    jn_cpu_stack_inputs(inputs[0], inputs[2], (jn_real)0.1, inputs[1], (jn_real)0.3, n, o->main_rows, o->stacked);
    memcpy(o->params, inputs[0], sizeof(jn_real) * m->n_params);
    memcpy(o->velocity, inputs[2], sizeof(jn_real) * m->n_params);
    jn_cpu_sgd_update(m, o->params, inputs[1], o->velocity, 0.01, 0.9, 1e-4);
}

int main(void)
{
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < MAX_N; i++)
            inputs[k][i] = (jn_real)(((i * 2654435761u + 97u * k) % 20011) / 10005.5 - 1.0);
    jn_model m;
    const int hidden[] = {37, 29};
    REQUIRE(jn_model_make(&m, 41, hidden, 2, 10) == 0, "model");
    REQUIRE(m.n_params <= MAX_N, "model too large");

    static outputs base, other;
    const char *names[] = {"baseline", "AVX2", "AVX-512"};
    const size_t sizes[] = {1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1001, 2002, MAX_N};
    int compared = 0;
    for (jn_isa isa = JN_ISA_AVX2; isa <= JN_ISA_AVX512; isa++) {
        jn_cpu_limit_isa(isa);
        if (jn_cpu_isa() != isa) {
            printf("%s: not run (this CPU lacks it)\n", names[isa]);
            continue;
        }
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            const size_t n = sizes[s];
            jn_cpu_limit_isa(JN_ISA_BASE);
            run_passes(n, &m, &base);
            jn_cpu_limit_isa(isa);
            run_passes(n, &m, &other);
            CHECK(!memcmp(&base.sum_squares, &other.sum_squares, sizeof(double)), "%s, n %zu: sum of squares %.17g, "
                  "baseline %.17g", names[isa], n, other.sum_squares, base.sum_squares);
            CHECK(!memcmp(base.column_sums, other.column_sums, sizeof base.column_sums), "%s, n %zu: column sums "
                  "differ", names[isa], n);
            CHECK(!memcmp(base.gated, other.gated, sizeof base.gated) &&
                      !memcmp(base.gated_sums, other.gated_sums, sizeof base.gated_sums),
                  "%s, n %zu: tanh backward and its column sums differ", names[isa], n);
            CHECK(!memcmp(base.corrupted, other.corrupted, sizeof base.corrupted), "%s, n %zu: x~ differs", names[isa],
                  n);
            CHECK(!memcmp(base.main_rows, other.main_rows, sizeof base.main_rows) &&
                      !memcmp(base.stacked, other.stacked, sizeof base.stacked),
                  "%s, n %zu: stacked rows differ", names[isa], n);
            CHECK(!memcmp(base.params, other.params, sizeof base.params) &&
                      !memcmp(base.velocity, other.velocity, sizeof base.velocity),
                  "%s, n %zu: SGD update differs", names[isa], n);
            compared++;
        }
        printf("%s: the baseline's bits at %zu sizes\n", names[isa], sizeof sizes / sizeof sizes[0]);
    }
    jn_cpu_limit_isa(JN_ISA_AVX512);
    if (!compared) {
        printf("no wider build on this CPU: nothing to compare\n");
        return CHECK_SKIP;
    }
    return check_exit();
}
