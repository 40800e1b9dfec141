"""tools/slurm/sweep.sbatch on a real one-node Slurm cluster: munged, slurmctld and slurmd
started here from a slurm.conf in a temporary folder (SLURM_CONF), the sweep submitted as a
3-task job array sharing one sweep folder, then merged, and compared with the same sweep run
unsharded. The daemons are stopped by their pids. Skipped (77) where Slurm (Debian's slurm-wlm)
or munge is not installed; before that, without Slurm, the script run as tasks of an array and
part of it resubmitted (the SLURM_ARRAY_TASK_* variables set as Slurm sets them), each task
of a first array given as a list refused (Slurm gives a list step 1), a task
without its program saying so in one line, a --shard given to the array's tasks refused,
a plain batch job's log named without the array index Slurm gives it outside an array (also without /proc), and a task stopped by SIGTERM saying how it continues
(and a plain batch job, sbatch without --array, so stopped), a task stopped before the
script's exec of jacnoise exiting 143 as well, a task whose configurations
failed saying how to retry them, a folder where a --shard sweep and an array ran counting
the array's configurations its own, and the script's SIGTERM asked for ahead of the time limit;
on the cluster, a job that SIGTERM stops showing as the README says (FAILED, ExitCode 143:0).

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import getpass
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import harness
from harness import BIN, check, ended, finish, run, steps_named, wait_until
from test_sweep import rows, same_sweep, until_training

HERE = os.path.dirname(os.path.abspath(__file__))
SBATCH = os.path.join(HERE, "..", "tools", "slurm", "sweep.sbatch")

SPEC = """data = usps
hidden = 12
train-limit = 300
valid = 60
batch = 25
lr = 0.1
epochs = 2
jac-lambda = [0, 0.1]
jac-noise = 0.2
seeds = 3
"""

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "sinfo")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def slurm_conf(tmp, host, user):
    return f"""ClusterName=jacnoise-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
AuthInfo=socket={tmp}/munge.socket
CredType=cred/munge
StateSaveLocation={tmp}/state
SlurmdSpoolDir={tmp}/spool
SlurmctldPidFile={tmp}/slurmctld.pid
SlurmdPidFile={tmp}/slurmd.pid
SlurmctldLogFile={tmp}/slurmctld.log
SlurmdLogFile={tmp}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def start_cluster(tmp, env):
    """munged, slurmctld, slurmd in the foreground (their pids are ours); waits until the node
    is idle."""
    os.makedirs(os.path.join(tmp, "state"))
    os.makedirs(os.path.join(tmp, "spool"))
    key = os.path.join(tmp, "munge.key")
    with open(key, "wb") as f:
        f.write(os.urandom(128))
    os.chmod(key, 0o600)
    logs = open(os.path.join(tmp, "daemons.log"), "w")
    munge = [shutil.which("munged"), "-F", "-S", f"{tmp}/munge.socket", "--key-file", key, "--pid-file",
             f"{tmp}/munged.pid", "--log-file", f"{tmp}/munged.log", "--seed-file", f"{tmp}/munged.seed"]
    # Each daemon started once the one before answers, not after fixed sleeps (a loaded machine
    # starts them later); the bounds only end a wait for one that never comes up.
    procs = [subprocess.Popen(munge, stdout=logs, stderr=logs)]
    wait_until(lambda: os.path.exists(f"{tmp}/munge.socket"), procs[-1], 300)
    procs.append(subprocess.Popen([shutil.which("slurmctld"), "-D", "-c"], env=env, stdout=logs, stderr=logs))
    sinfo = lambda: subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True)
    wait_until(lambda: sinfo().returncode == 0, procs[-1], 300, every=0.2)
    procs.append(subprocess.Popen([shutil.which("slurmd"), "-D"], env=env, stdout=logs, stderr=logs))
    state = ""

    def idle():
        nonlocal state
        state = sinfo().stdout.strip()
        return state == "idle"
    wait_until(idle, procs[-1], 300, every=0.2)
    return procs, state


