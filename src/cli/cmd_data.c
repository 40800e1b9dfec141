/* jacnoise data: load a data set and describe its splits (JSON). */
#include "cli/cli.h"
#include "jacnoise/data.h"
#include "jacnoise/error.h"
#include "jacnoise/train.h"

#include <stdio.h>
#include <stdlib.h>

static void print_split(const char *name, const jn_dataset *s, int last)
{
    double sum = 0;
    for (size_t k = 0; k < (size_t)s->n * s->d; k++)
        sum += s->x[k];
    long *counts = calloc((size_t)s->classes + 1, sizeof *counts);
    for (int i = 0; i < s->n && counts; i++)
        counts[s->y[i]]++;
    printf("    \"%s\": {\"examples\": %d, \"features\": %d, \"classes\": %d, \"mean\": %.8f, \"class_counts\": [",
           name, s->n, s->d, s->classes, s->n ? sum / ((double)s->n * s->d) : 0.0);
    for (int c = 0; c < s->classes && counts; c++)
        printf("%s%ld", c ? ", " : "", counts[c]);
    printf("]}%s\n", last ? "" : ",");
    free(counts);
}

int jn_cmd_data(int argc, char **argv)
{
    jn_config cfg;
    int rc = jn_cli_parse(argc, argv, JN_CMD_DATA, &cfg);
    if (rc)
        return rc > 0 ? 0 : jn_cli_fail(JN_EXIT_USAGE);
    if (jn_config_check(&cfg))
        return jn_cli_fail(JN_EXIT_USAGE);
    jn_data data;
    const jn_data_request req = {cfg.data, cfg.test, cfg.data_dir, cfg.valid, cfg.train_limit};
    if (jn_data_load(&req, &data))
        return jn_cli_fail(JN_EXIT_ERROR);
    printf("{\n  \"data\": \"%s\",\n  \"folder\": \"%s\",\n  \"splits\": {\n", cfg.data, data.dir);
    print_split("train", &data.train, 0);
    print_split("valid", &data.valid, 0);
    print_split("test", &data.test, 1);
    printf("  }\n}\n");
    jn_data_free(&data);
    return JN_EXIT_OK;
}
