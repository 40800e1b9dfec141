/* What show and sweep status say of a run whose summary.json does not read. */
#include "train/metrics.h"
#include "jacnoise/checkpoint.h"
#include "jacnoise/error.h"

#include <stdio.h>

void jn_summary_unread_state(const char *last, char *out, size_t cap)
{
    char error[JN_ERROR_MAX];
    snprintf(error, sizeof error, "%s", jn_last_error());  /* the header's read may replace it */
    /* A run that ended before its summary was damaged: show said "finished" and sweep status
     * "unreadable" of the same run, each leaving out what the other said. */
    jn_checkpoint ck = {0};
    if (jn_checkpoint_read_header(last, &ck) == 0 && ck.state.status != JN_RUN_RUNNING)
        snprintf(out, cap, "%s, as %s records, but %s", jn_run_status_name(ck.state.status), last, error);
    else
        snprintf(out, cap, "%s", error);
    jn_checkpoint_free(&ck);
}
