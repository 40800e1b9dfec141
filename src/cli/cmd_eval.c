/* jacnoise eval: the evaluation quantities of a checkpoint on its validation and test sets. */
#include "cli/cli.h"
#include "jacnoise/error.h"
#include "jacnoise/evaluate.h"
#include "jacnoise/train.h"
#include "jacnoise/wallclock.h"
#include "train/metrics.h"
#include "train/progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void print_number(double v)
{
    char text[32];
    jn_json_number(text, sizeof text, v);
    fputs(text, stdout);
}

static void print_split(const char *name, const jn_eval_stats *s, const jn_eval_options *opt, int last)
{
    printf("    \"%s\": {\"examples\": %ld, \"errors\": %ld, \"error\": ", name, s->n, s->errors);
    print_number(s->error_pct);
    printf(", \"jacobian_sq\": ");
    print_number(s->jacobian_sq);
    printf(", \"curvature\": ");
    print_number(s->curvature);
    printf(",\n      \"input_noise\": [");
    for (int k = 0; k < opt->n_noise; k++) {
        char std[32];
        jn_format_double(opt->noise_std[k], std, sizeof std);  /* the value given, as config.txt writes it */
        printf("%s{\"std\": %s, \"errors\": %ld, \"error\": ", k ? ", " : "", std, s->noise_errors[k]);
        print_number(s->noise_error_pct[k]);
        printf("}");
    }
    printf("],\n      \"hidden\": [");
    for (int l = 0; l < s->hidden_layers; l++) {
        printf("%s\n        {\"layer\": %d, \"saturated\": ", l ? "," : "", l + 1);
        print_number(s->saturated[l]);
        printf(", \"linear\": ");
        print_number(s->linear[l]);
        printf(", \"histogram\": [");
        for (int b = 0; b < JN_HIST_BINS; b++) {
            printf("%s", b ? ", " : "");
            print_number(s->histogram[l][b]);
        }
        printf("]}");
    }
    printf("]}%s\n", last ? "" : ",");
}

/* "eval: test split, 2560 of 10000 examples, 0m12s left": the time left over both splits,
 * whose examples cost alike, from the rate so far. */
typedef struct {
    jn_progress line;
    const char *split, *drawn;  /* the split evaluated; the last one drawn (each is drawn as it starts) */
    long before, total;         /* examples of the splits done before this one; of both */
    double started;
} eval_progress;

static void show_progress(void *ctx, long done, long n)
{
    eval_progress *p = ctx;
    char line[160], left[32];
    const long all = p->before + done;
    jn_format_duration((jn_wall_seconds() - p->started) / (double)all * (double)(p->total - all), left, sizeof left);
    snprintf(line, sizeof line, "eval: %s split, %ld of %ld examples, %s left", p->split, done, n, left);
    jn_progress_draw(&p->line, line, p->drawn != p->split);
    p->drawn = p->split;
}

int jn_cmd_eval(int argc, char **argv)
{
    jn_config cli;
    int rc = jn_cli_parse(argc, argv, JN_CMD_EVAL, &cli);
    if (rc)
        return rc > 0 ? 0 : jn_cli_fail(JN_EXIT_USAGE);
    if (!cli.checkpoint[0]) {
        jn_fail("--checkpoint: required (a run's best.ckpt or last.ckpt)");
        return jn_cli_fail(JN_EXIT_USAGE);
    }
    /* The checkpoint's own configuration says which data it was trained on; options on the
     * command line override it. */
    jn_cli_state st;
    int code = jn_cli_state_load(&st, &cli, 0);
    if (code)
        goto done;
    code = JN_EXIT_ERROR;
    const jn_config *cfg = &st.cfg;
    jn_eval_options opt = {.jacobian = 1, .curvature = 1, .curv_noise = cfg->curv_noise, .seed = cfg->seed,
                           .limit = cfg->eval_limit, .n_noise = cfg->n_eval_noise};
    memcpy(opt.noise_std, cfg->eval_noise, sizeof opt.noise_std);
#ifndef JN_DOUBLE
    /* x + s eps rounds back to x in float32 (relative precision 6e-8) for such s. */
    if (cfg->curv_noise < 1e-5) {
        /* The value as config.txt and the reports write it, in full: %g wrote 1.23456789e-6 as
         * 1.23457e-06, a value other than the one used. */
        char value[32];
        jn_config_get(cfg, "curv-noise", value, sizeof value);
        fprintf(stderr, "jacnoise: warning: --curv-noise %s is below 1e-5: in float32 the finite difference "
                "rounds away and the curvature is mostly rounding error\n", value);
    }
#endif
    const long n_valid = jn_eval_count(&st.data.valid, opt.limit);
    eval_progress progress = {.split = "valid", .total = n_valid + jn_eval_count(&st.data.test, opt.limit),
                              .started = jn_wall_seconds()};
    jn_progress_init(&progress.line, cli.progress);
    opt.progress = show_progress;
    opt.progress_ctx = &progress;
    jn_eval_stats valid, test;
    int failed = jn_cpu_evaluate(&st.model, st.params, &st.data.valid, &opt, &valid);
    progress.split = "test";
    progress.before = n_valid;
    failed = failed || jn_cpu_evaluate(&st.model, st.params, &st.data.test, &opt, &test);
    jn_progress_clear(&progress.line);
    if (failed)
        goto done;
    /* The test file too: evaluations of one checkpoint on two --test files are told apart. It is
     * the --test value, which eval takes again; a named set's test files, fixed by its name (in
     * "data"), are none, which --test refuses: "" there. */
    char shape[256], curv_noise[32], checkpoint[6 * sizeof cli.checkpoint + 3], data[6 * sizeof cfg->data + 3],
        test_file[6 * sizeof cfg->test + 3];
    jn_model_describe(&st.model, shape, sizeof shape);
    jn_format_double(cfg->curv_noise, curv_noise, sizeof curv_noise);
    jn_json_string(checkpoint, sizeof checkpoint, cli.checkpoint);
    jn_json_string(data, sizeof data, cfg->data);
    jn_json_string(test_file, sizeof test_file, cfg->test);
    printf("{\n  \"checkpoint\": %s,\n  \"model\": \"%s\",\n  \"parameters\": %zu,\n  \"data\": %s,\n"
           "  \"test\": %s,\n  \"epochs_trained\": %d,\n  \"best_epoch\": %d,\n  \"curv_noise\": %s,\n"
           "  \"seed\": %llu,\n  \"same_data_as_run\": %s,\n  \"splits\": {\n",
           checkpoint, shape, st.model.n_params, data, test_file, st.pos.epoch, st.pos.best_epoch, curv_noise,
           (unsigned long long)cfg->seed, st.same_data < 0 ? "null" : st.same_data ? "true" : "false");
    print_split("valid", &valid, &opt, 0);
    print_split("test", &test, &opt, 1);
    printf("  }\n}\n");
    code = JN_EXIT_OK;
done:
    jn_cli_state_free(&st);
    return code == JN_EXIT_OK ? code : jn_cli_fail(code);
}
