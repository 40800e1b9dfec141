/* The seam between the trainer and a compute backend (the CPU reference; the CUDA engine).
 *
 * The trainer owns the schedule (epochs, learning rate, evaluation, checkpoints) and asks a
 * backend to run chunks of training steps; it never reaches into src/cpu or src/cuda. A
 * backend holds M slots: models of one shape and objective structure trained in lock-step
 * (`train` uses M = 1). It owns each slot's parameters and optimizer state between calls,
 * shuffles a slot's epoch from (its seed, its epoch) and draws its noise from (its seed, its
 * global step), never from the slot index or M. So a chunk's result depends only on its
 * inputs (chunks of any size give the same bytes), and a model trained in a slot ends with the
 * bytes of the same model trained alone on the same backend. */
#ifndef JACNOISE_BACKEND_H
#define JACNOISE_BACKEND_H

#include <stdint.h>

#include "jacnoise/config.h"
#include "jacnoise/data.h"
#include "jacnoise/model.h"
#include "jacnoise/objective.h"
#include "jacnoise/step.h"

typedef struct jn_backend jn_backend;

/* The device a backend trains on, as a run folder records it (summary.json) and `show`
 * prints it: a run's numbers depend on it (TF32, the GPU's cuBLAS kernels, the CPU's BLAS).
 * Each field is the one backend's: "" or 0 for the other's. */
typedef struct {
    char backend[16];      /* "cpu", "cuda" */
    char device[256];      /* the GPU's name; the CPU's model and cores online */
    int ordinal;           /* CUDA: the device's number in the process (cudaGetDevice); -1: not recorded */
    char pci[32];          /* CUDA: the device's PCI address, "0000:3b:00.0" (which GPU it was) */
    char capability[16];   /* CUDA: compute capability, "9.0" */
    char driver[16];       /* CUDA: the CUDA version the driver supports, "12.4" ("unknown") */
    char runtime[16];      /* CUDA: the runtime's CUDA version, "12.4" ("unknown") */
    int tf32;              /* CUDA: GEMMs in TF32 (--precision tf32, unless tf32_override) */
    int tf32_override;     /* CUDA: TF32 asked, but NVIDIA_TF32_OVERRIDE=0 turned it off */
    int threads;           /* CPU: BLAS threads */
    char blas[256];        /* CPU: the BLAS library and its build */
} jn_device_info;

/* One model's numbers: set per slot before it trains, and again when the slot is refilled
 * with another configuration. The structure they apply to (loss, penalty target and
 * estimator, copies, penalty on or off) is the backend's objective. */
typedef struct {
    uint64_t seed;         /* its shuffles and noise (its initialisation is the trainer's) */
    double momentum;
    double weight_decay;
    double input_noise;    /* > 0 only if the backend's objective has input noise */
    double jac_noise;      /* > 0 only if the backend's objective has penalty noise */
    double jac_lambda;     /* > 0 exactly when the backend's objective has the penalty */
} jn_model_hparams;

typedef struct {
    int batch;          /* B (the last batch of an epoch may be smaller) */
    int models;         /* M slots, trained in lock-step; `train` uses 1 */
    int threads;        /* CPU: BLAS threads (0 = the BLAS default) */
    int tf32;           /* CUDA: TF32 tensor-core GEMMs (--precision tf32) */
    int cuda_graph;     /* CUDA: replay a captured step graph (--cuda-graph on) */
} jn_backend_setup;

/* Where one slot stands for a chunk. */
typedef struct {
    int active;             /* 0: the slot trains nothing and its state is left alone */
    int epoch;              /* the slot's own epoch (its shuffle) */
    uint64_t global_step;   /* its global step at the chunk's first batch (its noise) */
    double lr;
} jn_slot_chunk;

/* Batches first_batch .. first_batch + n_batches - 1 of each active slot's epoch. */
typedef struct {
    long first_batch;
    long n_batches;
    const jn_slot_chunk *slot;  /* [models] */
} jn_train_chunk;

typedef struct {
    long steps_done;   /* steps completed and applied */
    int diverged;      /* step steps_done had a non-finite loss or penalty and was not applied;
                          that slot stopped there, the others went on */
} jn_chunk_result;

typedef struct {
    const char *name;
    /* Steps a train() call should cover for good throughput (the trainer may ask fewer). */
    long preferred_chunk;
    /* A slot's hyperparameters; refused (one line) if they do not fit the objective's
     * structure. */
    int (*set_hparams)(jn_backend *be, int slot, const jn_model_hparams *hp);
    /* A slot's parameters and velocity: host arrays of n_params values each (model.h's
     * layout), copied in or out before the call returns. */
    int (*set_state)(jn_backend *be, int slot, const jn_real *params, const jn_real *velocity);
    int (*get_state)(jn_backend *be, int slot, jn_real *params, jn_real *velocity);
    /* Runs the chunk's steps for every active slot on the bound training set, adding to
     * sums[slot] and setting res[slot] (both [models]; inactive slots are left alone). */
    int (*train)(jn_backend *be, const jn_train_chunk *chunk, jn_epoch_sums *sums, jn_chunk_result *res);
    /* Misclassified examples of a set under each slot's current parameters: errors[slot] for
     * every slot with want[slot] != 0 (want NULL: every slot). */
    int (*count_errors)(jn_backend *be, const jn_dataset *set, const unsigned char *want, long *errors);
    /* The device it trains on. */
    void (*describe)(const jn_backend *be, jn_device_info *out);
    void (*destroy)(jn_backend *be);
} jn_backend_ops;

