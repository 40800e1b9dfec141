/* The OpenBLAS core decision (jn_blas_core_choose) over the cases that matter, the cpuid
 * feature detection against the kernel's view of the CPU (/proc/cpuinfo flags), and the CPU's
 * name as read from a cpuinfo file. */
#include "check.h"
#include "cpu/machine.h"
#include "jacnoise/blas.h"

#include <string.h>

static const jn_cpu_features sse_only = {0};
static const jn_cpu_features avx2_intel = {.avx2 = 1, .fma = 1};
static const jn_cpu_features avx2_amd = {.amd = 1, .avx2 = 1, .fma = 1};
static const jn_cpu_features avx512 = {.avx2 = 1, .fma = 1, .avx512f = 1, .avx512bw = 1, .avx512dq = 1, .avx512vl = 1};
static const jn_cpu_features avx512_amd = {.amd = 1, .avx2 = 1, .fma = 1, .avx512f = 1, .avx512bw = 1, .avx512dq = 1, .avx512vl = 1};
/* Xeon Phi style: AVX-512F without BW/DQ/VL, which the SkylakeX kernels need. */
static const jn_cpu_features avx512f_only = {.avx2 = 1, .fma = 1, .avx512f = 1};

/* The model name jn_cpu_model_from reads of a cpuinfo file holding `text`. */
static void expect_model(const char *text, const char *want)
{
    FILE *t = tmpfile();
    REQUIRE(t && fputs(text, t) >= 0 && fflush(t) == 0, "tmpfile failed");
    char path[64], got[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fileno(t));
    /* Garbage past the value: a read beyond the line's end shows as it. */
    memset(got, 'x', sizeof got - 1);
    got[sizeof got - 1] = 0;
    jn_cpu_model_from(path, got, sizeof got);
    CHECK(!strcmp(got, want), "cpuinfo %s: model %s, want %s", text, got, want);
    fclose(t);
}

static void expect(const jn_cpu_features *f, const char *reported, int user_set, const char *want, const char *what)
{
    const char *got = jn_blas_core_choose(f, reported, user_set);
    int same = (!got && !want) || (got && want && !strcmp(got, want));
    CHECK(same, "%s: reported %s, user_set %d: got %s, want %s", what, reported ? reported : "(null)", user_set,
          got ? got : "keep", want ? want : "keep");
}

static int cpuinfo_has(const char *flags, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *p = flags; (p = strstr(p, flag)); p += n)
        if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
            return 1;
    return 0;
}

int main(void)
{
    /* Generic fallbacks are replaced by the CPU's level. */
    expect(&avx512, "Prescott", 0, "SkylakeX", "Sapphire Rapids unknown to OpenBLAS");
    expect(&avx512_amd, "Prescott", 0, "SkylakeX", "AVX-512 AMD on a generic core");
    expect(&avx2_intel, "Prescott", 0, "Haswell", "AVX2 Intel on Prescott");
    expect(&avx2_amd, "Prescott", 0, "Zen", "AVX2 AMD on Prescott");
    expect(&avx2_intel, "Sandybridge", 0, "Haswell", "AVX2 Intel on the AVX-only core");
    expect(&avx2_amd, "nehalem", 0, "Zen", "core names compare without case");
    expect(&avx512, "Haswell", 0, "SkylakeX", "AVX-512 machine on the AVX2 core");
    expect(&avx512f_only, "Prescott", 0, "Haswell", "AVX-512F alone is not enough for SkylakeX");
    /* Good cores are left alone. */
    expect(&avx2_amd, "Zen", 0, NULL, "Zen on AVX2 AMD");
    expect(&avx2_intel, "Haswell", 0, NULL, "Haswell on AVX2");
    expect(&avx2_amd, "Haswell", 0, NULL, "Haswell on AVX2 AMD (same level)");
    expect(&avx512, "SkylakeX", 0, NULL, "SkylakeX on AVX-512");
    expect(&avx512, "Cooperlake", 0, NULL, "Cooperlake on AVX-512");
    expect(&avx512, "SapphireRapids", 0, NULL, "SapphireRapids on AVX-512");
    /* Nothing better to offer, or not ours to judge. */
    expect(&sse_only, "Prescott", 0, NULL, "a CPU without AVX2");
    expect(&avx512, "SomeFutureCore", 0, NULL, "a core name jacnoise does not know");
    expect(&avx512, NULL, 0, NULL, "no core reported");
    /* The user's OPENBLAS_CORETYPE wins. */
    expect(&avx512, "Prescott", 1, NULL, "user override on AVX-512");
    expect(&avx2_amd, "Prescott", 1, NULL, "user override on AVX2");

    /* The name past ':' and its blanks, whatever they are; none on a line cut at the ':'. */
    expect_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n", "AMD EPYC 7B13");
    expect_model("model name:Xeon\n", "Xeon");
    expect_model("model name\t:\t Xeon", "Xeon");
    expect_model("model name\t:", "unknown CPU");
    expect_model("model name\t: \n", "unknown CPU");
    expect_model("processor\t: 0\n", "unknown CPU");

    /* cpuid against the kernel's flags (Linux x86-64 only). */
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[8192];
    int compared = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5)) {
            const jn_cpu_features c = jn_cpu_features_detect();
            CHECK(c.avx2 == cpuinfo_has(line, "avx2"), "avx2: cpuid %d, /proc/cpuinfo %d", c.avx2, cpuinfo_has(line, "avx2"));
            CHECK(c.fma == cpuinfo_has(line, "fma"), "fma: cpuid %d, /proc/cpuinfo %d", c.fma, cpuinfo_has(line, "fma"));
            CHECK(c.avx512f == cpuinfo_has(line, "avx512f"), "avx512f differs");
            CHECK(c.avx512bw == cpuinfo_has(line, "avx512bw"), "avx512bw differs");
            CHECK(c.avx512dq == cpuinfo_has(line, "avx512dq"), "avx512dq differs");
            CHECK(c.avx512vl == cpuinfo_has(line, "avx512vl"), "avx512vl differs");
            char d[96];
            jn_cpu_features_describe(&c, d, sizeof d);
            printf("this CPU: %s; OpenBLAS core %s (%s)\n", d, jn_blas_core_name(), jn_blas_core_origin());
            compared = 1;
            break;
        }
    if (f)
        fclose(f);
    if (!compared)
        printf("no /proc/cpuinfo flags line: feature detection not compared\n");
    return check_exit();
}
