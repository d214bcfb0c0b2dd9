"""`make bench`: what this template costs on top of Copier itself, at sweep scale.

For each experiment size: the median wall time of full `copier copy --trust --defaults`
processes of this template, and of a static baseline template that copies the same files
(same paths, same sizes) with no questions, no extensions and no Jinja; the loader's own
time in-process; the peak memory of the copies. At the largest size also `copier update`
with one changed answer, and the rendered collect_results.py reading a log for each of the
1,040 cells (bench/results.py, also runnable alone), and one submit_evals.sh pass over them
while every run is still training (bench/submit.py, also runnable alone). Both templates are copied from tagged
git snapshots in a temporary directory, so they pay Copier's clone the same way; this
template's snapshot is the working tree as it is now, uncommitted changes included.

Wall time is what the targets are about, but on a 2-core machine anything else running
inflates it; the CPU time (user + system, git subprocesses included) moves much less, so the
table shows both ratios.

Progress goes to stderr, results to stdout; the last line is the copy/static ratio at the
largest size. The exit status is 0 even when a target is missed: this is a benchmark.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import results as collect_results
import submit as submit_evals
from synth import script_count, write_experiment

REPO = Path(__file__).resolve().parent.parent
COPIER = [sys.executable, "-m", "copier"]
ANSWERS_FILE = ".copier-answers.yml"
GIT_IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "commit.gpgsign=false"]
TAG = "v0.0.0"
# An env_setup answer that changes a line of every script, keeping the {conda_env} placeholder.
UPDATED_ENV_SETUP = "module load anaconda3/2025.6\nconda activate {conda_env}\nexport BENCH_UPDATE=1"

TARGET_RATIO = 1.25
TARGET_LOADER_MS = 50.0
TARGET_PEAK_MB = 200.0


@dataclass(frozen=True)
class Shape:
    runs: int
    tasks: int
    epochs: int
    controls: int

    @property
    def scripts(self) -> int:
        return script_count(self.runs, self.tasks, self.epochs, self.controls)

    def describe(self) -> str:
        return (f"{self.scripts} scripts ({self.runs} runs x {self.tasks} tasks x {self.epochs} epochs"
                f" + {self.controls} controls x {self.tasks} tasks)")


# About 10, 100 and 1,040 scripts; the last is the sweep.
SHAPES = (Shape(2, 2, 2, 1), Shape(12, 2, 4, 2), Shape(64, 4, 4, 4))


@dataclass(frozen=True)
class Sample:
    """One full process: wall seconds, CPU seconds (user + system), peak resident MB."""

    wall: float
    cpu: float
    peak_mb: float

    def __str__(self) -> str:
        return f"{self.wall:.2f} s wall, {self.cpu:.2f} s CPU, {self.peak_mb:.0f} MB"


@dataclass(frozen=True)
class Stats:
    """Medians of wall and CPU time over repeated processes, and the highest peak memory."""

    wall: float
    cpu: float
    peak_mb: float

    @classmethod
    def of(cls, samples: list[Sample]) -> Stats:
        return cls(
            statistics.median(s.wall for s in samples),
            statistics.median(s.cpu for s in samples),
            max(s.peak_mb for s in samples),
        )


@dataclass
class Result:
    shape: Shape
    copy: Stats
    static: Stats
    loader_ms: float
    update: Stats | None = None

    @property
    def ratio(self) -> float:
        return self.copy.wall / self.static.wall

    @property
    def cpu_ratio(self) -> float:
        return self.copy.cpu / self.static.cpu


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- processes -------------------------------------------------------------------------------


def run(command: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"bench: {' '.join(map(str, command))} exited {done.returncode}:\n{done.stderr}")
    return done.stdout


def timed(command: list[str], report: Path) -> Sample:
    """Run one full process under `/usr/bin/time -v` and measure it.

    `-o FILE` keeps time's report out of the command's own stderr; its overhead (one fork
    and exec) is the same for every measurement.
    """
    start = time.perf_counter()
    run(["/usr/bin/time", "-v", "-o", str(report), *command])
    wall = time.perf_counter() - start
    fields = dict(line.strip().rsplit(": ", 1) for line in report.read_text().splitlines() if ": " in line)
    cpu = float(fields["User time (seconds)"]) + float(fields["System time (seconds)"])
    return Sample(wall, cpu, int(fields["Maximum resident set size (kbytes)"]) / 1024)


def git_snapshot(directory: Path) -> None:
    """Make `directory` a git repo with everything committed and tagged, as Copier needs."""
    run(["git", "init", "-q"], cwd=directory)
    run(["git", "add", "-A"], cwd=directory)
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", "bench snapshot"], cwd=directory)
    run(["git", "tag", TAG], cwd=directory)


# -- templates -------------------------------------------------------------------------------


def run_alone(measure, prefix: str) -> None:
    """Run one part of the benchmark by itself (make bench-results, make bench-submit) on the
    same snapshot of the working tree as the whole benchmark, and print its report."""
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        scratch = Path(scratch)
        print(measure(snapshot_template(scratch / "template"), scratch))


def snapshot_template(destination: Path) -> Path:
    """This repo's working tree (tracked and untracked, minus ignored files) as a tagged repo.

    Copying from the repo itself would measure its last commit, or with uncommitted changes
    Copier's extra "draft" commit; and `copier update` needs a tag.
    """
    listing = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO)
    for name in filter(None, listing.split("\0")):
        source = REPO / name
        if source.is_file():  # tracked files deleted in the working tree are listed too
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git_snapshot(destination)
    return destination


def static_template(destination: Path, rendered: Path, inputs: set[Path]) -> Path:
    """A template of plain files: exactly the files one real copy rendered, answers file aside.

    Same paths (so the same directories), same sizes, but no questions, no extensions and no
    `.jinja` suffix: Copier copies them as they are. The answers file is left out because
    writing it (with the whole plan in it) is part of what this template adds.
    """
    (destination / "template").mkdir(parents=True)
    (destination / "copier.yml").write_text("_subdirectory: template\n")
    for path in files_under(rendered) - inputs - {Path(ANSWERS_FILE)}:
        target = destination / "template" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(rendered / path, target)
    git_snapshot(destination)
    return destination


def files_under(directory: Path) -> set[Path]:
    return {path.relative_to(directory) for path in directory.rglob("*") if path.is_file()}


# -- measurements ----------------------------------------------------------------------------


class Workspace:
    """Fresh destinations, each a copy of the synthetic experiment's input files."""

    def __init__(self, root: Path, experiment: Path):
        self.root = root
        self.experiment = experiment

    def fresh(self) -> Path:
        destination = Path(tempfile.mkdtemp(prefix="dst-", dir=self.root))
        shutil.copytree(self.experiment, destination, dirs_exist_ok=True)
        return destination

    def report(self) -> Path:
        return self.root / "time.txt"


