/* The instruction set the CPU's builds run (core/isa.h). */
#include "core/isa.h"

static jn_isa isa_limit = JN_ISA_AVX512;

jn_isa jn_cpu_isa(void)
{
    const jn_isa best = jn_cpu_has_avx512() ? JN_ISA_AVX512 : jn_cpu_has_avx2() ? JN_ISA_AVX2 : JN_ISA_BASE;
    return best < isa_limit ? best : isa_limit;
}

void jn_cpu_limit_isa(jn_isa limit)
{
    isa_limit = limit;
}