struct jn_backend {
    const jn_backend_ops *ops;
    int models;
};

/* 0 if slot is one of be's, else -1 with "NAME backend: slot S out of range [0, M-1]" recorded:
 * the backends' set_hparams, set_state and get_state refuse another. */
int jn_backend_check_slot(const jn_backend *be, int slot);

/* Batches per epoch: ceil(n / B). */
long jn_batches_per_epoch(long n, int batch);

/* Whether `device` resolves to CUDA (JN_DEVICE_AUTO: when built in and a GPU is present). */
int jn_backend_uses_cuda(jn_device device);

/* 0 unless tf32 is asked of a device that resolves to the CPU (which has no TF32): -1 with
 * the reason recorded, which says why JN_DEVICE_AUTO chose the CPU. */
int jn_backend_precision_check(jn_device device, int tf32);

/* Sets the CPU path's BLAS threads (threads > 0) for `processes` processes that train at once,
 * and warns in one line on stderr where they cannot run as asked: beyond the BLAS's own limit,
 * or more in all than the CPUs the process may run on (taskset, a Slurm job's cpuset). For a
 * device that resolves to CUDA it only warns, in one line, that --threads changes nothing there. */
void jn_backend_threads(jn_device device, int threads, int processes);

/* Creates the backend for `device` (JN_DEVICE_AUTO: CUDA if built in and a GPU is present,
 * else the CPU), bound to a training set (which must outlive it), with setup->models slots.
 * obj is the slots' common objective: its structure, with each noise level and lambda the
 * largest any slot will use (buffers are sized for it). Each slot starts with obj's numbers,
 * seed 0 and momentum 0: set its hyperparameters and state before training it. */
jn_backend *jn_backend_create(jn_device device, const jn_model *m, const jn_objective *obj,
                              const jn_backend_setup *setup, const jn_dataset *train);

/* That this process is one of `workers` that train at once (a sweep's --jobs), and
 * gpu_free, the GPU's free bytes before any of them started (0: unknown): the memory budgets
 * (jn_backend_memory_budget) are this process's share. Set before the workers are forked;
 * they inherit it. */
void jn_backend_share_memory(int workers, double gpu_free);

/* The free bytes of the GPU `device` would use; 0 where it would use the CPU. */
double jn_backend_gpu_free(jn_device device);

/* One of `workers` processes' GPU bytes: 90% of at_start (the free memory before any of them
 * allocated; 0: now's) shared evenly, where reading the free memory as each allocates
 * counted the others' shares out twice; and no more than 90% of now (the free memory as it
 * allocates: less where another program has taken some since). */
double jn_backend_gpu_share(double at_start, double now, int workers);

/* Whether hp fits a backend whose objective is obj (penalty on exactly when obj's is, each
 * noise only where obj has it), with one line naming the mismatch; and the slot's objective:
 * obj's structure with hp's numbers. */
int jn_model_hparams_check(const jn_objective *obj, const jn_model_hparams *hp);
jn_objective jn_model_hparams_objective(const jn_objective *obj, const jn_model_hparams *hp);

/* The CPU reference backend, and the CUDA engine (in builds with CUDA). */
jn_backend *jn_cpu_backend_create(const jn_model *m, const jn_objective *obj,
                                  const jn_backend_setup *setup, const jn_dataset *train);
jn_backend *jn_cuda_backend_create(const jn_model *m, const jn_objective *obj,
                                   const jn_backend_setup *setup, const jn_dataset *train);

/* Bytes one more slot costs on the CPU backend, and what the slots share. */
void jn_cpu_backend_memory(const jn_model *m, const jn_objective *obj, const jn_backend_setup *setup,
                           const jn_dataset *train, double *per_model, double *shared);
/* The device bytes a CUDA backend of setup->models slots allocates (jn_cuda_backend_bytes in
 * cuda.h, by kind); the free bytes of the GPU a backend would use. 0 without CUDA. */
double jn_cuda_backend_memory(const jn_model *m, const jn_objective *obj, const jn_backend_setup *setup,
                              const jn_dataset *train);
double jn_cuda_free_memory(void);

/* BLAS threads for the CPU path (0 = leave the BLAS default); a description of the BLAS. */
void jn_cpu_set_threads(int threads);
const char *jn_cpu_blas_info(void);

/* Whether this build has the CUDA backend, and how many GPUs it sees (0 without). */
int jn_cuda_built(void);
int jn_cuda_device_count(void);
/* The current device (the one the CUDA backend opens): its ordinal, name, PCI address and
 * compute capability into out's CUDA fields; -1 where there is none (no CUDA, no device). */
int jn_cuda_current_device(jn_device_info *out);

/* 0 where the CUDA backend can open a device; else -1 with the reason recorded (no GPU, or no
 * CUDA in this build). */
int jn_cuda_device_check(void);

#endif