def stop_cluster(procs):
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def task_env(task, first, last, tasks=None):
    """The environment of task `task` of the job array first..last (or of a list of `tasks`
    tasks from first to last), as Slurm sets it."""
    env = dict(os.environ, JACNOISE=BIN, SLURM_ARRAY_JOB_ID="41", SLURM_ARRAY_TASK_ID=str(task),
               SLURM_ARRAY_TASK_MIN=str(first), SLURM_ARRAY_TASK_MAX=str(last),
               SLURM_ARRAY_TASK_COUNT=str(tasks or last - first + 1))
    env.pop("SLURM_ARRAY_TASK_STEP", None)
    return env


def array_task(spec, folder, task, first, last, tasks=None):
    """The script as task `task` of the job array first..last (or of a list of `tasks`
    tasks from first to last), without Slurm: its output."""
    p = subprocess.run(["bash", SBATCH, spec, folder], env=task_env(task, first, last, tasks), capture_output=True,
                       text=True, timeout=600)
    check(p.returncode == 0, f"array task {task}: exit {p.returncode}: {p.stderr[-300:]}")
    return p.stdout


def resubmitted_part(tmp, spec, reference):
    """Resubmitting part of an array (sbatch --array=1,2 to rerun two tasks of 0-2) runs those
    tasks' shards of the first array, not the shards of a 2-task array."""
    folder = os.path.join(tmp, "resubmitted")
    ids = {}
    for task in range(3):
        out = array_task(spec, folder, task, 0, 2)
        check(f"shard {task}/3" in out, f"task {task} of 0-2: {out[:300]!r}")
        ids[task] = [line.split()[2] for line in out.splitlines() if line.startswith("sweep: [")]
    for task in (1, 2):
        for i in ids[task]:
            shutil.rmtree(os.path.join(folder, "runs", i))
    for task in (1, 2):
        out = array_task(spec, folder, task, 1, 2, tasks=2)
        check(f"shard {task}/3" in out and f"array task {task} of job 41 on " in out.splitlines()[0],
              f"task {task} resubmitted as --array=1,2: {out[:300]!r}")
    run(["sweep", "merge", folder])
    same_sweep(reference, folder, "2 of 3 array tasks resubmitted")


def listed_first_array(tmp, spec):
    """A first array on a folder submitted as a list that is no range (sbatch --array=0,2,4:
    Slurm gives its tasks step 1, MIN 0, MAX 4, COUNT 3) is refused by every task, exit 2,
    the folder not made: its tasks 0 and 2 trained shards 0 and 2 of 3, and its task 4 was
    refused as no task of the array first run there, shard 1 trained by none."""
    folder = os.path.join(tmp, "listed")
    for task in (0, 2, 4):
        p = subprocess.run(["bash", SBATCH, spec, folder], env=task_env(task, 0, 4, tasks=3), capture_output=True,
                           text=True, timeout=600)
        check(p.returncode == 2 and p.stderr.endswith(
            "jacnoise: --shard: the job array is a list of tasks, not a range (SLURM_ARRAY_TASK_MIN=0, _MAX=4, "
            f"_COUNT=3): the first array on {folder} must be a range, --array=0-2 (or A-B:STEP), whose tasks it "
            "records as its shards; any part of it can then be resubmitted as a list\n") and not os.path.exists(folder),
              f"task {task} of --array=0,2,4, the first array: exit {p.returncode}: {p.stderr[-400:]!r}")


def missing_program(tmp, spec):
    """A task without its program (JACNOISE names none; none on PATH, no build/jacnoise where
    sbatch ran) says so in one line naming where it looked, exit 1, the sweep folder not made."""
    folder = os.path.join(tmp, "no-program")
    env = dict(task_env(0, 0, 2), JACNOISE=os.path.join(tmp, "no-jacnoise"))
    p = subprocess.run(["bash", SBATCH, spec, folder], env=env, capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and p.stderr.startswith(f"sweep.sbatch: {env['JACNOISE']}: no jacnoise program there") and
          p.stderr.count("\n") == 1 and not os.path.exists(folder),
          f"a task without its program: exit {p.returncode}: {p.stdout!r} {p.stderr!r}")


