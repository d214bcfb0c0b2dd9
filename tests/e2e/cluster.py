"""A private single-node SLURM cluster (Slurm 22.05 from Debian) for the end-to-end tests.

`running_cluster()` writes a container-friendly configuration into a fresh directory, starts
munged, a private MariaDB, slurmdbd, slurmctld and slurmd on loopback and stops them again,
by process id, however the `with` block ends. Accounting is on, as on a real cluster: sacct
answers, and QOS limits such as MaxSubmitJobsPerUser are enforced (`Cluster.set_qos_limit`). The node claims what the seed's scripts ask for (16 CPUs, about 1 TB of
memory, 4 GPUs with the feature gpu80) although the machine has 2 cores and no GPU: the
daemons run with `SlurmdParameters=config_overrides` and the GPUs are copies of /dev/null.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CLUSTER = "e2e"
NODE = "e2e-node"
PARTITION = "e2e"
GPUS = 4
BINARIES = (
    "munged", "mariadb-install-db", "mariadbd", "mariadb", "slurmdbd", "slurmctld", "slurmd",
    "sbatch", "scontrol", "sinfo", "squeue", "scancel", "sacct", "sacctmgr",
)  # fmt: skip
# Accounting enforces associations: every account a test's scripts name must exist. Jobs
# that name none are charged to the first.
ACCOUNTS = ("e2e", "lab", "foo", "msalganik")
DB_USER, DB_PASSWORD = "slurm", "e2e"
FINISHED_STATES = {
    "BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL",
    "OUT_OF_MEMORY", "PREEMPTED", "TIMEOUT",
}  # fmt: skip

SLURM_CONF = """\
ClusterName={cluster}
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
AuthInfo=socket={munge_socket}
StateSaveLocation={directory}/state
SlurmdSpoolDir={directory}/spool
SlurmctldPidFile={directory}/slurmctld.pid
SlurmdPidFile={directory}/slurmd.pid
# No cgroups, no mail: neither works in a container.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
# Accounting through the private slurmdbd; `limits` enforces associations and QOS limits.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost={host}
AccountingStoragePort={dbd_port}
# With slurmdbd this names the munge socket for talking to it (AuthInfo does not reach it).
AccountingStoragePass={munge_socket}
AccountingStorageEnforce=limits
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default, a job that gives no --mem takes the whole node and jobs run one by one.
DefMemPerCPU=1024
# Lets the node below claim more CPUs and memory than the machine has.
SlurmdParameters=config_overrides
GresTypes=gpu
# Keep finished jobs in `scontrol show job` for a day, as the helpers below read them there.
MinJobAge=86400
ReturnToService=2
# Start a submitted batch job at once, not up to 3 s later (the default, for high throughput).
SchedulerParameters=batch_sched_delay=0
KillWait=2
NodeName={node} NodeAddr=127.0.0.1 CPUs=16 RealMemory=1000000 Gres=gpu:{gpus} Feature=gpu80 State=UNKNOWN
PartitionName={partition} Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""

SLURMDBD_CONF = """\
AuthType=auth/munge
AuthInfo=socket={munge_socket}
DbdHost={host}
DbdAddr=127.0.0.1
DbdPort={dbd_port}
SlurmUser=root
PidFile={directory}/slurmdbd.pid
LogFile={directory}/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={db_port}
StorageUser={db_user}
StoragePass={db_password}
StorageLoc=slurm_acct_db
"""

# Without AutoDetect=off slurmd looks for NVML; a File-less Count=4 gives zero GPUs and the
# node goes INVAL, so each fake GPU is a device file of its own.
GRES_CONF = """\
AutoDetect=off
Name=gpu File={directory}/dev/nvidia[0-{last}]
"""


class ClusterError(RuntimeError):
    """The cluster did not come up; the message holds the daemons' logs."""


def missing_requirements() -> str | None:
    """Why this machine cannot run the cluster, or None when it can."""
    if os.geteuid() != 0:
        return "the e2e SLURM cluster needs root (munged runs as munge, slurmd as root)"
    missing = [name for name in BINARIES if shutil.which(name) is None]
    if missing:
        return f"SLURM/munge not installed ({', '.join(missing)}); `make e2e` installs them"
    return None


