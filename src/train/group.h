/* What the trainer asks of a group beyond train.h's: its data, model and backend name, and
 * putting a job in a slot. Internal to src/train. */
#ifndef JACNOISE_TRAIN_GROUP_H
#define JACNOISE_TRAIN_GROUP_H

#include "jacnoise/train.h"

/* The group's loaded data, model and backend name ("cpu", "cuda"). */
const jn_data *jn_group_data(const jn_group *g);
const jn_model *jn_group_model(const jn_group *g);
const char *jn_group_backend_name(const jn_group *g);

/* Puts a job in a free slot: loads its parameters (fresh or resumed), hands them to the
 * backend, and only then writes its folder (config.txt; metrics.jsonl trimmed to its
 * checkpoint). 0; 1 when the job failed (it has ended: the source's ended() is not called
 * for it here); -1 on a group error (the backend). */
int jn_group_admit(jn_group *g, jn_job *job);

#endif
