/* Fuzzes the key=value configuration parser (--config files and the configuration stored
 * in checkpoints), then the checks and the formatting that follow it. */
#include "fuzz_common.h"
#include "jacnoise/config.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    const unsigned commands[] = {JN_CMD_TRAIN, JN_CMD_EVAL, JN_CMD_STEP, JN_CMD_DATA};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        jn_config cfg;
        jn_config_defaults(&cfg);
        if (jn_config_load_text(&cfg, commands[i], text, "fuzz") == 0) {
            jn_config_check(&cfg);
            char out[8192];
            jn_config_format(&cfg, commands[i], 0, out, sizeof out);
            jn_model m;
            jn_config_model(&cfg, 784, 10, &m);
        }
    }
    free(text);
    return 0;
}
