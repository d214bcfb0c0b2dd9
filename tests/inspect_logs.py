"""Real inspect logs with known scores, for the results tests, the benchmark and the README.

`make_logs(specs)` runs inspect's own `eval()` once per spec, in one child process (inspect's
start-up is paid once, about 3 s; each eval then takes a fraction of a second), with
`--model none` and a stand-in task whose solver answers a set number of samples exactly
and a set number with the target inside a sentence. Its two scorers therefore report known
values: `includes` accuracy (exact + partial) / samples, `exact` accuracy exact / samples.
A spec can also name which sample ids are answered exactly or partly, and which ids the
dataset holds, so that two cells disagree sample by sample, or score different samples.
The `graded` task's scorer gives each sample a chosen value between 0 and 1 (its metrics:
inspect's mean and stderr), a score that is not 0/1. The `broken` task's solver raises,
which gives a log with `status: error`.

Each log is named as a rendered script names it (INSPECT_EVAL_LOG_FILE_PATTERN from the
plan's cell name) and carries the metadata the plan records for the cell.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TASKS = '''
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import Score, exact, includes, mean, scorer, stderr
from inspect_ai.solver import solver


@solver
def answer(exact_ids: list[int], partial_ids: list[int]):
    """Answers the samples of `exact_ids` exactly, those of `partial_ids` with the target
    inside a sentence, the rest wrongly."""
    async def solve(state, generate):
        if state.sample_id in exact_ids:
            state.output.completion = state.target.text
        elif state.sample_id in partial_ids:
            state.output.completion = f"The answer is {state.target.text}."
        else:
            state.output.completion = "no idea"
        return state
    return solve


@scorer(metrics=[mean(), stderr()])
def graded(grades: dict):
    """Each sample's chosen value (grades maps the id, as text, to it)."""
    async def score(state, target):
        return Score(value=grades[str(state.sample_id)], answer=state.output.completion)
    return score


@solver
def crash():
    async def solve(state, generate):
        raise RuntimeError("the solver broke on purpose")
    return solve


def words(ids):
    return [Sample(id=i, input=f"word{i}", target=f"Word{i}") for i in ids]


@task
def stand_in(exact_ids: list[int], partial_ids: list[int], ids: list[int]):
    return Task(dataset=words(ids), solver=answer(exact_ids, partial_ids), scorer=[includes(), exact()])


@task
def graded_task(grades: dict):
    ids = [int(key) for key in grades]
    return Task(dataset=words(ids), solver=answer([], []), scorer=graded(grades))


@task
def broken():
    return Task(dataset=words([1]), solver=crash(), scorer=includes())
'''


@dataclass
class LogSpec:
    """One eval: where its log goes, which cell it is named after, what it scores."""

    log_dir: str  # absolute
    cell: str  # the cell name the log file is named after
    metadata: dict  # written into the header, as the scripts' --metadata does
    right: int = 0  # samples 1..right answered exactly (unless exact_ids says which)
    partial: int = 0  # the next `partial` with the target inside a sentence (unless partial_ids)
    samples: int = 8  # the dataset is ids 1..samples (unless ids says which)
    exact_ids: list[int] | None = None
    partial_ids: list[int] | None = None
    ids: list[int] | None = None
    grades: dict[str, float] | None = None  # the graded task instead: id (as text) -> value
    broken: bool = False
    pause_before: float = 0.0  # seconds; inspect's `created` has a resolution of one second

    def sample_ids(self) -> list[int]:
        if self.grades is not None:
            return [int(key) for key in self.grades]
        return self.ids if self.ids is not None else list(range(1, self.samples + 1))

    def exactly(self) -> list[int]:
        return self.exact_ids if self.exact_ids is not None else list(range(1, self.right + 1))

    def partly(self) -> list[int]:
        if self.partial_ids is not None:
            return self.partial_ids
        return list(range(self.right + 1, self.right + self.partial + 1))

    @property
    def includes_accuracy(self) -> float:
        ids = set(self.sample_ids())
        return len(ids & (set(self.exactly()) | set(self.partly()))) / len(ids)

    @property
    def exact_accuracy(self) -> float:
        ids = set(self.sample_ids())
        return len(ids & set(self.exactly())) / len(ids)


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


def copy_log_for(source: Path, target: Path, metadata: dict) -> None:
    """A copy of a real log as a cell's script would have left it: the header metadata the
    cell's (`inspect eval --metadata`), set through inspect's own header-only write, which
    replaces header.json in place (about 10 ms a log)."""
    from inspect_ai.log import read_eval_log, write_eval_log

    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    log = read_eval_log(str(target), header_only=True)
    log.eval.metadata = metadata
    write_eval_log(log, str(target), header_only=True)


def _run_batch(batch_file: str) -> None:
    from inspect_ai import eval as inspect_eval

    batch = json.loads(Path(batch_file).read_text(encoding="utf-8"))
    for spec in batch["specs"]:
        time.sleep(spec["pause_before"])
        # The rendered scripts export this; inspect reads it for each log it names.
        os.environ["INSPECT_EVAL_LOG_FILE_PATTERN"] = f"{spec['cell']}_{{id}}"
        task, arguments = _task(LogSpec(**spec))
        task = f"{batch['task_file']}@{task}"
        [log] = inspect_eval(
            task, task_args=arguments, model="none", log_dir=spec["log_dir"], metadata=spec["metadata"],
            display="none", log_level="error",
        )
        print(log.location, flush=True)


def _task(spec: LogSpec) -> tuple[str, dict]:
    """The stand-in task a spec runs, and its arguments."""
    if spec.broken:
        return "broken", {}
    if spec.grades is not None:
        return "graded_task", {"grades": spec.grades}
    return "stand_in", {"exact_ids": spec.exactly(), "partial_ids": spec.partly(), "ids": spec.sample_ids()}


if __name__ == "__main__":
    _run_batch(sys.argv[1])
