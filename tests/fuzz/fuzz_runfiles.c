/* Fuzzes the readers of a run folder's text files, which a crash may tear and a user may edit:
 * metrics.jsonl (read by resume, sweep status and merge; truncated to the checkpoint's epochs on
 * resume) and summary.json (read by sweep status and merge). */
#include "fuzz_common.h"
#include "train/metrics.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(data, size, 0);
    jn_epoch_metrics *m = NULL;
    int epochs = 0;
    jn_metrics_read(path, &m, &epochs);
    free(m);  /* the lines before a refused one too */
    jn_summary_file summary;
    jn_summary_read(path, &summary);
    jn_metrics_truncate(path, 2);  /* rewrites the file: read last */
    return 0;
}
