/* Backend selection: the one place that knows which backends this build has; what a slot's
 * hyperparameters may be; how many slots fit. */
#define _GNU_SOURCE  /* sched_getaffinity */
#include "train/backend.h"
#include "jacnoise/blas.h"
#include "jacnoise/error.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long jn_batches_per_epoch(long n, int batch) { return (n + batch - 1) / batch; }

int jn_backend_check_slot(const jn_backend *be, int slot)
{
    if (slot < 0 || slot >= be->models)
        return jn_fail("%s backend: slot %d out of range [0, %d]", be->ops->name, slot, be->models - 1);
    return 0;
}

int jn_backend_uses_cuda(jn_device device)
{
    return device == JN_DEVICE_CUDA || (device == JN_DEVICE_AUTO && jn_cuda_device_count() > 0);
}

const char *jn_backend_no_tf32(jn_device device)
{
    if (jn_backend_uses_cuda(device))
        return NULL;
    if (device == JN_DEVICE_CPU)
        return "--device cpu asks for the CPU";
    return jn_cuda_built() ? "--device auto chose the CPU (no usable GPU is visible)"
                           : "--device auto chose the CPU (this build has no CUDA backend)";
}

int jn_backend_precision_check(jn_device device, int tf32)
{
    const char *why = tf32 ? jn_backend_no_tf32(device) : NULL;
    if (!why)
        return 0;
    return jn_fail("--precision tf32: only the CUDA backend has TF32, and %s%s", why,
                   device == JN_DEVICE_CPU ? "" : ": give --precision fp32, or run where a GPU is");
}

/* The CPUs the process may run on, which its threads share: fewer than those online under
 * taskset or a Slurm job's cpuset. Those online where the set cannot be read (over 1024 CPUs). */
static long usable_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
    return sysconf(_SC_NPROCESSORS_ONLN);
}

void jn_backend_threads(jn_device device, int threads, int processes)
{
    if (threads <= 0)
        return;
    if (jn_backend_uses_cuda(device)) {  /* as an option that changes nothing says so (jn_cli_warn_inert) */
        fprintf(stderr, "jacnoise: warning: --threads %d changes nothing on the CUDA backend (it sets the CPU's BLAS "
                "threads)\n", threads);
        return;
    }
    jn_cpu_set_threads(threads);
    const int used = jn_blas_threads();
    const long cpus = usable_cpus();
    const int capped = used < threads, crowded = cpus > 0 && (long)processes * used > cpus;
    char asked[64];
    if (processes > 1)
        snprintf(asked, sizeof asked, "--jobs %d x --threads %d", processes, threads);
    else
        snprintf(asked, sizeof asked, "--threads %d", threads);
    const char *plural = used == 1 ? "" : "s", *cpus_plural = cpus == 1 ? "" : "s";
    const char *slower = "they share cores, and the GEMMs run slower than with fewer";
    char using[64];  /* the threads of all the workers, which crowd the CPUs, not one's */
    if (processes > 1)
        snprintf(using, sizeof using, "%d each, %ld in all", used, (long)processes * used);
    else
        snprintf(using, sizeof using, "%d", used);
    if (capped && crowded)
        fprintf(stderr, "jacnoise: warning: %s: the BLAS runs at most %d thread%s; using %s, more than the %ld CPU%s "
                "available: %s\n", asked, used, plural, using, cpus, cpus_plural, slower);
    else if (capped)
        fprintf(stderr, "jacnoise: warning: %s: the BLAS runs at most %d thread%s; using %d\n", asked, used, plural,
                used);
    else if (crowded)
        fprintf(stderr, "jacnoise: warning: %s is more BLAS threads than the %ld CPU%s available: %s\n", asked, cpus,
                cpus_plural, slower);
}

static int no_cuda_build(void)
{
    return jn_fail("--device cuda: this build has no CUDA backend (configure with -DJACNOISE_CUDA=ON on a machine "
                   "with nvcc)");
}

