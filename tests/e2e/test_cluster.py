"""The harness itself: the private cluster schedules like a real one, runs jobs, and can run
a real `inspect eval` of the example task on the tiny model, with exact task arguments."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TASK_FILE = ROOT / "examples" / "cap_1B_lora" / "cap_task.py"
# The python running these tests has inspect and the e2e extras; jobs run as root under
# slurmd and get no activated venv, so scripts name its bin directory explicitly.
VENV_BIN = Path(sys.prefix) / "bin"

# The seed's header, as the 70B golden script has it.
SEED_HEADER = """\
#!/bin/bash
#SBATCH --job-name=seed-header
#SBATCH --output=slurm-%j.out
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=8
#SBATCH --mem=256G
#SBATCH --time=1:40:00
#SBATCH --gres=gpu:4
#SBATCH --account=foo
#SBATCH --constraint=gpu80
"""

# Each value holds what `-T key=value` would corrupt: a comma, a colon, braces, quotes, `$`
# and a newline. The prompt's only placeholder is {input}: the task runs str.format on it.
PROMPT = 'Capitalize: {input}, then say "done" for $5 {{ok}}\nnext line'
SYSTEM_PROMPT = "You are {terse}: answer with 'one' word, \"quoted\"\n$PATH ${HOME}"
RECORDS = [{"input": "hello", "output": "HELLO"}, {"input": "world", "output": "WORLD"}]


def write_script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def job_output(record: dict[str, str]) -> str:
    path = Path(record["StdOut"])
    return path.read_text(errors="replace") if path.exists() else f"(no output file {path})"


def test_seed_header_is_schedulable(cluster, tmp_path):
    script = write_script(tmp_path / "seed.slurm", SEED_HEADER + "true\n")
    result = cluster.test_only(script)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("option", "error"),
    [
        ("--gres=gpu:5", "Requested node configuration is not available"),
        ("--mem=2000G", "Requested node configuration is not available"),
        ("--constraint=gpu40", "Invalid feature specification"),
    ],
)
def test_requests_beyond_the_node_are_refused(cluster, tmp_path, option, error):
    """The check can fail: a command-line option overrides the header's request."""
    script = write_script(tmp_path / "seed.slurm", SEED_HEADER + "true\n")
    result = cluster.test_only(script, option)
    assert result.returncode != 0
    assert error in result.stderr


def test_trivial_job_completes(cluster, tmp_path):
    script = write_script(tmp_path / "hello.slurm", SEED_HEADER + "echo hello from $SLURM_JOB_ID\n")
    rc, job_id = cluster.sbatch(script, wait=True)
    assert rc == 0, job_id
    record = cluster.show_job(job_id)
    assert (record["JobState"], record["ExitCode"]) == ("COMPLETED", "0:0")
    assert job_output(record) == f"hello from {job_id}\n"
    assert (record["NodeList"], record["WorkDir"]) == (cluster.node, str(tmp_path))


def test_failing_job_is_seen_as_failed(cluster, tmp_path):
    script = write_script(tmp_path / "fail.slurm", "#!/bin/bash\nexit 3\n")
    record = cluster.run_job(script)
    assert (record["JobState"], record["ExitCode"]) == ("FAILED", "3:0")


def test_inspect_eval_job_gets_exact_task_args(cluster, tiny_model, tmp_path):
    from inspect_ai.log import read_eval_log

    data = tmp_path / "data.json"
    data.write_text(json.dumps({"test": RECORDS}))
    task_args = {"data_path": str(data), "prompt": PROMPT, "system_prompt": SYSTEM_PROMPT}
    config = tmp_path / "task_args.json"
    config.write_text(json.dumps(task_args))
    eval_dir = tmp_path / "eval"
    script = write_script(eval_dir / "inspect.slurm", inspect_script(tiny_model, config))

    record = cluster.run_job(script)

    assert (record["JobState"], record["ExitCode"]) == ("COMPLETED", "0:0"), job_output(record)
    logs = sorted((eval_dir / "logs").glob("*.eval"))
    assert len(logs) == 1, job_output(record)
    # inspect can exit 0 with a failed eval: the log's status is what counts.
    log = read_eval_log(str(logs[0]))
    assert log.status == "success", log.error
    assert log.eval.task_args_passed == task_args
    assert log.eval.task_args == {**task_args, "split": "test"}
    # And the model was sent the text byte for byte.
    sent = [[message.content for message in sample.messages[:2]] for sample in log.samples]
    expected = [[SYSTEM_PROMPT, PROMPT.format(input=r["input"])] for r in RECORDS]
    assert sorted(sent) == sorted(expected)


def inspect_script(model_dir: Path, task_config: Path) -> str:
    """A job that evaluates the example task on the tiny model, as the generated scripts do."""
    quote = lambda path: shlex.quote(str(path))  # noqa: E731
    return SEED_HEADER + f"""
set -euo pipefail
export PATH={quote(VENV_BIN)}:$PATH
export HF_HUB_OFFLINE=1
# A random tiny model never stops by itself: keep generations short and greedy.
inspect eval {quote(TASK_FILE)}@capitalization \\
  --model hf/local \\
  -M model_path={quote(model_dir)} \\
  -M device=auto \\
  -M do_sample=false \\
  --task-config {quote(task_config)} \\
  --max-tokens 8 \\
  --log-dir ./logs \\
  --display plain
"""
