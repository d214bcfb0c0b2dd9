"""Real inspect logs with known scores, for the results tests, the benchmark and the README.

`make_logs(specs)` runs inspect's own `eval()` once per spec, in one child process (inspect's
start-up is paid once, about 3 s; each eval then takes a fraction of a second), with
`--model none` and a stand-in task whose solver answers a set number of samples exactly
and a set number with the target inside a sentence. Its two scorers therefore report known
values: `includes` accuracy (exact + partial) / samples, `exact` accuracy exact / samples.
The `broken` task's solver raises, which gives a log with `status: error`.

Each log is named as a rendered script names it (INSPECT_EVAL_LOG_FILE_PATTERN from the
plan's cell name) and carries the metadata the plan records for the cell.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TASKS = '''
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import exact, includes
from inspect_ai.solver import solver


@solver
def answer(right: int, partial: int):
    """Answers samples 1..right exactly, the next `partial` with the target inside a sentence,
    the rest wrongly."""
    async def solve(state, generate):
        if state.sample_id <= right:
            state.output.completion = state.target.text
        elif state.sample_id <= right + partial:
            state.output.completion = f"The answer is {state.target.text}."
        else:
            state.output.completion = "no idea"
        return state
    return solve


@solver
def crash():
    async def solve(state, generate):
        raise RuntimeError("the solver broke on purpose")
    return solve


def words(samples):
    return [Sample(id=i, input=f"word{i}", target=f"Word{i}") for i in range(1, samples + 1)]


@task
def stand_in(right: int = 0, partial: int = 0, samples: int = 8):
    return Task(dataset=words(samples), solver=answer(right, partial), scorer=[includes(), exact()])


@task
def broken():
    return Task(dataset=words(1), solver=crash(), scorer=includes())
'''


@dataclass
class LogSpec:
    """One eval: where its log goes, which cell it is named after, what it scores."""

    log_dir: str  # absolute
    cell: str  # the cell name the log file is named after
    metadata: dict  # written into the header, as the scripts' --metadata does
    right: int = 0
    partial: int = 0
    samples: int = 8
    broken: bool = False
    pause_before: float = 0.0  # seconds; inspect's `created` has a resolution of one second

    @property
    def includes_accuracy(self) -> float:
        return (self.right + self.partial) / self.samples

    @property
    def exact_accuracy(self) -> float:
        return self.right / self.samples


@dataclass
class _Batch:
    task_file: str
    specs: list[dict] = field(default_factory=list)


def make_logs(specs: list[LogSpec], work_dir: Path) -> list[Path]:
    """Run every spec's eval, in order; the log file each one wrote."""
    work_dir.mkdir(parents=True, exist_ok=True)
    task_file = work_dir / "stand_in_tasks.py"
    task_file.write_text(TASKS, encoding="utf-8")
    batch = work_dir / "batch.json"
    batch.write_text(json.dumps(asdict(_Batch(str(task_file), [asdict(spec) for spec in specs]))), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "tests.inspect_logs", str(batch)],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "INSPECT_DISPLAY": "none"},
    )
    if done.returncode:
        raise RuntimeError(f"making the inspect logs failed:\n{done.stdout}\n{done.stderr}")
    return [Path(line) for line in done.stdout.splitlines()]


def _run_batch(batch_file: str) -> None:
    from inspect_ai import eval as inspect_eval

    batch = json.loads(Path(batch_file).read_text(encoding="utf-8"))
    for spec in batch["specs"]:
        time.sleep(spec["pause_before"])
        # The rendered scripts export this; inspect reads it for each log it names.
        os.environ["INSPECT_EVAL_LOG_FILE_PATTERN"] = f"{spec['cell']}_{{id}}"
        task = f"{batch['task_file']}@{'broken' if spec['broken'] else 'stand_in'}"
        arguments = {} if spec["broken"] else {k: spec[k] for k in ("right", "partial", "samples")}
        [log] = inspect_eval(
            task, task_args=arguments, model="none", log_dir=spec["log_dir"], metadata=spec["metadata"],
            display="none", log_level="error",
        )
        print(log.location, flush=True)


if __name__ == "__main__":
    _run_batch(sys.argv[1])