def copy_command(template: Path, destination: Path) -> list[str]:
    return [*COPIER, "copy", "--trust", "--defaults", str(template), str(destination)]


def copy_once(template: Path, workspace: Workspace) -> Sample:
    destination = workspace.fresh()
    sample = timed(copy_command(template, destination), workspace.report())
    shutil.rmtree(destination)
    return sample


def measure_copies(template: Path, static: Path, workspace: Workspace, repeats: int) -> tuple[Stats, Stats]:
    """Stats of the template's copies and of the static template's.

    The two alternate, so that a change in the machine's load weighs on both sides of the
    ratio alike.
    """
    samples = {template: [], static: []}
    for attempt in range(repeats):
        for side, label in ((template, "template"), (static, "static")):
            sample = copy_once(side, workspace)
            samples[side].append(sample)
            progress(f"  {label} copy {attempt + 1}/{repeats}: {sample}")
    return Stats.of(samples[template]), Stats.of(samples[static])


def check_rendered(destination: Path, shape: Shape) -> None:
    scripts = len(list(destination.glob("*/eval/*.slurm")))
    if scripts != shape.scripts:
        sys.exit(f"bench: the template rendered {scripts} scripts for {shape}, not {shape.scripts}")


def loader_ms(experiment: Path, repeats: int) -> float:
    """Median milliseconds of the loader alone (build_plan + to_answer), in a fresh process.

    This is what Copier's `load_plan` global computes, without its cache keyed by the input
    files' mtimes (which would turn every repeat into a lookup). See bench/loader.py for why
    the process is a fresh one.
    """
    script = Path(__file__).resolve().parent / "loader.py"
    return float(run([sys.executable, str(script), str(experiment), str(repeats)]))


def bench_shape(shape: Shape, template: Path, root: Path, repeats: int) -> Result:
    progress(shape.describe())
    experiment = root / "experiment"
    write_experiment(experiment, shape.runs, shape.tasks, shape.epochs, shape.controls)
    workspace = Workspace(root, experiment)

    # One untimed copy each: it checks the output, warms the caches, and gives the static
    # template its files.
    rendered = workspace.fresh()
    run(copy_command(template, rendered))
    check_rendered(rendered, shape)
    static = static_template(root / "static", rendered, files_under(experiment))
    run(copy_command(static, workspace.fresh()))

    copy, static_stats = measure_copies(template, static, workspace, repeats)
    loader = loader_ms(experiment, repeats=max(repeats, 7))
    progress(f"  loader: {loader:.1f} ms")
    return Result(shape, copy, static_stats, loader)