@dataclass
class Cluster:
    """A running cluster: the environment its clients need, and helpers to submit jobs."""

    directory: Path
    env: dict[str, str]
    node: str = NODE

    def command(self, *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run a SLURM client command against this cluster."""
        return subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True, text=True)

    def sbatch(
        self, script: Path, *extra_args: str, cwd: Path | None = None, wait: bool = False
    ) -> tuple[int, str]:
        """Submit `script` from `cwd` (default: the script's directory).

        Returns (rc, job id) when sbatch printed a job id, else (rc, stderr). With `wait`,
        sbatch returns when the job ends and rc is the job's exit code.
        """
        argv = ["sbatch", "--parsable", *(["--wait"] if wait else []), *extra_args, str(script)]
        result = self.command(*argv, cwd=cwd or script.parent)
        # --parsable prints "id" or "id;cluster"; nothing when the submission was refused.
        job_id = result.stdout.strip().split(";")[0]
        return result.returncode, job_id if job_id.isdigit() else result.stderr

    def test_only(self, script: Path, *extra_args: str) -> subprocess.CompletedProcess:
        """`sbatch --test-only`: would the scheduler accept the script? Nothing is queued."""
        return self.command("sbatch", "--test-only", *extra_args, str(script), cwd=script.parent)

    def show_job(self, job_id: str) -> dict[str, str]:
        """`scontrol show job -o ID` as a dict, e.g. {"JobState": "COMPLETED", ...}."""
        result = self.command("scontrol", "show", "job", "-o", job_id)
        if result.returncode != 0:
            raise ClusterError(f"scontrol show job {job_id}: {result.stderr}")
        return parse_record(result.stdout)

    def wait_for_job(self, job_id: str, timeout: float = 300) -> dict[str, str]:
        """Poll until the job has ended, and return its record."""
        deadline = time.monotonic() + timeout
        while (record := self.show_job(job_id))["JobState"] not in FINISHED_STATES:
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} did not end within {timeout} s: {record}")
            time.sleep(0.5)
        return record

    def submit(self, script: Path, *extra_args: str) -> str:
        """Submit `script` from its own directory, as a user would; return the job id."""
        rc, job_id = self.sbatch(script, *extra_args)
        if rc != 0:
            raise ClusterError(f"sbatch {script} refused (rc {rc}): {job_id}")
        return job_id

    def run_jobs(self, *scripts: Path, timeout: float = 300) -> list[dict[str, str]]:
        """Submit every script (from its own directory), then wait for all of them to end.

        Returns their job records, in order; a record's "StdOut" is the path of the job's
        output file. Polls rather than using `sbatch --wait`, which sleeps 2, 8, then 32 s
        between looks when MinJobAge is high (and it must be, to keep finished jobs visible).
        """
        job_ids = [self.submit(script) for script in scripts]
        return [self.wait_for_job(job_id, timeout) for job_id in job_ids]

    def run_job(self, script: Path, *extra_args: str, timeout: float = 300) -> dict[str, str]:
        """Submit one script from its own directory and return its record once it has ended."""
        return self.wait_for_job(self.submit(script, *extra_args), timeout)

    def sacct_state(self, job_id: str) -> str:
        """The job's state as accounting recorded it (slurmdbd, not slurmctld)."""
        result = self.command("sacct", "--noheader", "--parsable2", "--allocations", f"--jobs={job_id}", "--format=State")
        if result.returncode != 0:
            raise ClusterError(f"sacct -j {job_id}: {result.stderr}")
        return result.stdout.strip().split(" ")[0]

    def set_qos_limit(self, limit: int | None) -> None:
        """MaxSubmitJobsPerUser of the QOS every job runs under (None: no limit)."""
        value = -1 if limit is None else limit
        result = self.command("sacctmgr", "--immediate", "modify", "qos", "normal", "set", f"MaxSubmitJobsPerUser={value}")
        if result.returncode != 0:
            raise ClusterError(f"sacctmgr modify qos: {result.stdout}{result.stderr}")


def parse_record(line: str) -> dict[str, str]:
    """Parse one `scontrol ... -o` line of space-separated Key=Value fields.

    A word without "=" belongs to the previous value (e.g. Reason=... or a path with a space).
    """
    record: dict[str, str] = {}
    key = None
    for word in line.strip().split(" "):
        if "=" in word:
            key, value = word.split("=", 1)
            record[key] = value
        elif key is not None:
            record[key] += " " + word
    return record


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    """Start a private cluster in a fresh directory; stop it and remove the directory after."""
    # Not a pytest tmp_path: those sit under a 0700 root directory that munged cannot enter.
    directory = Path(tempfile.mkdtemp(prefix="slurm-e2e-"))
    directory.chmod(0o755)
    try:
        with contextlib.ExitStack() as stack:
            daemons = Daemons(directory)
            stack.callback(daemons.stop)
            cluster = start_cluster(directory, daemons)
            # Runs before daemons.stop: a job step left running would outlive slurmd.
            stack.callback(cancel_jobs, cluster)
            yield cluster
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class Daemons:
    """The daemons this cluster started, in start order, each with its log file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, argv: list[str], **popen_args) -> None:
        log = self.directory / f"{name}.out"
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **popen_args
            )
        self.processes.append((name, process, log))

    def check_alive(self) -> None:
        for name, process, _ in self.processes:
            if process.poll() is not None:
                raise ClusterError(f"{name} exited with {process.returncode}\n{self.logs()}")

    def logs(self) -> str:
        extra = [("munged log", self.directory / "munge" / "munged.log"),
                 ("slurmdbd log", self.directory / "slurmdbd.log")]
        files = [(name, log) for name, _, log in self.processes] + extra
        return "\n".join(
            f"----- {name} ({path}) -----\n{path.read_text(errors='replace')}"
            for name, path in files
            if path.exists()
        )

    def stop(self) -> None:
        """Stop by process id, last started first; SIGKILL what ignores SIGTERM for 10 s."""
        for _, process, _ in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def start_cluster(directory: Path, daemons: Daemons) -> Cluster:
    munge_socket = start_munge(directory, daemons)
    db_port = start_database(directory, daemons)
    conf = write_config(directory, munge_socket, db_port)
    env = client_env(conf)
    start_accounting(directory, daemons, env)
    daemons.start("slurmctld", ["slurmctld", "-D", "-f", str(conf)], env=env)
    daemons.start("slurmd", ["slurmd", "-D", "-N", NODE, "-f", str(conf)], env=env)
    cluster = Cluster(directory=directory, env=env)
    wait_until(lambda: node_is_idle(cluster, daemons), daemons, f"node {NODE} to become idle")
    return cluster


def cancel_jobs(cluster: Cluster, timeout: float = 15) -> None:
    """Cancel every job still queued or running, and give the steps time to end."""
    cluster.command("scancel", f"--partition={PARTITION}")
    deadline = time.monotonic() + timeout
    while cluster.command("squeue", "--noheader").stdout.strip() and time.monotonic() < deadline:
        time.sleep(0.5)


def start_munge(directory: Path, daemons: Daemons) -> Path:
    """Start munged as the munge user with its own key and socket; return the socket path.

    munged refuses files with loose modes: the key must be 0400 and the directories 0755,
    all owned by munge.
    """
    munge_dir = directory / "munge"
    munge_dir.mkdir(mode=0o755)
    key = munge_dir / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    for path in (munge_dir, key):
        shutil.chown(path, "munge", "munge")
    socket_path = munge_dir / "munge.socket"
    daemons.start(
        "munged",
        [
            "munged", "--foreground", f"--key-file={key}", f"--socket={socket_path}",
            f"--pid-file={munge_dir}/munged.pid", f"--log-file={munge_dir}/munged.log",
            f"--seed-file={munge_dir}/munged.seed",
        ],
        user="munge",
        group="munge",
    )  # fmt: skip
    wait_until(socket_path.exists, daemons, "munged's socket")
    return socket_path


def start_database(directory: Path, daemons: Daemons) -> int:
    """Start a private MariaDB for slurmdbd (about 1 s); return its TCP port on loopback."""
    data = directory / "mariadb"
    socket_path = directory / "mariadb.sock"
    installed = subprocess.run(
        ["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
         "--auth-root-authentication-method=normal", "--skip-test-db"],
        capture_output=True, text=True,
    )  # fmt: skip
    if installed.returncode != 0:
        raise ClusterError(f"mariadb-install-db failed:\n{installed.stdout}{installed.stderr}")
    port = free_port()
    daemons.start(
        "mariadbd",
        ["mariadbd", "--no-defaults", f"--datadir={data}", "--user=root", f"--socket={socket_path}",
         f"--port={port}", "--bind-address=127.0.0.1", f"--pid-file={directory}/mariadb.pid",
         "--skip-log-bin", "--innodb-buffer-pool-size=16M"],
    )  # fmt: skip
    wait_until(socket_path.exists, daemons, "MariaDB's socket")
    statement = (f"CREATE USER '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}';"
                 f" GRANT ALL ON *.* TO '{DB_USER}'@'127.0.0.1';")
    created = subprocess.run(
        ["mariadb", "--no-defaults", f"--socket={socket_path}", "--user=root", "-e", statement],
        capture_output=True, text=True,
    )
    if created.returncode != 0:
        raise ClusterError(f"creating slurmdbd's database user failed: {created.stderr}\n{daemons.logs()}")
    return port


def start_accounting(directory: Path, daemons: Daemons, env: dict[str, str]) -> None:
    """Start slurmdbd (it reads slurmdbd.conf beside $SLURM_CONF) and register the cluster,
    its accounts and this user, as an administrator does before slurmctld starts."""
    daemons.start("slurmdbd", ["slurmdbd", "-D"], env=env)

    def sacctmgr(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(["sacctmgr", "--immediate", *argv], env=env, capture_output=True, text=True)

    wait_until(lambda: sacctmgr("show", "cluster").returncode == 0, daemons, "slurmdbd to answer")
    user = pwd.getpwuid(os.geteuid()).pw_name
    for argv in (
        ("add", "cluster", CLUSTER),
        ("add", "account", ",".join(ACCOUNTS), f"cluster={CLUSTER}"),
        ("add", "user", user, f"account={','.join(ACCOUNTS)}", f"defaultaccount={ACCOUNTS[0]}", f"cluster={CLUSTER}"),
    ):
        result = sacctmgr(*argv)
        if result.returncode != 0:
            raise ClusterError(f"sacctmgr {' '.join(argv)}: {result.stdout}{result.stderr}\n{daemons.logs()}")


def write_config(directory: Path, munge_socket: Path, db_port: int) -> Path:
    """Write slurm.conf, slurmdbd.conf and gres.conf (found beside it), plus the fake GPUs."""
    for sub in ("state", "spool", "dev"):
        (directory / sub).mkdir()
    for index in range(GPUS):
        # Character device 1,3 is /dev/null: slurmd only checks that the files exist.
        device = directory / "dev" / f"nvidia{index}"
        subprocess.run(["mknod", "-m", "0666", str(device), "c", "1", "3"], check=True)
    conf = directory / "slurm.conf"
    host = socket.gethostname().split(".")[0]
    dbd_port = free_port()
    conf.write_text(
        SLURM_CONF.format(
            host=host,
            dbd_port=dbd_port,
            ctld_port=free_port(),
            slurmd_port=free_port(),
            munge_socket=munge_socket,
            directory=directory,
            cluster=CLUSTER,
            node=NODE,
            partition=PARTITION,
            gpus=GPUS,
        )
    )
    (directory / "gres.conf").write_text(GRES_CONF.format(directory=directory, last=GPUS - 1))
    dbd_conf = directory / "slurmdbd.conf"
    dbd_conf.write_text(
        SLURMDBD_CONF.format(
            munge_socket=munge_socket, host=host, dbd_port=dbd_port, directory=directory,
            db_port=db_port, db_user=DB_USER, db_password=DB_PASSWORD,
        )  # fmt: skip
    )
    dbd_conf.chmod(0o600)  # slurmdbd refuses a config others can read: it holds a password
    return conf


def free_port() -> int:
    """A port no one listens on now, so a stale or system cluster cannot collide with ours."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def client_env(conf: Path) -> dict[str, str]:
    """This process's environment pointed at the private cluster.

    SLURM_* / SBATCH_* variables are dropped: inherited from an outer job, they would change
    what sbatch submits.
    """
    prefixes = ("SLURM_", "SBATCH_", "SALLOC_", "SRUN_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env["SLURM_CONF"] = str(conf)
    return env


def node_is_idle(cluster: Cluster, daemons: Daemons) -> bool:
    """Whether the node is up; fails at once if slurmctld refused the node's configuration."""
    result = cluster.command("sinfo", "--noheader", "--Node", f"--nodes={NODE}", "--format=%T")
    state = result.stdout.strip()
    if state.startswith(("inval", "drain")):
        raise ClusterError(f"node {NODE} is {state}: see slurmctld's reason\n{daemons.logs()}")
    return state == "idle"


def wait_until(condition, daemons: Daemons, what: str, timeout: float = 30) -> None:
    """Poll `condition` until true; fail early, with the logs, if a daemon dies."""
    deadline = time.monotonic() + timeout
    while not condition():
        daemons.check_alive()
        if time.monotonic() > deadline:
            raise ClusterError(f"timed out after {timeout} s waiting for {what}\n{daemons.logs()}")
        time.sleep(0.2)
