/* Backend selection: the one place that knows which backends this build has. */
#include "jacnoise/backend.h"
#include "jacnoise/error.h"

long jn_batches_per_epoch(long n, int batch) { return (n + batch - 1) / batch; }

jn_backend *jn_backend_create(jn_device device, const jn_model *m, const jn_objective *obj,
                              const jn_backend_setup *setup, const jn_dataset *train)
{
    if (device == JN_DEVICE_CUDA && !jn_cuda_built()) {
        jn_fail("--device cuda: this build has no CUDA backend (configure with -DJACNOISE_CUDA=ON on a machine with nvcc)");
        return NULL;
    }
    if (device == JN_DEVICE_CUDA || (device == JN_DEVICE_AUTO && jn_cuda_device_count() > 0))
        return jn_cuda_backend_create(m, obj, setup, train);
    if (setup->tf32) {
        jn_fail("--precision tf32: only the CUDA backend has TF32 (this run uses the CPU)");
        return NULL;
    }
    return jn_cpu_backend_create(m, obj, setup, train);
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
#endif
