/* metrics.jsonl and summary.json. */
#include "train/metrics.h"
#include "core/fileio.h"
#include "jacnoise/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jn_json_number(char *out, size_t cap, double v)
{
    if (isfinite(v))
        snprintf(out, cap, "%.10g", v);
    else
        snprintf(out, cap, "null");
}

int jn_metrics_append(const char *path, const jn_epoch_metrics *m)
{
    char f[9][32];
    jn_json_number(f[0], sizeof f[0], m->lr);
    jn_json_number(f[1], sizeof f[1], m->train_loss);
    jn_json_number(f[2], sizeof f[2], m->penalty);
    jn_json_number(f[3], sizeof f[3], m->weight_decay);
    jn_json_number(f[4], sizeof f[4], m->objective);
    jn_json_number(f[5], sizeof f[5], m->train_error);
    jn_json_number(f[6], sizeof f[6], m->valid_error);
    jn_json_number(f[7], sizeof f[7], m->test_error);
    jn_json_number(f[8], sizeof f[8], m->seconds);
    char line[1024];
    snprintf(line, sizeof line,
             "{\"epoch\":%d,\"step\":%llu,\"lr\":%s,\"train_loss\":%s,\"penalty\":%s,\"weight_decay\":%s,"
             "\"objective\":%s,\"train_error\":%s,\"valid_error\":%s,\"test_error\":%s,\"best\":%s,\"seconds\":%s}\n",
             m->epoch, (unsigned long long)m->step, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
             m->best ? "true" : "false", f[8]);
    return jn_append_line(path, line);
}

int jn_metrics_truncate(const char *path, int epochs)
{
    unsigned char *data;
    size_t len;
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return 0;
    fclose(probe);
    if (jn_read_file(path, &data, &len))
        return -1;
    size_t keep = 0, off = 0;
    /* Lines are ours, one per epoch in order: keep complete lines of epochs <= epochs. */
    while (off < len) {
        unsigned char *nl = memchr(data + off, '\n', len - off);
        if (!nl)
            break;  /* a torn last line from a crash */
        int epoch;
        if (sscanf((const char *)data + off, "{\"epoch\":%d,", &epoch) != 1 || epoch > epochs)
            break;
        off = (size_t)(nl - data) + 1;
        keep = off;
    }
    int rc = keep == len ? 0 : jn_write_file_atomic(path, data, keep);
    free(data);
    return rc;
}

int jn_summary_write(const char *path, const jn_run_summary *s)
{
    char v[3][32], text[2048], message[1024];
    jn_json_number(v[0], sizeof v[0], s->best_valid_error);
    jn_json_number(v[1], sizeof v[1], s->test_error);
    jn_json_number(v[2], sizeof v[2], s->seconds);
    /* The message is ours (no quotes or control characters), but escape defensively. */
    size_t j = 0;
    for (const char *c = s->message ? s->message : ""; *c && j + 2 < sizeof message; c++) {
        if (*c == '"' || *c == '\\')
            message[j++] = '\\';
        message[j++] = (unsigned char)*c < 0x20 ? ' ' : *c;
    }
    message[j] = 0;
    int n = snprintf(text, sizeof text,
                     "{\n  \"status\": \"%s\",\n  \"message\": \"%s\",\n  \"epochs\": %d,\n  \"steps\": %llu,\n"
                     "  \"best_epoch\": %d,\n  \"best_valid_error\": %s,\n  \"test_error\": %s,\n  \"seconds\": %s\n}\n",
                     s->status, message, s->epochs_done, (unsigned long long)s->steps, s->best_epoch, v[0],
                     v[1], v[2]);
    return jn_write_file_atomic(path, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}
