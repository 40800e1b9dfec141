/* Worker processes and their pipe protocol (workers.h). One line per report:
 *   P <group> <configurations> <models> <steps>   a group opened
 *   B <entry>                      a configuration began
 *   S <steps>                      model-steps trained (at most ten lines a second)
 *   E <entry> <status>\t<message>  a configuration ended */
#include "sweep/workers.h"
#include "core/fileio.h"
#include "jacnoise/backend.h"
#include "jacnoise/error.h"
#include "jacnoise/wallclock.h"
#include "jacnoise/train.h"
#include "train/progress.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

/* ---- the worker's side ---------------------------------------------------------------- */

typedef struct {
    int fd;
    long steps;       /* not yet sent */
    double sent;
} pipe_report;

/* A failed write means the parent is gone: the worker dies with it (PR_SET_PDEATHSIG). */
static void put_line(int fd, const char *line) { (void)jn_write_all(fd, line, strlen(line)); }

static void send_steps(pipe_report *p)
{
    char line[64];
    if (!p->steps)
        return;
    snprintf(line, sizeof line, "S %ld\n", p->steps);
    put_line(p->fd, line);
    p->steps = 0;
    p->sent = jn_wall_seconds();
}

static void pipe_planned(void *ctx, int group, int configurations, int models, double steps)
{
    char line[128];
    snprintf(line, sizeof line, "P %d %d %d %.0f\n", group, configurations, models, steps);
    put_line(((pipe_report *)ctx)->fd, line);
}

static void pipe_began(void *ctx, int entry)
{
    char line[32];
    snprintf(line, sizeof line, "B %d\n", entry);
    put_line(((pipe_report *)ctx)->fd, line);
}

static void pipe_stepped(void *ctx, long steps)
{
    pipe_report *p = ctx;
    p->steps += steps;
    if (jn_wall_seconds() - p->sent >= 0.1)
        send_steps(p);
}

static void pipe_ended(void *ctx, int entry, const char *status, const char *message)
{
    pipe_report *p = ctx;
    char line[JN_SWEEP_FAILURE + 64];  /* the message whole, after its entry and status */
    send_steps(p);
    /* A byte kept for the newline: a longer message is cut, never written past line. */
    snprintf(line, sizeof line - 1, "E %d %s\t%s", entry, status, message);
    for (char *c = line; *c; c++)
        if (*c == '\n')
            *c = ' ';
    strcat(line, "\n");
    put_line(p->fd, line);
}

