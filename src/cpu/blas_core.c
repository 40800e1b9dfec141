/* OpenBLAS core selection (see jacnoise/blas.h): cpuid features, the pure decision, and the
 * one re-execution that applies it before the library's kernels are chosen; then what was
 * chosen, the BLAS threads, and the SGEMM peak the profile measures on them. */
#include "cpu/machine.h"
#include "jacnoise/blas.h"
#include "jacnoise/error.h"
#include "jacnoise/wallclock.h"

#include <cblas.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#if JACNOISE_HAVE_OPENBLAS
/* Not declared by every cblas.h. */
char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);
#endif

/* Set in the environment of the re-executed process: "CORE REPORTED", the core asked for and
 * the one OpenBLAS had chosen. */
#define REEXEC_MARK "JACNOISE_BLAS_CORE_REQUESTED"

jn_cpu_features jn_cpu_features_detect(void)
{
    jn_cpu_features f = {0};
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return f;
    const unsigned max_leaf = a;
    char vendor[13];
    memcpy(vendor, &b, 4), memcpy(vendor + 4, &d, 4), memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    f.amd = !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
        return f;  /* the OS does not save vector registers: SSE only */
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    const int os_avx = (xcr0_lo & 0x6) == 0x6;         /* XMM and YMM state */
    const int os_avx512 = (xcr0_lo & 0xE6) == 0xE6;    /* plus opmask, ZMM_Hi256, Hi16_ZMM */
    const int avx = os_avx && (c & bit_AVX);
    f.fma = avx && (c & bit_FMA);
    if (max_leaf < 7 || !__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return f;
    f.avx2 = avx && (b & bit_AVX2);
    f.avx512f = os_avx512 && (b & bit_AVX512F);
    f.avx512bw = f.avx512f && (b & bit_AVX512BW);
    f.avx512dq = f.avx512f && (b & bit_AVX512DQ);
    f.avx512vl = f.avx512f && (b & bit_AVX512VL);
#endif
    return f;
}

void jn_cpu_features_describe(const jn_cpu_features *f, char *out, unsigned long cap)
{
    if (f->avx512f)
        snprintf(out, cap, "AVX-512 (F%s%s%s), AVX2, FMA", f->avx512bw ? " BW" : "", f->avx512dq ? " DQ" : "",
                 f->avx512vl ? " VL" : "");
    else if (f->avx2)
        snprintf(out, cap, "AVX2%s", f->fma ? ", FMA" : "");
    else
        snprintf(out, cap, "no AVX2");
}

/* Vector level: 0 below AVX2, 1 AVX2 + FMA, 2 AVX-512 with the subsets the SkylakeX
 * kernels use. */
static int cpu_level(const jn_cpu_features *f)
{
    if (f->avx512f && f->avx512bw && f->avx512dq && f->avx512vl && f->avx2 && f->fma)
        return 2;
    return f->avx2 && f->fma ? 1 : 0;
}

/* The x86-64 cores of OpenBLAS 0.3.x and the level of the instructions they use. */
static int core_level(const char *core)
{
    static const struct {
        const char *name;
        int level;
    } cores[] = {
        {"Katmai", 0},    {"Coppermine", 0}, {"Northwood", 0},   {"Prescott", 0},   {"Banias", 0},
        {"Core2", 0},     {"Penryn", 0},     {"Dunnington", 0},  {"Nehalem", 0},    {"Sandybridge", 0},
        {"Atom", 0},      {"Athlon", 0},     {"Opteron", 0},     {"Opteron_SSE3", 0}, {"Barcelona", 0},
        {"Nano", 0},      {"Bobcat", 0},     {"Bulldozer", 0},   {"Piledriver", 0}, {"Steamroller", 0},
        {"Haswell", 1},   {"Zen", 1},        {"Excavator", 1},
        {"SkylakeX", 2},  {"Cooperlake", 2}, {"SapphireRapids", 2},
    };
    for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++)
        if (!strcasecmp(core, cores[i].name))
            return cores[i].level;
    return -1;
}

const char *jn_blas_core_choose(const jn_cpu_features *f, const char *reported, int user_set)
{
    const int have = cpu_level(f), used = reported ? core_level(reported) : -1;
    if (user_set || used < 0 || used >= have)
        return NULL;
    return have == 2 ? "SkylakeX" : f->amd ? "Zen" : "Haswell";
}

#if JACNOISE_HAVE_OPENBLAS
static char origin[160] = "chosen by OpenBLAS";

/* The warning begins with the program's name (argv[0] without its folder): a benchmark that
 * calls jn_blas_core_init said "jacnoise: warning" for its own run. */