def array_shard(tmp, spec):
    """A --shard I/N among an array task's options is refused in one line, exit 2, the folder
    not made: it dealt every task that one shard (one trained it, the others failed on its runs,
    in use); the last --shard given is the one judged, as jacnoise takes the last. --shard auto,
    each task's own, goes on, and so does --shard I/N without an array, where the job's one
    shard is its to choose (each checked with --dry-run: nothing written);
    its log's first line names that shard, the last --shard given (it said "the whole sweep")."""
    folder = os.path.join(tmp, "array-shard")
    for args in (["--shard", "1/2"], ["--seeds", "2", "--shard=0/3"], ["--shard", "auto", "--shard=1/2"]):
        p = subprocess.run(["bash", SBATCH, spec, folder] + args, env=task_env(1, 0, 2), capture_output=True,
                           text=True, timeout=60)
        check(p.returncode == 2 and p.stderr == "sweep.sbatch: --shard: not an option of an array task: each task's "
              "shard is its place in the job array (for one shard, submit without --array)\n" and not p.stdout and
              not os.path.exists(folder), f"array task with {args}: exit {p.returncode}: {p.stdout!r} {p.stderr!r}")
    plain = {k: v for k, v in task_env(1, 0, 2).items() if not k.startswith("SLURM_ARRAY_")}
    for env, args in ((task_env(1, 0, 2), ["--shard", "auto"]), (task_env(1, 0, 2), ["--shard=auto"]),
                      (task_env(1, 0, 2), ["--shard", "1/2", "--shard", "auto"]), (plain, ["--shard", "1/2"])):
        p = subprocess.run(["bash", SBATCH, spec, folder] + args + ["--dry-run"], env=env, capture_output=True,
                           text=True, timeout=60)
        check(p.returncode == 0 and not os.path.exists(folder),
              f"{args} {'in' if 'SLURM_ARRAY_TASK_ID' in env else 'outside'} an array: exit {p.returncode}: "
              f"{p.stderr[-300:]!r}")
    for args, part in ((["--shard", "1/2"], "shard 1/2, as its --shard says"), (["--shard=1/2", "--shard", "auto"],
                       "the whole sweep"), ([], "the whole sweep")):
        p = subprocess.run(["bash", SBATCH, spec, folder] + args + ["--dry-run"], env=batch_env(), capture_output=True,
                           text=True, timeout=60, cwd=tmp)
        check(p.returncode == 0 and p.stdout.startswith(f"jacnoise sweep: job 42 (no --array: {part}) on "),
              f"a plain batch job with {args}: exit {p.returncode}: {p.stdout[:200]!r} {p.stderr[-300:]!r}")


def time_limit_signal():
    """The script asks Slurm for SIGTERM minutes before the time limit, so that a large group's
    saves end before the SIGKILL that follows the limit by KillWait (30 s by default): sent to
    the batch shell (B:), which the script's exec makes jacnoise (cancelled_task sends it
    there); without B: Slurm signals job steps alone, and the script starts none. At least a
    minute: Slurm acts on it once a minute."""
    text = open(SBATCH).read()
    found = re.findall(r"^#SBATCH --signal=(\S*)$", text, re.M)
    lead = re.fullmatch(r"B:TERM@(\d+)", found[0]) if len(found) == 1 else None
    check(lead and int(lead.group(1)) >= 60 and re.search(r'^exec "\$bin" sweep ', text, re.M),
          f"sweep.sbatch: #SBATCH --signal={found}: expected one B:TERM@N, N >= 60 seconds, and jacnoise run by exec")


def batch_env():
    """The environment of a plain batch job (sbatch without --array), as Slurm sets it."""
    env = dict(os.environ, JACNOISE=BIN, SLURM_JOB_ID="42", SLURM_JOB_NAME="jacnoise-sweep", ENVIRONMENT="BATCH")
    for name in ("SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
                 "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_STEP"):
        env.pop(name, None)
    return env


