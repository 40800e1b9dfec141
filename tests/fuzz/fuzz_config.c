/* Fuzzes the key=value configuration parser (--config files and the configuration stored
 * in checkpoints), then the checks and the formatting that follow it; and the --config file
 * loader on the same bytes as a file (its size limit, its NUL refusal, the bytes past a NUL that
 * the text stops at). */
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
    jn_config cfg;
    jn_config_defaults(&cfg);
    if (jn_config_load_file(&cfg, JN_CMD_TRAIN, fuzz_write_file(data, size, 0)) == 0)
        jn_config_check(&cfg);
    free(text);
    return 0;
}