def bench_update(result: Result, template: Path, root: Path, repeats: int) -> None:
    """`copier update` of a committed, copied tree with env_setup changed (every script changes)."""
    workspace = Workspace(root, root / "experiment")
    samples = []
    for attempt in range(repeats):
        project = workspace.fresh()
        run(copy_command(template, project))
        git_snapshot(project)
        command = [*COPIER, "update", "--trust", "--defaults", "-d", f"env_setup={UPDATED_ENV_SETUP}", str(project)]
        sample = timed(command, workspace.report())
        changed = sum("BENCH_UPDATE" in p.read_text() for p in project.glob("*/eval/*.slurm"))
        if changed != result.shape.scripts:
            sys.exit(f"bench: the update changed {changed} of {result.shape.scripts} scripts")
        shutil.rmtree(project)
        samples.append(sample)
        progress(f"  update {attempt + 1}/{repeats}: {sample}")
    result.update = Stats.of(samples)


# -- report ----------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    copier_version = run([*COPIER, "--version"]).split()[-1]
    return (f"machine: {len(os.sched_getaffinity(0))} cores, {cpu}; Python {platform.python_version()};"
            f" copier {copier_version}; {load()}")


def load() -> str:
    """The 1-minute load average: other work on this machine inflates the wall times."""
    return f"load average {os.getloadavg()[0]:.2f}"


def table(results: list[Result], repeats: int, update_repeats: int) -> str:
    header = ("scripts", "copy s", "static s", "ratio", "CPU ratio", "loader ms",
              "peak MB", "static MB", "update s", "update MB")
    rows = [header]
    for r in results:
        rows.append((
            str(r.shape.scripts), f"{r.copy.wall:.2f}", f"{r.static.wall:.2f}", f"{r.ratio:.2f}",
            f"{r.cpu_ratio:.2f}", f"{r.loader_ms:.1f}", f"{r.copy.peak_mb:.0f}", f"{r.static.peak_mb:.0f}",
            f"{r.update.wall:.2f}" if r.update else "-",
            f"{r.update.peak_mb:.0f}" if r.update else "-",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows]
    notes = [
        f"copy, static: median wall of {repeats} full processes each, alternating; "
        "static: the same files as plain files, no questions, no extensions",
        "CPU ratio: the same with user + system time; loader: median in-process; "
        f"peak: highest max RSS; update: median of {update_repeats}, env_setup changed",
    ]
    return "\n".join([*lines, *notes])


def targets(result: Result) -> list[str]:
    checks = (
        (f"copy <= {TARGET_RATIO} x static", result.ratio <= TARGET_RATIO, f"{result.ratio:.2f} x"),
        (f"loader <= {TARGET_LOADER_MS:.0f} ms", result.loader_ms <= TARGET_LOADER_MS, f"{result.loader_ms:.1f} ms"),
        (f"peak memory <= {TARGET_PEAK_MB:.0f} MB", result.copy.peak_mb <= TARGET_PEAK_MB,
         f"{result.copy.peak_mb:.0f} MB"),
    )
    return [f"target {name} at {result.shape.scripts} scripts: {'met' if ok else 'MISSED'} ({value})"
            for name, ok, value in checks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="copies per template and size (default 5)")
    parser.add_argument("--update-repeats", type=int, default=3, help="updates at the largest size (default 3)")
    args = parser.parse_args()

    started = time.perf_counter()
    print(machine())
    results = []
    with tempfile.TemporaryDirectory(prefix="copier-bench-") as scratch:
        scratch = Path(scratch)
        template = snapshot_template(scratch / "template")
        for index, shape in enumerate(SHAPES):
            root = scratch / f"size{index}"
            root.mkdir()
            results.append(bench_shape(shape, template, root, args.repeats))
        progress(f"update of the {results[-1].shape.scripts}-script tree")
        bench_update(results[-1], template, scratch / f"size{len(SHAPES) - 1}", args.update_repeats)
        (scratch / "results").mkdir()
        collected = collect_results.measure(template, scratch / "results")
        (scratch / "submit").mkdir()
        submission = submit_evals.measure(template, scratch / "submit")

    print(table(results, args.repeats, args.update_repeats))
    print("\n".join(targets(results[-1])))
    print(collected)
    print(submission)
    print(f"bench took {time.perf_counter() - started:.0f} s; {load()} at the end")
    print(f"copy/static ratio at {results[-1].shape.scripts} scripts: {results[-1].ratio:.2f}")


if __name__ == "__main__":
    main()
