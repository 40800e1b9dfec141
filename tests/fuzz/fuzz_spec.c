/* Fuzzes the sweep spec reader (a user's file, as `sweep --spec` reads it: its NUL refusal, a
 * run's config.txt told apart) and the plan it expands to: every value checked with the option
 * table, the grid, the random draws, the ids and the groups. */
#include "fuzz_common.h"
#include "sweep/plan.h"
#include "sweep/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jn_spec spec;
    if (jn_spec_load(fuzz_write_file(data, size, 0), 0, &spec) == 0) {
        jn_plan plan;
        jn_plan_make(&spec, NULL, "fuzz-sweep", &plan);  /* takes the spec over, made or not */
        jn_plan_free(&plan);
    }
    jn_spec_free(&spec);
    return 0;
}