def plain_job_log(tmp):
    """A plain batch job's log, which Slurm names slurm-%x-%A_%a.out with %a = 4294967294
    outside an array, is named slurm-jacnoise-sweep-JOBID.out, its first line in it; also where
    there is no /proc (it was found there), run in a mount namespace with /proc hidden where
    unshare may make one."""
    hidden = ["unshare", "-rm", "sh", "-c", 'mount -t tmpfs none /proc && exec "$@"', "sh"]
    if subprocess.run(hidden + ["true"], capture_output=True).returncode != 0:
        print("skipped the plain batch job's log without /proc: unshare -rm cannot hide it here")
        hidden = None
    for what, wrap in (("", []), (" without /proc", hidden)):
        if wrap is None:
            continue
        folder = os.path.join(tmp, "plain-log" + what.replace(" ", "-").replace("/", ""))
        os.makedirs(folder)
        log = os.path.join(folder, "slurm-jacnoise-sweep-42_4294967294.out")
        with open(log, "w") as out:
            p = subprocess.run(wrap + ["bash", SBATCH, "study.spec", "out"], env=dict(batch_env(), JACNOISE="true"),
                               stdout=out, stderr=subprocess.PIPE, text=True, timeout=60, cwd=folder)
        renamed = os.path.join(folder, "slurm-jacnoise-sweep-42.out")
        text = open(renamed).read() if os.path.exists(renamed) else ""
        check(p.returncode == 0 and os.listdir(folder) == [os.path.basename(renamed)] and
              text.startswith("jacnoise sweep: job 42 (no --array: the whole sweep) on "),
              f"a plain batch job's log{what}: exit {p.returncode}, {os.listdir(folder)}: {text[:200]!r} "
              f"{p.stderr[-300:]!r}")