static int worker_main(const jn_plan *plan, const unsigned char *mine, const jn_run_row *known, int j, int jobs,
                       int fd, const char *to_continue)
{
#if defined(__linux__)
    /* A worker never outlives the sweep (a killed sweep must not leave runs training). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    const size_t n = (size_t)(plan->n_entries ? plan->n_entries : 1);
    int *part = malloc(n * sizeof *part);
    unsigned char *own = malloc(n);
    if (!part || !own) {
        free(part);
        free(own);
        return jn_fail("out of memory"), JN_EXIT_ERROR;
    }
    jn_plan_deal(plan, mine, jobs, part);
    for (int i = 0; i < plan->n_entries; i++)
        own[i] = part[i] == j;
    free(part);
    pipe_report p = {fd, 0, jn_wall_seconds()};
    const jn_sweep_report report = {&p, pipe_planned, pipe_began, pipe_stepped, pipe_ended, NULL, to_continue};
    int code = jn_sweep_work(plan, own, known, &report);
    send_steps(&p);
    free(own);
    return code;
}

/* ---- the parent's side ---------------------------------------------------------------- */

/* fork, stdio flushed first (a child would write the parent's buffer again), with SIGCHLD at
 * its default: ignored, as a parent may leave it across exec, the kernel reaps the children
 * itself and waitpid fails (ECHILD) without their exit status. */
static pid_t fork_child(void)
{
    jn_stdout_flush();
    fflush(stderr);
    signal(SIGCHLD, SIG_DFL);
    return fork();
}

/* waitpid through signals: 0, or -1 with errno. */
static int wait_child(pid_t pid, int *status)
{
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

int jn_sweep_device_check(jn_device device, int tf32, double *gpu_free)
{
    if (gpu_free)
        *gpu_free = 0;
    if (device != JN_DEVICE_CUDA && !(device == JN_DEVICE_AUTO && (tf32 || gpu_free)))
        return 0;
    int fd[2];
    if (pipe(fd) != 0)
        return jn_fail("--device cuda: cannot create a pipe to check the device: %s", strerror(errno));
    const pid_t pid = fork_child();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return jn_fail("--device cuda: cannot start a process to check the device: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fd[0]);
        const int rc = device == JN_DEVICE_CUDA ? jn_cuda_device_check() : jn_backend_precision_check(device, tf32);
        char bytes[64];
        snprintf(bytes, sizeof bytes, "%.0f", gpu_free ? jn_backend_gpu_free(device) : 0);
        put_line(fd[1], rc ? jn_last_error() : bytes);
        _exit(rc ? 1 : 0);
    }
    close(fd[1]);
    char reason[JN_ERROR_MAX];
    size_t len = 0;
    while (len < sizeof reason - 1) {
        const ssize_t got = read(fd[0], reason + len, sizeof reason - 1 - len);
        if (got > 0)
            len += (size_t)got;
        else if (got == 0 || errno != EINTR)
            break;
    }
    close(fd[0]);
    reason[len] = 0;
    int status;
    if (wait_child(pid, &status))
        return jn_fail("--device cuda: cannot wait for the process checking the device: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (gpu_free)
            *gpu_free = atof(reason);
        return 0;
    }
    return jn_fail("%s", reason[0] ? reason : "--device: the process checking the device ended abnormally");
}

typedef struct {
    pid_t pid;
    int fd;          /* -1 once the worker closed its end */
    char buf[JN_SWEEP_FAILURE + 128];  /* a whole line: a full one without its newline read as the end */
    size_t len;
} worker;

static void dispatch(const jn_sweep_report *r, char *line)
{
    int entry, group, configurations, models, at;
    double steps;
    long done;
    char status[32];
    if (sscanf(line, "P %d %d %d %lf", &group, &configurations, &models, &steps) == 4)
        r->planned(r->ctx, group, configurations, models, steps);
    else if (sscanf(line, "B %d", &entry) == 1)
        r->began(r->ctx, entry);
    else if (sscanf(line, "S %ld", &done) == 1)
        r->stepped(r->ctx, done);
    else if (sscanf(line, "E %d %31[^\t]\t%n", &entry, status, &at) == 2)
        r->ended(r->ctx, entry, status, line + at);
}

/* Takes in what a worker wrote; 0 at its end of file. */
static int drain(worker *w, const jn_sweep_report *r)
{
    ssize_t got = read(w->fd, w->buf + w->len, sizeof w->buf - 1 - w->len);
    if (got < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : 0;
    if (got == 0)
        return 0;
    w->len += (size_t)got;
    w->buf[w->len] = 0;
    char *start = w->buf, *nl;
    while ((nl = strchr(start, '\n'))) {
        *nl = 0;
        dispatch(r, start);
        start = nl + 1;
    }
    w->len -= (size_t)(start - w->buf);
    memmove(w->buf, start, w->len);
    return 1;
}

int jn_sweep_workers(const jn_plan *plan, const unsigned char *mine, const jn_run_row *known, int jobs,
                     const jn_sweep_report *report)
{
    worker *w = calloc((size_t)jobs, sizeof *w);
    struct pollfd *fds = calloc((size_t)jobs, sizeof *fds);
    if (!w || !fds) {
        free(w);
        free(fds);
        return jn_fail("out of memory"), JN_EXIT_ERROR;
    }
    jn_train_catch_signals();
    int started = 0, code = 0;
    for (; started < jobs; started++) {
        int fd[2];
        if (pipe(fd) != 0) {
            code = (jn_fail("--jobs: cannot create a pipe: %s", strerror(errno)), JN_EXIT_ERROR);
            break;
        }
        pid_t pid = fork_child();
        if (pid < 0) {
            close(fd[0]);
            close(fd[1]);
            code = (jn_fail("--jobs: cannot start worker %d: %s", started, strerror(errno)), JN_EXIT_ERROR);
            break;
        }
        if (pid == 0) {
            close(fd[0]);
            for (int k = 0; k < started; k++)
                close(w[k].fd);
            int rc = worker_main(plan, mine, known, started, jobs, fd[1], report->to_continue);
            if (rc == JN_EXIT_ERROR)
                fprintf(stderr, "jacnoise: sweep worker %d: %s\n", started, jn_last_error());
            /* stdout is not flushed: a worker writes its lines through its pipe, and what its
             * stdout buffer holds is the parent's (kept by a C library after a failed write),
             * which _exit drops rather than writing it twice. */
            fflush(stderr);
            _exit(rc);
        }
        close(fd[1]);
        w[started] = (worker){.pid = pid, .fd = fd[0]};
    }
    int open = started, forwarded = 0;
    while (open > 0) {
        const int sig = jn_train_stop_signal();
        if (sig && !forwarded) {
            for (int k = 0; k < started; k++)
                kill(w[k].pid, sig);
            forwarded = 1;
        }
        for (int k = 0; k < started; k++)
            fds[k] = (struct pollfd){w[k].fd, POLLIN, 0};
        if (poll(fds, (nfds_t)started, 200) < 0 && errno != EINTR)
            break;
        for (int k = 0; k < started; k++)
            if (w[k].fd >= 0 && (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) && !drain(&w[k], report)) {
                close(w[k].fd);
                w[k].fd = -1;
                open--;
            }
        report->flush(report->ctx);
    }
    for (int k = 0; k < started; k++) {
        int status;
        if (wait_child(w[k].pid, &status)) {
            if (!code)
                code = (jn_fail("sweep worker %d (pid %ld): cannot wait for it: %s", k, (long)w[k].pid,
                                strerror(errno)), JN_EXIT_ERROR);
            continue;
        }
        int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (jn_train_stop_words(rc, 0))  /* stopped by a signal, resumably */
            code = code ? code : rc;
        else if (rc && !code && WIFSIGNALED(status))  /* the OOM killer, say: nothing of it said what to do */
            code = (jn_fail("sweep worker %d (pid %ld) was killed by signal %d (%s); its runs stay at their last "
                            "checkpoints: %s", k, (long)w[k].pid, WTERMSIG(status), strsignal(WTERMSIG(status)),
                            report->to_continue), JN_EXIT_ERROR);
        else if (rc && !code)
            code = (jn_fail("sweep worker %d (pid %ld) ended with status %d", k, (long)w[k].pid, rc), JN_EXIT_ERROR);
    }
    free(w);
    free(fds);
    return code;
}