static void warn(char **argv, const char *what, const char *reported, const char *core)
{
    char cpu[64];
    jn_cpu_features f = jn_cpu_features_detect();
    jn_cpu_features_describe(&f, cpu, sizeof cpu);
    const char *prog = argv[0] ? argv[0] : "jacnoise", *slash = strrchr(prog, '/');
    fprintf(stderr,
            "%s: warning: OpenBLAS runs its %s kernels on this CPU (%s); %s, so the GEMMs run below the "
            "machine's speed (set OPENBLAS_CORETYPE=%s yourself, or use an OpenBLAS that knows this CPU)\n",
            slash ? slash + 1 : prog, reported, cpu, what, core);
}
#endif

void jn_blas_core_init(char **argv)
{
#if JACNOISE_HAVE_OPENBLAS
    const char *reported = openblas_get_corename();
    const char *asked = getenv(REEXEC_MARK);
    if (asked) {
        /* The re-executed process: never again; check that the library took the core. */
        char core[64] = "", before[64] = "";
        sscanf(asked, "%63s %63s", core, before);
        unsetenv(REEXEC_MARK);
        if (strcasecmp(reported, core))
            warn(argv, "OpenBLAS ignored OPENBLAS_CORETYPE", reported, core);
        else
            snprintf(origin, sizeof origin, "selected by jacnoise: OpenBLAS chose %s", before);
        return;
    }
    /* Tests reach the re-execution on any CPU by pretending OpenBLAS reported this core. */
    const char *pretend = getenv("JACNOISE_TEST_BLAS_REPORTED");
    if (pretend && *pretend)
        reported = pretend;
    /* OpenBLAS passes over a value that names no core of it (empty, misspelt) and chooses as
     * if unset: "set by" is said only of the core the value names. */
    const char *user = getenv("OPENBLAS_CORETYPE");
    const int user_set = user != NULL;
    if (user_set && !strcasecmp(user, reported))
        snprintf(origin, sizeof origin, "set by OPENBLAS_CORETYPE");
    else if (user_set) {
        char value[64];  /* escaped: info and the profile's report print the origin as it is */
        jn_escape_text(value, sizeof value, user);
        snprintf(origin, sizeof origin, "chosen by OpenBLAS: it did not take OPENBLAS_CORETYPE='%s'", value);
    }
    const jn_cpu_features f = jn_cpu_features_detect();
    const char *core = jn_blas_core_choose(&f, reported, user_set);
    if (!core)
        return;
    if (!strstr(openblas_get_config(), "DYNAMIC_ARCH")) {
        warn(argv, "this OpenBLAS is built for that core only (no DYNAMIC_ARCH)", reported, core);
        return;
    }
    char mark[160];
    snprintf(mark, sizeof mark, "%s %s", core, reported);
    setenv("OPENBLAS_CORETYPE", core, 1);
    setenv(REEXEC_MARK, mark, 1);
    fflush(NULL);
    execv("/proc/self/exe", argv);
    /* Only reached when exec failed: carry on with the kernels loaded. */
    char what[128];
    snprintf(what, sizeof what, "restarting with OPENBLAS_CORETYPE=%s failed (%s)", core, strerror(errno));
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv(REEXEC_MARK);
    warn(argv, what, reported, core);
#else
    (void)argv;
#endif
}

const char *jn_blas_core_name(void)
{
#if JACNOISE_HAVE_OPENBLAS
    return openblas_get_corename();
#else
    return "unknown";
#endif
}

const char *jn_blas_core_origin(void)
{
#if JACNOISE_HAVE_OPENBLAS
    return origin;
#else
    return "not OpenBLAS";
#endif
}

int jn_blas_threads(void)
{
#if JACNOISE_HAVE_OPENBLAS
    return openblas_get_num_threads();
#else
    return 1;
#endif
}

double jn_blas_sgemm_peak(int n, int reps)
{
    const size_t nn = (size_t)n * n;
    float *a = malloc(sizeof(float) * nn), *b = malloc(sizeof(float) * nn), *c = malloc(sizeof(float) * nn);
    double best = 0;
    if (a && b && c) {
        for (size_t i = 0; i < nn; i++) {
            a[i] = (float)(i % 7) * 0.25f - 0.75f;
            b[i] = (float)(i % 5) * 0.5f - 1.0f;
        }
        for (int r = -1; r < reps; r++) {  /* r = -1: warm-up (thread start, packing buffers) */
            double t0 = jn_wall_seconds();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
            double rate = 2.0 * n * (double)nn / (jn_wall_seconds() - t0) * 1e-9;
            best = r >= 0 && rate > best ? rate : best;
        }
    }
    free(a), free(b), free(c);
    return best;
}
