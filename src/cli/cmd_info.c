/* jacnoise info: what this build is and what it can use. */
#include "cli/cli.h"
#include "jacnoise/backend.h"
#include "jacnoise/blas.h"
#include "jacnoise/data.h"
#include "jacnoise/error.h"
#include "jacnoise/train.h"

#include <stdio.h>

int jn_cmd_info(int argc, char **argv)
{
    jn_config cfg;
    int rc = jn_cli_parse(argc, argv, JN_CMD_INFO, &cfg);
    if (rc)
        return rc > 0 ? 0 : jn_cli_fail(JN_EXIT_USAGE);
    printf("jacnoise %s\n", JACNOISE_VERSION);
    printf("precision: %s\n", JN_REAL_NAME);
    printf("blas: %s\n", jn_cpu_blas_info());
    char features[96];
    const jn_cpu_features f = jn_cpu_features_detect();
    jn_cpu_features_describe(&f, features, sizeof features);
    printf("blas core: %s (%s), %d thread%s; CPU: %s\n", jn_blas_core_name(), jn_blas_core_origin(), jn_blas_threads(),
           jn_blas_threads() == 1 ? "" : "s", features);
    jn_device_info current;
    char why[512];
    if (jn_cuda_built() && jn_cuda_current_device(&current) == 0)
        jn_print(stdout, "cuda: built in, %d device(s) visible; current device %d: %s (PCI %s)\n",
                 jn_cuda_device_count(), current.ordinal, current.device, current.pci);
    else if (jn_cuda_built() && jn_cli_cuda_unusable(why, sizeof why))
        /* Why none, as --device cuda refuses: "0 device(s) visible" alone read the same for a
         * driver too old for the runtime and a CUDA_VISIBLE_DEVICES that hides every GPU. */
        jn_print(stdout, "cuda: built in, 0 device(s) visible; %s\n", why);
    else if (jn_cuda_built())
        printf("cuda: built in, %d device(s) visible\n", jn_cuda_device_count());
    else
        printf("cuda: not built (configure with -DJACNOISE_CUDA=ON where nvcc is installed)\n");
    const char *sets[] = {"mnist", "usps"};
    for (int i = 0; i < 2; i++) {
        char dir[4096];
        if (jn_data_find_default_dir(sets[i], dir, sizeof dir) == 0)
            jn_print(stdout, "data %s: %s\n", sets[i], dir);
        else
            printf("data %s: not found (%s)\n", sets[i], jn_last_error());
    }
    return JN_EXIT_OK;
}
