/* Fuzzes the sweep spec parser (a user's file) and the plan it expands to: every value checked
 * with the option table, the grid, the random draws, the ids and the groups. */
#include "fuzz_common.h"
#include "sweep/plan.h"
#include "sweep/spec.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    jn_spec spec;
    if (jn_spec_parse(text, "fuzz.spec", &spec) == 0) {
        jn_plan plan;
        jn_plan_make(&spec, NULL, "fuzz-sweep", &plan);  /* takes the spec over, made or not */
        jn_plan_free(&plan);
    }
    jn_spec_free(&spec);
    free(text);
    return 0;
}