jn_backend *jn_backend_create(jn_device device, const jn_model *m, const jn_objective *obj,
                              const jn_backend_setup *setup, const jn_dataset *train)
{
    if (device == JN_DEVICE_CUDA && !jn_cuda_built()) {
        no_cuda_build();
        return NULL;
    }
    if (setup->models < 1) {
        jn_fail("--models: expected at least 1 model per group, got %d", setup->models);
        return NULL;
    }
    if (jn_backend_uses_cuda(device))
        return jn_cuda_backend_create(m, obj, setup, train);
    if (jn_backend_precision_check(device, setup->tf32))
        return NULL;
    return jn_cpu_backend_create(m, obj, setup, train);
}

/* How this process shares the machine (jn_backend_share_memory): alone unless a sweep said. */
static int share_workers = 1;
static double share_gpu_free;

void jn_backend_share_memory(int workers, double gpu_free)
{
    share_workers = workers > 1 ? workers : 1;
    share_gpu_free = gpu_free;
}

/* A number of bytes from a JACNOISE_TEST_* variable, else `real`: tests size the memory a
 * sweep plans for without a machine (or GPU) of that size. */
static double pretended(const char *name, double real)
{
    const char *v = getenv(name);
    return v && *v ? atof(v) : real;
}

/* The number a cgroup's limit file holds, or 0 where it holds none ("max", v1's near-2^63 for
 * no limit) or cannot be read. (stdio: a /sys or /proc file's size says nothing of its text.) */
static double limit_file(const char *path)
{
    char text[64] = "", *end;
    FILE *f = fopen(path, "re");  /* e: O_CLOEXEC, as every descriptor of the engine */
    if (!f)
        return 0;
    const int got = fgets(text, sizeof text, f) != NULL;
    fclose(f);
    const double v = got ? strtod(text, &end) : 0;
    return got && end != text && (*end == '\n' || !*end) && v > 0 && v < 0x1p62 ? v : 0;
}

/* The memory limit of this process's cgroup (v2 memory.max, v1 memory.limit_in_bytes, at
 * their usual mount points), the least of its own and its ancestors'; 0 where none is set.
 * A Slurm job's --mem or a container's limit can be far below the machine's memory, and the
 * kernel kills the job that goes past it. JACNOISE_TEST_CGROUP_ROOT stands for / in the tests. */
static double cgroup_limit(void)
{
    const char *root = getenv("JACNOISE_TEST_CGROUP_ROOT");
    root = root ? root : "";
    char path[4096 + 64], line[4096];
    snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    double least = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        /* ID:CONTROLLERS:PATH; v2's line is 0::PATH, a v1 line names memory among its controllers */
        char *controllers = strchr(line, ':'), *where = controllers ? strchr(controllers + 1, ':') : NULL;
        if (!where || where[1] != '/')
            continue;
        *controllers++ = *where++ = '\0';
        const int v2 = !strcmp(line, "0") && !*controllers;
        int memory = 0;
        for (char *c = strtok(controllers, ","); c && !v2; c = strtok(NULL, ","))
            memory |= !strcmp(c, "memory");
        if (!v2 && !memory)
            continue;
        for (size_t n = strlen(where);;) {  /* the folder, then each parent up to the root ("") */
            while (n > 0 && where[n - 1] == '/')
                n--;
            where[n] = '\0';
            snprintf(path, sizeof path, "%s/sys/fs/cgroup%s%s/%s", root, v2 ? "" : "/memory", where,
                     v2 ? "memory.max" : "memory.limit_in_bytes");
            const double v = limit_file(path);
            least = v > 0 && (least == 0 || v < least) ? v : least;
            if (!n)
                break;
            while (n > 0 && where[n - 1] != '/')
                n--;
        }
    }
    fclose(f);
    return least;
}

/* This process's share of a quarter of the machine's physical memory, or of its cgroup's
 * limit where that is less. */
static double host_budget(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double physical = pages > 0 && page > 0 ? (double)pages * (double)page : 4.0 * (1 << 30);
    physical = pretended("JACNOISE_TEST_HOST_MEMORY", physical);
    const double limit = cgroup_limit();
    return (limit > 0 && limit < physical ? limit : physical) / 4 / share_workers;
}

double jn_backend_gpu_share(double at_start, double now, int workers)
{
    const double start = at_start > 0 ? at_start : now;
    const double share = 0.9 * start / (workers > 1 ? workers : 1);
    return share < 0.9 * now ? share : 0.9 * now;
}

