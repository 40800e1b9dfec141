/* jacnoise data: load a data set and describe its splits (JSON): examples, features, classes,
 * the range and mean of the input values (to see at once how the images are scaled), and the
 * examples per class. A class without a training example is warned about on stderr. */
#include "cli/cli.h"
#include "jacnoise/data.h"
#include "jacnoise/error.h"
#include "jacnoise/train.h"
#include "train/metrics.h"

#include <stdio.h>
#include <string.h>

static void print_split(const char *name, const jn_dataset *s, const jn_split_stats *st, int last)
{
    printf("    \"%s\": {\"examples\": %d, \"features\": %d, \"classes\": %d, ", name, s->n, s->d, s->classes);
    if (s->n) {
        /* Significant digits, as eval's numbers: fixed decimals wrote a mean of 3e-10 as 0. */
        char mean[32];
        jn_json_number(mean, sizeof mean, st->mean);
        printf("\"min\": %.9g, \"max\": %.9g, \"mean\": %s, ", st->min, st->max, mean);
    } else
        printf("\"min\": null, \"max\": null, \"mean\": null, ");
    printf("\"empty_classes\": %d, \"class_counts\": [", st->empty_classes);
    for (int c = 0; c < s->classes; c++)
        printf("%s%ld", c ? ", " : "", st->class_counts[c]);
    printf("]}%s\n", last ? "" : ",");
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
    const jn_data_request req = {cfg.data, cfg.test, cfg.data_dir, cfg.valid, cfg.train_limit, NULL, 0};
    if (jn_data_load(&req, &data))
        return jn_cli_fail(JN_EXIT_ERROR);
    const char *names[3] = {"train", "valid", "test"};
    const jn_dataset *splits[3] = {&data.train, &data.valid, &data.test};
    jn_split_stats st[3] = {{0}};
    rc = 0;
    for (int i = 0; i < 3 && !rc; i++)
        rc = jn_dataset_stats(splits[i], &st[i]);
    if (!rc) { /* all computed first: a failure prints no half of the JSON */
        char name[6 * sizeof cfg.data + 3], folder[6 * sizeof data.dir + 3];
        jn_json_string(name, sizeof name, cfg.data);
        jn_json_string(folder, sizeof folder, data.dir);
        printf("{\n  \"data\": %s,\n  \"folder\": %s,\n", name, folder);
        if (strcmp(data.test_dir, data.dir)) { /* the --test pair's, only where it is another */
            jn_json_string(folder, sizeof folder, data.test_dir);
            printf("  \"test_folder\": %s,\n", folder);
        }
        printf("  \"splits\": {\n");
        for (int i = 0; i < 3; i++)
            print_split(names[i], splits[i], &st[i], i == 2);
        printf("  }\n}\n");
        jn_stdout_flush();
        rc = jn_data_warn_empty_classes(&data, cfg.data, stderr);
    }
    for (int i = 0; i < 3; i++)
        jn_split_stats_free(&st[i]);
    jn_data_free(&data);
    return rc ? jn_cli_fail(JN_EXIT_ERROR) : JN_EXIT_OK;
}