def cancelled_task(tmp):
    """A task that scancel or its time limit stops (SIGTERM) says how it continues: resubmit
    that task, sbatch --array=I (not "run the same command", which a task's log cannot say),
    and so do the summaries of the runs it interrupted, in its workers too (--jobs 2): run by
    hand, the sweep command would train the whole sweep outside the array. A plain batch job
    (no --array; its log's first line says it trains the whole sweep, not "array task ? of job
    ?") says to resubmit it, not to run the command by hand. Then, as after scancel of
    the whole array, whose tasks 0 and 2 never started (no log says a word of them), sweep status
    names the tasks to resubmit."""
    spec = os.path.join(tmp, "endless.spec")
    open(spec, "w").write(SPEC.replace("epochs = 2", "epochs = 100000\npatience = 0"))
    for what, env, first, how in [
            ("array task 1 of 0-2", task_env(1, 0, 2), "jacnoise sweep: array task 1 of job 41 on ",
             "to continue, resubmit this array task: sbatch --array=1 with the same script and arguments"),
            ("a plain batch job", batch_env(), "jacnoise sweep: job 42 (no --array: the whole sweep) on ",
             "to continue, resubmit this job: sbatch with the same script and arguments")]:
        folder = os.path.join(tmp, "cancelled-" + what.split()[-1])
        p = subprocess.Popen(["bash", SBATCH, spec, folder, "--jobs", "2"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        until_training(folder, p)
        p.terminate()
        out, err = ended(p, f"{what} sent SIGTERM")
        check(p.returncode == 143 and out.startswith(first) and
              err.strip().splitlines()[-1:] == [f"jacnoise: sweep terminated; {how}"],
              f"{what} stopped by SIGTERM: exit {p.returncode}: {out[:200]!r} {err[-300:]!r}")
        runs = os.path.join(folder, "runs")
        messages = []
        for i in sorted(os.listdir(runs)):
            if os.path.exists(os.path.join(runs, i, "summary.json")):  # a run not begun when it stopped has none
                with open(os.path.join(runs, i, "summary.json")) as f:
                    messages.append(json.load(f)["message"])
        check(messages and all(steps_named("terminated", m, 1) is not None and m.endswith(f"; {how}") for m in messages),
              f"{what}: the interrupted runs' summaries: {messages!r}")
    folder = os.path.join(tmp, "cancelled-0-2")
    shown = run(["sweep", "status", folder]).stdout.splitlines()
    check(shown[-1:] == [f"unfinished: 6 configurations, of array tasks 0-2 of the array {folder}/slurm-array records "
                         "(a task cancelled before it started left no log); once none of them runs, to continue, "
                         "resubmit those array tasks: sbatch --array=0-2 with the same script and arguments"],
          f"status after the array's cancel: {shown[-3:]!r}")


def terminated_before_exec(tmp):
    """A task whose batch shell SIGTERM reaches before the script's exec of jacnoise (scancel
    as it starts) exits 143 too, in one line, as the README says: the shell's default end, by
    the signal, showed as ExitCode 0:15. Held there by a hostname that waits for a file."""
    stubs = os.path.join(tmp, "held-stubs")
    os.makedirs(stubs)
    started, release = os.path.join(tmp, "held-started"), os.path.join(tmp, "held-release")
    with open(os.path.join(stubs, "hostname"), "w") as f:
        f.write(f'#!/bin/sh\n: > "{started}"\nwhile [ ! -e "{release}" ]; do sleep 0.05; done\necho node\n')
    os.chmod(os.path.join(stubs, "hostname"), 0o755)
    env = dict(task_env(0, 0, 2), JACNOISE="true", PATH=stubs + os.pathsep + os.environ["PATH"])
    folder = os.path.join(tmp, "held")
    p = subprocess.Popen(["bash", SBATCH, "study.spec", folder], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    wait_until(lambda: os.path.exists(started), p, 60)
    p.terminate()  # to the batch shell alone, as --signal=B: sends it
    open(release, "w").close()
    out, err = ended(p, "a task terminated before its exec of jacnoise", 60)
    check(p.returncode == 143 and err == "sweep.sbatch: terminated before jacnoise started; resubmit this task\n" and
          not os.path.exists(folder),
          f"a task terminated before its exec of jacnoise: exit {p.returncode}: {out!r} {err!r}")


def failed_task(tmp):
    """A task whose configurations failed (their data cannot load) ends with one line naming
    them and how to retry them once that is fixed: resubmit that task, not rerun the command,
    which outside the array would train the whole sweep."""
    spec = os.path.join(tmp, "failing.spec")
    open(spec, "w").write(SPEC.replace("train-limit = 300", "train-limit = 99999"))
    p = subprocess.run(["bash", SBATCH, spec, os.path.join(tmp, "failing")], env=task_env(2, 0, 2),
                       capture_output=True, text=True, timeout=600)
    last = p.stderr.strip().splitlines()[-1:]
    check(p.returncode == 1 and last and last[0].startswith("jacnoise: sweep: failed: ") and
          last[0].endswith("(2 configurations; the table above says why; once that is fixed, to continue, resubmit "
                           "this array task: sbatch --array=2 with the same script and arguments)"),
          f"a task whose configurations failed: exit {p.returncode}: {p.stderr[-300:]!r}")


def status_tasks(tmp, spec):
    """sweep status in a job array's folder names the tasks whose configurations are unfinished
    as sbatch --array takes them (a range, a step; one task as one), none once every one is done; outside an
    array, to run the command again once no sweep trains them (status does not know whether
    one still does)."""
    for array, tasks in [((0, 2), [0]), ((4, 13, 3), [7])]:
        first, last = array[0], array[1]
        step = array[2] if len(array) > 2 else 1
        folder = os.path.join(tmp, f"status-{first}-{last}-{step}")
        for task in tasks:
            env = dict(task_env(task, first, last, tasks=(last - first) // step + 1), SLURM_ARRAY_TASK_STEP=str(step))
            p = subprocess.run(["bash", SBATCH, spec, folder], env=env, capture_output=True, text=True, timeout=600)
            check(p.returncode == 0, f"array task {task}: exit {p.returncode}: {p.stderr[-300:]}")
        shown = run(["sweep", "status", folder]).stdout.splitlines()[-1]
        want = "--array=1-2 " if step == 1 else "--array=4,10-13:3 "
        check(shown.startswith("unfinished: 4 configurations, of array tasks ") and want in shown,
              f"status of array {array} after tasks {tasks}: {shown!r}")
    folder = os.path.join(tmp, "status-0-2-1")
    array_task(spec, folder, 1, 0, 2)
    shown = run(["sweep", "status", folder]).stdout.splitlines()[-1]
    check(shown == f"unfinished: 2 configurations, of array task 2 of the array {folder}/slurm-array records (a task "
                   "cancelled before it started left no log); once none of them runs, to continue, resubmit that "
                   "array task: sbatch --array=2 with the same script and arguments",
          f"status with one task left: {shown!r}")  # it said "array tasks 2", "those array tasks"
    array_task(spec, folder, 2, 0, 2)
    shown = run(["sweep", "status", folder]).stdout
    check("unfinished" not in shown, f"status once every task has run: {shown[-300:]!r}")
    folder = os.path.join(tmp, "status-plain")
    os.makedirs(folder)
    open(os.path.join(folder, "sweep.spec"), "w").write(open(spec).read())
    shown = run(["sweep", "status", folder]).stdout.splitlines()[-1]
    check(shown == "unfinished: 6 configurations; once no sweep trains them, run the same sweep command again to "
                   "continue",
          f"status of a sweep never run: {shown!r}")


def shards_and_array(tmp, spec):
    """A folder where a --shard sweep ran (DIR/shards) and a job array too (DIR/slurm-array,
    its tasks recording no shard): status, a task's end and a merge count the array's
    configurations this folder's, and status names its tasks to resubmit (they were counted
    other shards', with no word of the tasks)."""
    folder = os.path.join(tmp, "shards-and-array")
    run(["sweep", "--spec", spec, "--out", folder, "--shard", "0/2", "--progress", "never"])
    ended = array_task(spec, folder, 0, 0, 2)
    counts = "0 interrupted, 2 pending\n"
    check(counts in ended and "other shards" not in ended, f"array task 0's end after a shard: {ended[-500:]!r}")
    shown = run(["sweep", "status", folder]).stdout
    check(counts in shown and "other shards" not in shown and
          shown.splitlines()[-1].startswith("unfinished: 2 configurations, of array tasks 1-2 of the array "),
          f"status of a shard's and an array's folder: {shown[-500:]!r}")
    merged = run(["sweep", "merge", folder]).stdout
    check(counts in merged and "other shards" not in merged, f"a merge of a shard's and an array's folder: {merged!r}")


def stopped_for_time(tmp, env):
    """A task that Slurm's --signal=B:TERM stops before its time limit (sent here by scancel -b -s
    TERM, to the batch shell alone, as that signal is) ends as the README says: exit 143, which
    Slurm shows as FAILED, ExitCode 143:0, its runs saved (not a failure of its configurations, 1)."""
    spec = os.path.join(tmp, "for-time.spec")
    open(spec, "w").write(SPEC.replace("epochs = 2", "epochs = 100000\npatience = 0"))
    folder = os.path.join(tmp, "for-time")
    p = subprocess.run(["sbatch", "--parsable", "--gres=none", "--cpus-per-task=1", f"--output={tmp}/for-time.out",
                        SBATCH, spec, folder], env=env, cwd=tmp, capture_output=True, text=True, timeout=60)
    job = p.stdout.strip().split(";")[0]
    show = lambda: subprocess.run(["scontrol", "show", "job", job], env=env, capture_output=True, text=True).stdout
    active = lambda: re.search(r"JobState=(PENDING|RUNNING|COMPLETING)\b", show())
    runs = os.path.join(folder, "runs")
    training = lambda: os.path.isdir(runs) and any(os.path.exists(os.path.join(runs, i, "metrics.jsonl"))
                                                   for i in os.listdir(runs))
    deadline = time.monotonic() + 300  # bounds a hang only
    while p.returncode == 0 and not training() and active() and time.monotonic() < deadline:
        time.sleep(0.1)
    subprocess.run(["scancel", "-b", "-s", "TERM", job], env=env, capture_output=True, timeout=60)
    while p.returncode == 0 and active() and time.monotonic() < deadline:
        time.sleep(0.2)
    shown = re.findall(r"(?:JobState|ExitCode)=\S+", show())
    interrupted = re.search(r"(\d+) interrupted", run(["sweep", "status", folder]).stdout)
    check(p.returncode == 0 and shown == ["JobState=FAILED", "ExitCode=143:0"] and interrupted and
          int(interrupted.group(1)) > 0, f"a job stopped by SIGTERM to its batch shell: sbatch exit {p.returncode} "
          f"{p.stderr!r}, {shown}, status {interrupted}")


def main():
    tmp = tempfile.mkdtemp(prefix="jacnoise-slurm-")
    os.chmod(tmp, 0o755)  # munged refuses folders others may write
    spec = os.path.join(tmp, "study.spec")
    open(spec, "w").write(SPEC)
    reference = os.path.join(tmp, "unsharded")
    run(["sweep", "--spec", spec, "--out", reference, "--progress", "never"])
    resubmitted_part(tmp, spec, reference)
    listed_first_array(tmp, spec)
    missing_program(tmp, spec)
    array_shard(tmp, spec)
    time_limit_signal()
    plain_job_log(tmp)
    cancelled_task(tmp)
    terminated_before_exec(tmp)
    failed_task(tmp)
    status_tasks(tmp, spec)
    shards_and_array(tmp, spec)
    missing = [d for d in DAEMONS if not shutil.which(d)]
    if missing:
        print(f"skipped: Slurm and munge are not installed ({', '.join(missing)} missing; on Debian: "
              "apt-get install slurm-wlm munge)")
        status = finish("Slurm array variables", tmp)
        return status if harness.failures else 77
    conf = os.path.join(tmp, "slurm.conf")
    open(conf, "w").write(slurm_conf(tmp, socket.gethostname().split(".")[0], getpass.getuser()))
    env = dict(os.environ, SLURM_CONF=conf, JACNOISE=BIN)
    start = time.monotonic()
    procs, state = start_cluster(tmp, env)
    try:
        check(state == "idle", f"the node never became idle (sinfo: {state!r}); see {tmp}/slurmctld.log, slurmd.log")
        if state == "idle":
            print(f"Slurm up in {time.monotonic() - start:.1f} s")
            folder = os.path.join(tmp, "array")
            # One GPU per task in the script; this cluster has none, and 1 CPU per task lets
            # the three tasks run at once on a small machine.
            p = subprocess.run(["sbatch", "--wait", "--array=0-2", "--gres=none", "--cpus-per-task=1",
                                f"--output={tmp}/task-%a.out", SBATCH, spec, folder], env=env, cwd=tmp,
                               capture_output=True, text=True, timeout=600)
            check(p.returncode == 0, f"sbatch --wait: exit {p.returncode}: {p.stdout} {p.stderr}")
            for task in range(3):
                out = open(os.path.join(tmp, f"task-{task}.out")).read()
                check(f"shard {task}/3" in out and "array task" in out, f"task {task} output: {out[:400]!r}")
            run(["sweep", "merge", folder])
            same_sweep(reference, folder, "3 array tasks in one folder, merged")
            print(f"job array: {len(rows(folder)) - 1} configurations, the same as the unsharded sweep")
            stopped_for_time(tmp, env)
    finally:
        stop_cluster(procs)
    check(all(p.poll() is not None for p in procs), "a daemon is still running")
    return finish("Slurm", tmp)


if __name__ == "__main__":
    sys.exit(main())