double jn_backend_gpu_free(jn_device device)
{
    return jn_backend_uses_cuda(device) ? pretended("JACNOISE_TEST_GPU_FREE", jn_cuda_free_memory()) : 0;
}

double jn_backend_memory_budget(jn_device device)
{
    if (!jn_backend_uses_cuda(device))
        return host_budget();
    return jn_backend_gpu_share(share_gpu_free, jn_backend_gpu_free(device), share_workers);
}

/* The largest M in 1 .. cap whose backend takes at most budget bytes on the GPU (its memory
 * grows with M), and whose jobs' parameters, velocity and best parameters fit the host's share. */
static long cuda_max_models(const jn_model *m, const jn_objective *obj, const jn_backend_setup *setup,
                            const jn_dataset *train, double budget, long cap)
{
    const double host_per_model = 3.0 * sizeof(jn_real) * (double)m->n_params;
    const long host_fit = (long)(host_budget() / host_per_model);
    cap = host_fit < cap ? host_fit : cap;
    long lo = 1, hi = cap;
    while (lo < hi) {
        jn_backend_setup s = *setup;
        s.models = (int)((lo + hi + 1) / 2);
        if (jn_cuda_backend_memory(m, obj, &s, train) <= budget)
            lo = s.models;
        else
            hi = s.models - 1;
    }
    return lo;
}

long jn_backend_max_models(jn_device device, const jn_model *m, const jn_objective *obj,
                           const jn_backend_setup *setup, const jn_dataset *train, double budget_bytes)
{
    enum { CPU_CAP = 8, CUDA_CAP = 4096 };
    if (jn_backend_uses_cuda(device))
        return cuda_max_models(m, obj, setup, train, budget_bytes, CUDA_CAP);
    double per_model, shared;
    jn_cpu_backend_memory(m, obj, setup, train, &per_model, &shared);
    double fit = (budget_bytes - shared) / per_model;
    return fit < 1 ? 1 : fit > CPU_CAP ? CPU_CAP : (long)fit;
}

int jn_model_hparams_check(const jn_objective *obj, const jn_model_hparams *hp)
{
    if ((hp->jac_lambda > 0) != (obj->jac_lambda > 0))
        return jn_fail("jac-lambda %g does not fit a group %s the penalty: penalised and unpenalised models "
                       "train in separate groups", hp->jac_lambda, obj->jac_lambda > 0 ? "with" : "without");
    if (hp->input_noise > 0 && !(obj->input_noise > 0))
        return jn_fail("input-noise %g does not fit a group sized without input noise", hp->input_noise);
    if (hp->jac_noise > 0 && !(obj->jac_noise > 0))
        return jn_fail("jac-noise %g does not fit a group sized without penalty noise", hp->jac_noise);
    return 0;
}

jn_objective jn_model_hparams_objective(const jn_objective *obj, const jn_model_hparams *hp)
{
    jn_objective o = *obj;
    o.weight_decay = hp->weight_decay;
    o.input_noise = hp->input_noise;
    o.jac_noise = hp->jac_noise;
    o.jac_lambda = hp->jac_lambda;
    return o;
}

#if !JACNOISE_HAVE_CUDA
/* Without CUDA in the build, the CUDA backend is never there. */
jn_backend *jn_cuda_backend_create(const jn_model *m, const jn_objective *obj, const jn_backend_setup *setup,
                                   const jn_dataset *train)
{
    (void)m, (void)obj, (void)setup, (void)train;
    jn_fail("--device cuda: this build has no CUDA backend");
    return NULL;
}
int jn_cuda_built(void) { return 0; }
int jn_cuda_device_count(void) { return 0; }
int jn_cuda_current_device(jn_device_info *out)
{
    (void)out;
    return -1;
}
int jn_cuda_device_check(void) { return no_cuda_build(); }
double jn_cuda_backend_memory(const jn_model *m, const jn_objective *obj, const jn_backend_setup *setup,
                              const jn_dataset *train)
{
    (void)m, (void)obj, (void)setup, (void)train;
    return 0;
}
double jn_cuda_free_memory(void) { return 0; }
#endif
