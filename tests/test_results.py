"""collect_results.py on real inspect logs whose scores are known beforehand.

The logs come from real inspect evals (tests/inspect_logs.py), made once per session, named
and tagged as the rendered scripts name and tag them; each test renders the experiment with
real Copier, puts the logs in, and runs the rendered script as a user does.

The intervals and p-values are checked against this file's own computations from the
samples, read back with inspect's data frame API (inspect_ai.analysis.samples_df), not with
the script's reader: the Wilson interval by inverting the score test numerically, the
McNemar p-value by summing exact binomial probabilities in fractions, the t-test's by
integrating Student's density.
"""

from __future__ import annotations

import ast
import csv
import http.server
import importlib.util
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import threading
import urllib.request
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path

import numpy
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from inspect_ai.log import read_eval_log

from extensions.plan import build_plan
from extensions.render import python_json
from tests.experiment import Experiment
from tests.inspect_logs import LogSpec, copy_log_for, make_logs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples/cap_1B_lora"
R8, R16, BASE = "r8_lr1e-5", "r16_lr1e-5", "Llama-3.2-1B-Instruct_base"
CAP, CAP6 = "capitalization", "capitalization_6L"


@dataclass
class Logs:
    """Logs made in `tree` (laid out as an experiment) and, per cell (run, cell name), the spec
    and file of the log collect_results.py must choose (None: the cell must fail or not run)."""

    tree: Path
    chosen: dict[tuple[str, str], tuple[LogSpec, Path] | None]
    files: dict[tuple[str, str], list[Path]]

    def put_into(self, experiment: Path) -> None:
        # copy2 keeps the mtimes, which break ties between logs created in the same second
        shutil.copytree(self.tree, experiment, dirs_exist_ok=True)


def plan_cells(experiment: Path) -> dict[tuple[str, str], dict]:
    plan = build_plan(experiment).to_answer()
    return {(run["name"], cell["name"]): cell for run in plan["runs"] for cell in run["cells"]}


@pytest.fixture(scope="session")
def logs(tmp_path_factory) -> dict[str, Logs]:
    """The example's cells, each in a different state, and a one-cell experiment that is done.

    capitalization: r8 epoch 0 and the base model succeed; r8 epoch 1 succeeded, then a
    newer rerun failed (the success counts); r16 epoch 0 succeeded twice (the newer counts);
    r16 epoch 1 failed. capitalization_6L: r8 epoch 1 succeeds; r16 epoch 1 never ran; the
    base model succeeded, and a newer log named after it says in its header that it belongs
    to another cell (ignored).

    "paired", the example again, for the statistics: in capitalization the cells get chosen
    samples right and r8 epoch 0 is scored on ids 3..14 where the base model has 1..12;
    r16 epoch 1 failed. capitalization_6L is graded (scores between 0 and 1), r16's on one
    sample more. "nobase": the base model failed in capitalization and never ran in
    capitalization_6L; r8 succeeded in both.
    """
    root = tmp_path_factory.mktemp("results-logs")
    cells = {"example": plan_cells(EXAMPLE), "small": plan_cells(Experiment(title=HOSTILE_TITLE).write(root / "small-inputs"))}
    cells["paired"] = cells["nobase"] = cells["example"]

    def spec(tree: str, run: str, cell: str, **scores) -> tuple[str, LogSpec]:
        planned = cells[tree][(run, cell)]
        log_dir = root / tree / planned["log_dir"]
        return tree, LogSpec(log_dir=str(log_dir), cell=cell, metadata=planned["metadata"], **scores)

    older = [
        spec("example", R8, "capitalization_epoch0", right=4, partial=2),
        spec("example", R8, "capitalization_epoch1", right=6),
        spec("example", R8, "capitalization_6L_epoch1", right=3, partial=1),
        spec("example", R16, "capitalization_epoch0", right=2),
        spec("example", BASE, "capitalization_base", right=1),
        spec("example", BASE, "capitalization_6L_base", partial=2),
        spec("small", "r8_lr1e-5", "capitalization_epoch0", right=5, partial=1),
    ]
    _, foreign = spec("example", BASE, "capitalization_6L_base", right=5)
    foreign.metadata = cells["example"][(R8, "capitalization_6L_epoch1")]["metadata"]
    newer = [
        spec("example", R8, "capitalization_epoch1", broken=True),
        spec("example", R16, "capitalization_epoch0", right=7),
        spec("example", R16, "capitalization_epoch1", broken=True),
        ("example", foreign),
    ]
    twelve = list(range(1, 13))
    older += [
        spec("paired", BASE, "capitalization_base", ids=twelve, exact_ids=[1, 2, 3, 4, 9]),
        spec("paired", R8, "capitalization_epoch0", ids=list(range(3, 15)), exact_ids=[3, 5, 6, 7, 8, 10, 11, 13]),
        spec("paired", R8, "capitalization_epoch1", ids=twelve, exact_ids=[1, 2, 5, 6, 7, 8, 10, 11, 12]),
        spec("paired", R16, "capitalization_epoch0", ids=twelve, exact_ids=twelve[1:]),
        spec("paired", R16, "capitalization_epoch1", broken=True),
        spec("paired", BASE, "capitalization_6L_base", grades=GRADES[BASE]),
        spec("paired", R8, "capitalization_6L_epoch1", grades=GRADES[R8]),
        spec("paired", R16, "capitalization_6L_epoch1", grades=GRADES[R16]),
        spec("nobase", BASE, "capitalization_base", broken=True),
        spec("nobase", R8, "capitalization_epoch0", right=5),
        spec("nobase", R8, "capitalization_6L_epoch1", right=3),
    ]
    # inspect records the creation time to the second: the newer logs start a second later.
    newer[0][1].pause_before = 1.1
    paths = make_logs([log for _, log in older + newer], root / "work")

    result = {tree: Logs(root / tree, {}, {}) for tree in cells}  # the example's plan in four trees
    for (tree, log), path in zip(older + newer, paths):
        run = BASE if log is foreign else log.metadata["run"]
        result[tree].files.setdefault((run, log.cell), []).append(path)
        if not log.broken and log is not foreign:
            result[tree].chosen[(run, log.cell)] = (log, path)  # newer successes replace older
    for tree in ("example", "paired", "nobase"):
        for key in cells[tree]:
            result[tree].chosen.setdefault(key, None)
    return result


# capitalization_6L in the "paired" tree: each sample's grade (id as text -> value)
GRADES = {
    BASE: {"1": 0.1, "2": 0.4, "3": 0.3, "4": 0.2, "5": 0.5, "6": 0.25},
    R8: {"1": 0.6, "2": 0.5, "3": 0.9, "4": 0.3, "5": 0.8, "6": 0.7},
    R16: {"1": 0.2, "2": 0.45, "3": 0.35, "4": 0.2, "5": 0.5, "6": 0.3, "7": 1.0},
}


def rendered_with_logs(render, logs: Logs, source) -> Path:
    experiment = render(source)
    logs.put_into(experiment)
    return experiment


def collect_results(experiment: Path, *args: str, preamble: str = "") -> subprocess.CompletedProcess:
    """Run the rendered collect_results.py as a user does, from another directory, with this
    venv first on PATH (its shebang is `/usr/bin/env python3`). `preamble`: Python run first,
    to take a library away."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "MPLBACKEND": "Agg"}
    script = experiment / "collect_results.py"
    if preamble:
        command = [sys.executable, "-c",
                   f"{preamble}\nimport runpy, sys\nsys.argv = {[str(script), *args]!r}\n"
                   f"runpy.run_path({str(script)!r}, run_name='__main__')"]
    else:
        command = [str(script), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=experiment.parent)


def load(experiment: Path):
    """The rendered script as a module, to reach its Figures."""
    spec = importlib.util.spec_from_file_location(f"collect_results_{id(experiment)}", experiment / "collect_results.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def sections(markdown: str) -> dict[str, str]:
    parts = markdown.split("\n## ")
    return {part.split("\n", 1)[0]: part for part in parts[1:]}


def header(section: str) -> list[str]:
    line = next(line for line in section.splitlines() if line.startswith("| run "))
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def tables(section: str) -> list[dict[str, list[str]]]:
    """The tables of a task section (values, then differences), each by run: the cells after
    the run name."""
    found = []
    for line in section.splitlines():
        if line.startswith("| run "):
            found.append({})
        elif line.startswith("| "):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            found[-1][cells[0]] = cells[1:]
    return found


# -- this file's own statistics --------------------------------------------------------------

Z = 1.96


def wilson_by_inversion(successes: int, n: int) -> tuple[float, float]:
    """The proportions p that the score test does not reject, |k/n - p| <= z·sqrt(p(1-p)/n):
    the Wilson interval, its ends found by bisection rather than by its closed form."""
    observed = successes / n

    def inside(p: float) -> bool:
        return (observed - p) ** 2 <= Z * Z * p * (1 - p) / n

    def edge(outside: float, within: float) -> float:
        for _ in range(200):
            middle = (outside + within) / 2
            outside, within = (outside, middle) if inside(middle) else (middle, within)
        return (outside + within) / 2

    return (0.0 if inside(0.0) else edge(0.0, observed)), (1.0 if inside(1.0) else edge(1.0, observed))


def mcnemar_by_enumeration(better: int, worse: int) -> float:
    """Two-sided exact p-value: the chance, in exact fractions, under Binomial(b + c, 1/2), of
    every split of the discordant samples no likelier than the one seen."""
    n = better + worse
    chances = [Fraction(math.comb(n, i), 2**n) for i in range(n + 1)]
    return float(sum(chance for chance in chances if chance <= chances[better]))


def paired_t_by_integration(differences: list[float]) -> float:
    """Two-sided p of the paired t-test: 1 - 2 x the integral of Student's density from 0 to
    |t|, by Simpson's rule."""
    n = len(differences)
    t = abs(statistics.mean(differences) / (statistics.stdev(differences) / math.sqrt(n)))
    df = n - 1
    scale = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))

    def density(u: float) -> float:
        return scale * (1 + u * u / df) ** (-(df + 1) / 2)

    steps = 20_000
    h = t / steps
    inner = sum((4 if i % 2 else 2) * density(i * h) for i in range(1, steps))
    return 1 - 2 * h / 3 * (density(0) + inner + density(t))


def holm_by_definition(pvalues: list[float]) -> list[float]:
    """Holm's adjusted p: for the k-th smallest of m, max over j <= k of (m - j + 1) p_(j), at most 1."""
    ranked = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted = {}
    for k, index in enumerate(ranked, start=1):
        adjusted[index] = min(1.0, max((len(pvalues) - j + 1) * pvalues[ranked[j - 1]] for j in range(1, k + 1)))
    return [adjusted[i] for i in range(len(pvalues))]


def logged_samples(log: Path, scorer: str) -> dict[str, float]:
    """A log's per-sample scores as inspect's own data frame reads them: id -> number."""
    from inspect_ai.analysis import samples_df

    frame = samples_df(str(log), quiet=True)
    words = {"C": 1.0, "I": 0.0}
    return {str(sample_id): words.get(value, value) for sample_id, value in zip(frame["id"], frame[f"score_{scorer}"])}


def interval_text(successes: int, n: int) -> str:
    low, high = wilson_by_inversion(successes, n)
    return f"[{low:.3f}, {high:.3f}]"


# -- the tables ------------------------------------------------------------------------------

RESULT_COLUMNS = [
    "run", "LoRA Rank", "Learning Rate", "model", "task", "epoch", "status",
    "includes/accuracy", "includes/stderr", "exact/mean", "exact/stderr", "samples",
    "metric", "n", "ci_low", "ci_high", "ci_method", "base_run", "delta_vs_base", "p_vs_base", "p_vs_base_holm",
    "test_vs_base", "paired_vs_base", "unpaired_vs_base", "log", "error",
]


def test_every_planned_cell_gets_what_inspect_logged(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["example"], EXAMPLE)
    assert os.access(experiment / "collect_results.py", os.X_OK)
    out = tmp_path / "out"
    done = collect_results(experiment, "--out", str(out))

    assert done.returncode == 1, done.stderr  # a failed and a not-run cell
    rows = read_csv(out / "results.csv")
    assert list(rows[0]) == RESULT_COLUMNS
    planned = list(plan_cells(experiment))
    assert [(row["run"], f"{row['task']}_{'base' if row['epoch'] == '' else 'epoch' + row['epoch']}") for row in rows] == planned

    for row, key in zip(rows, planned):
        chosen = logs["example"].chosen[key]
        assert row["model"] == "Llama-3.2-1B-Instruct"
        if chosen is None:
            continue
        spec, path = chosen
        assert row["status"] == "success"
        assert row["log"] == path.relative_to(logs["example"].tree).as_posix()
        header = read_eval_log(str(experiment / row["log"]), header_only=True)
        reported = {f"{score.name}/{metric.name}": metric.value
                    for score in header.results.scores for metric in score.metrics.values()}
        assert {column: float(row[column]) for column in reported} == reported
        assert float(row["includes/accuracy"]) == spec.includes_accuracy
        assert float(row["exact/mean"]) == spec.exact_accuracy
        assert int(row["samples"]) == header.results.completed_samples == spec.samples
        assert (row["metric"], row["n"], row["ci_method"]) == ("includes/accuracy", "8", "wilson")

    by_cell = dict(zip(planned, rows))
    assert (by_cell[(R8, "capitalization_epoch0")]["LoRA Rank"], by_cell[(R8, "capitalization_epoch0")]["Learning Rate"]) == ("8", "1e-5")
    assert by_cell[(BASE, "capitalization_base")]["epoch"] == ""
    failed = by_cell[(R16, "capitalization_epoch1")]
    [failed_log] = logs["example"].files[(R16, "capitalization_epoch1")]
    assert failed["status"] == "error"
    assert failed["error"] == read_eval_log(str(failed_log), header_only=True).error.message
    assert "the solver broke on purpose" in failed["error"]
    assert failed["log"] == failed_log.relative_to(logs["example"].tree).as_posix()
    assert failed["includes/accuracy"] == failed["n"] == failed["ci_low"] == failed["delta_vs_base"] == ""
    missing = by_cell[(R16, "capitalization_6L_epoch1")]
    assert (missing["status"], missing["log"], missing["samples"]) == ("not run", "", "")
    assert "header says run 'r8_lr1e-5'; skipped" in done.stderr  # the foreign log

    # one factor varies (the learning rate has one level): no heatmap; capitalization_6L
    # has one evaluated epoch: a bar chart under the same name
    assert sorted(path.name for path in out.glob("*.png")) == [
        "capitalization_6L_includes-accuracy.png", "capitalization_includes-accuracy.png"]


def test_markdown_tables_show_intervals_differences_the_methods_and_the_rest(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["example"], EXAMPLE)
    out = tmp_path / "out"
    done = collect_results(experiment, "--out", str(out))
    text = (out / "results.md").read_text(encoding="utf-8")

    assert text in done.stdout
    assert f"inspect view --log-dir {experiment}" in done.stdout
    assert text.startswith("# Results: Capitalization LoRA Rank Sweep (Llama-3.2-1B)\n\n"
                           "8 cells: 6 succeeded, 1 failed, 1 not run.\n")
    cap, cap6 = sections(text)[CAP], sections(text)[CAP6]
    assert header(cap) == ["run", "LoRA Rank", "Learning Rate", "base", "epoch 0", "epoch 1"]
    # r8 epoch 1: the older success, not the newer failed rerun; r16 epoch 0: the newer success
    assert tables(cap)[0] == {
        R8: ["8", "1e-5", "", f"0.750 {interval_text(6, 8)}", f"0.750 {interval_text(6, 8)}"],
        R16: ["16", "1e-5", "", f"**0.875 {interval_text(7, 8)}**", "error"],
        BASE: ["-", "-", f"0.125 {interval_text(1, 8)}", "", ""],
    }
    assert "`includes/accuracy` and its 95% interval; the best (highest) in bold." in cap
    # the base model got sample 1 right, r8 samples 1..6 and r16 1..7: 5, 5 and 6 samples
    # better and none worse; Holm over the three
    p8, p16 = mcnemar_by_enumeration(5, 0), mcnemar_by_enumeration(6, 0)
    assert (p8, p16) == (0.0625, 0.03125)
    assert "Difference from the base model (Llama-3.2-1B-Instruct_base) on the samples both scored; " in cap
    assert tables(cap)[1] == {
        R8: ["8", "1e-5", f"+0.625 (p = {p8:.3f})", f"+0.625 (p = {p8:.3f})"],
        R16: ["16", "1e-5", f"+0.750 (p = {p16:.3f})", ""],  # epoch 1 failed: never compared
    }
    assert ("- 95% intervals (z = 1.96): Wilson score interval, every sample scored 0 or 1: 4 cells.\n"
            "- Against the base model of the same model, samples matched by id: exact two-sided McNemar test, "
            "scores 0 or 1: 3 cells; p as computed, Holm-adjusted over the task's 3 comparisons in results.csv "
            "(p_vs_base_holm).") in cap
    failed_log = logs["example"].files[(R16, "capitalization_epoch1")][0]
    assert (f"Failed:\n\n- {R16}, epoch 1: error: RuntimeError('the solver broke on purpose') "
            f"(`{failed_log.relative_to(logs['example'].tree).as_posix()}`)") in cap
    assert "Not run" not in cap
    assert tables(cap6)[0] == {
        R8: ["8", "1e-5", "", f"**0.500 {interval_text(4, 8)}**"],
        R16: ["16", "1e-5", "", "not run"],
        BASE: ["-", "-", f"0.250 {interval_text(2, 8)}", ""],  # the older, proper log: the foreign one scored 0.625
    }
    assert f"Not run:\n\n- {R16}, epoch 1" in cap6


def test_metric_option_picks_a_scorer_and_an_unknown_one_writes_nothing(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["example"], EXAMPLE)

    done = collect_results(experiment, "--metric", "exact/mean", "--out", str(tmp_path / "exact"))
    assert done.returncode == 1, done.stderr
    cap = sections((tmp_path / "exact/results.md").read_text(encoding="utf-8"))[CAP]
    assert "`exact/mean` and its 95% interval" in cap
    assert tables(cap)[0][R8][3] == f"0.500 {interval_text(4, 8)}"  # 4 of 8 exactly right
    assert (tmp_path / "exact/capitalization_exact-mean.png").exists()
    assert {row["scorer"] for row in read_csv(tmp_path / "exact/samples.csv")} == {"exact"}

    lowest = collect_results(experiment, "--metric", "accuracy", "--lower-is-better", "--out", str(tmp_path / "low"))
    cap = sections((tmp_path / "low/results.md").read_text(encoding="utf-8"))[CAP]
    assert "`includes/accuracy`" in cap and "the best (lowest) in bold" in cap
    assert tables(cap)[0][BASE][2] == f"**0.125 {interval_text(1, 8)}**"
    assert lowest.returncode == 1

    (tmp_path / "a file").write_text("not a directory\n")
    for out in (tmp_path / "a file", tmp_path / "a file" / "below"):
        refused = collect_results(experiment, "--out", str(out))
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert f"error: --out {out}: {tmp_path / 'a file'} is a file, where the tables and plots need a directory" in refused.stderr
    assert (tmp_path / "a file").read_text() == "not a directory\n"

    unknown = collect_results(experiment, "--metric", "f1", "--out", str(tmp_path / "none"))
    assert unknown.returncode == 2
    assert "no log of this experiment reports a metric 'f1'" in unknown.stderr and "includes/accuracy, includes/stderr, exact/mean" in unknown.stderr
    assert not (tmp_path / "none").exists()


# -- intervals and paired comparisons, against this file's own computations --------------------


def test_intervals_and_p_values_match_an_independent_computation_from_the_samples(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["paired"], EXAMPLE)
    out = tmp_path / "out"
    done = collect_results(experiment, "--out", str(out))
    assert done.returncode == 1, done.stderr  # r16 epoch 1 failed
    rows = {(row["run"], row["task"], row["epoch"]): row for row in read_csv(out / "results.csv")}
    chosen = logs["paired"].chosen

    def samples(run, cell):
        scorer = "graded" if cell.startswith(CAP6) else "includes"
        return logged_samples(chosen[(run, cell)][1], scorer)

    base = {CAP: samples(BASE, "capitalization_base"), CAP6: samples(BASE, "capitalization_6L_base")}
    checked = {CAP: [], CAP6: []}
    for (run, task, epoch), row in rows.items():
        if row["status"] != "success":
            assert row["n"] == row["ci_low"] == row["delta_vs_base"] == row["p_vs_base"] == ""
            continue
        scores = samples(run, f"{task}_{'base' if epoch == '' else 'epoch' + epoch}")
        values = list(scores.values())
        assert int(row["n"]) == len(values)
        if task == CAP:
            assert row["metric"] == "includes/accuracy" and row["ci_method"] == "wilson"
            expected = wilson_by_inversion(int(sum(values)), len(values))
        else:
            assert row["metric"] == "graded/mean" and row["ci_method"] == "samples-se"
            error = statistics.stdev(values) / math.sqrt(len(values))
            expected = (statistics.mean(values) - Z * error, statistics.mean(values) + Z * error)
        assert (float(row["ci_low"]), float(row["ci_high"])) == pytest.approx(expected, abs=1e-9)
        if run == BASE:
            assert row["base_run"] == row["delta_vs_base"] == row["p_vs_base"] == ""
            continue
        common = sorted(scores.keys() & base[task].keys())
        x, y = [scores[i] for i in common], [base[task][i] for i in common]
        assert row["base_run"] == BASE
        assert int(row["paired_vs_base"]) == len(common)
        assert int(row["unpaired_vs_base"]) == len(scores.keys() ^ base[task].keys())
        assert float(row["delta_vs_base"]) == pytest.approx(statistics.mean(x) - statistics.mean(y), abs=1e-12)
        if task == CAP:
            assert row["test_vs_base"] == "mcnemar"
            expected_p = mcnemar_by_enumeration(sum(u > v for u, v in zip(x, y)), sum(u < v for u, v in zip(x, y)))
        else:
            assert row["test_vs_base"] == "paired-t"
            expected_p = paired_t_by_integration([u - v for u, v in zip(x, y)])
        assert float(row["p_vs_base"]) == pytest.approx(expected_p, abs=1e-9)
        checked[task].append((row, expected_p))

    # r8 epoch 0 is scored on ids 3..14, the base model on 1..12: 10 paired, 4 left out
    r8_first = rows[(R8, CAP, "0")]
    assert (r8_first["paired_vs_base"], r8_first["unpaired_vs_base"]) == ("10", "4")
    # worked by hand: r8 epoch 1 is better on 7 samples, worse on 3: 2 x 176 / 1024
    assert float(rows[(R8, CAP, "1")]["p_vs_base"]) == 0.34375
    assert rows[(R16, CAP6, "1")]["unpaired_vs_base"] == "1"
    for task, tested in checked.items():
        assert len(tested) == (3 if task == CAP else 2)  # r16 epoch 1 of capitalization failed
        adjusted = holm_by_definition([p for _, p in tested])
        assert [float(row["p_vs_base_holm"]) for row, _ in tested] == pytest.approx(adjusted, abs=1e-9)

    text = (out / "results.md").read_text(encoding="utf-8")
    cap, cap6 = sections(text)[CAP], sections(text)[CAP6]
    assert f"Samples scored in only one of the two cells, left out: {R8}, epoch 0: 4." in cap
    assert "two-sided paired t-test on the per-sample differences, scores not all 0 or 1: 2 cells" in cap6
    assert "95% intervals (z = 1.96): mean ± 1.96 × the samples' standard error: 3 cells." in cap6


def test_samples_csv_and_parquet_hold_every_scored_sample(render, logs, tmp_path):
    import pyarrow.parquet

    experiment = rendered_with_logs(render, logs["paired"], EXAMPLE)
    out = tmp_path / "out"
    collect_results(experiment, "--out", str(out))
    samples = read_csv(out / "samples.csv")
    assert list(samples[0]) == ["run", "task", "epoch", "cell", "id", "sample_epoch", "scorer", "value", "score",
                                "answer", "target"]
    expected = []
    for (run, cell), picked in logs["paired"].chosen.items():
        if picked is None:
            continue
        spec, path = picked
        scorer = "graded" if cell.startswith(CAP6) else "includes"
        log = read_eval_log(str(path))  # the whole log, with each sample's messages
        for sample in log.samples:
            score = sample.scores[scorer]
            expected.append({
                "run": run, "task": cell.rsplit("_", 1)[0],
                "epoch": "" if cell.endswith("_base") else cell.rsplit("epoch", 1)[1], "cell": cell,
                "id": str(sample.id), "sample_epoch": "1", "scorer": scorer, "value": str(score.value),
                "score": str(float({"C": 1, "I": 0}.get(score.value, score.value))),
                "answer": score.answer, "target": sample.target,
            })
    key = lambda row: (row["run"], row["cell"], int(row["id"]))  # noqa: E731
    assert sorted(samples, key=key) == sorted(expected, key=key)
    assert len(samples) == 12 * 4 + 6 + 6 + 7  # r16 epoch 1 failed: none of its samples

    table = pyarrow.parquet.read_table(out / "samples.parquet").to_pylist()
    assert len(table) == len(samples)
    for parquet_row, csv_row in zip(table, samples):
        assert {name: "" if value is None else str(value) for name, value in parquet_row.items()} == csv_row


def test_a_failed_or_missing_base_model_leaves_the_comparison_empty_and_says_why(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["nobase"], EXAMPLE)
    out = tmp_path / "out"
    done = collect_results(experiment, "--out", str(out))
    assert done.returncode == 1
    rows = {(row["run"], row["task"], row["epoch"]): row for row in read_csv(out / "results.csv")}
    for key in ((R8, CAP, "0"), (R8, CAP6, "1")):
        row = rows[key]
        assert row["status"] == "success" and row["ci_low"]
        assert (row["delta_vs_base"], row["p_vs_base"], row["p_vs_base_holm"], row["paired_vs_base"]) == ("", "", "", "")
    text = (out / "results.md").read_text(encoding="utf-8")
    assert f"No p-value against a base model: {R8}, epoch 0 ({BASE}, base model: error)." in sections(text)[CAP]
    assert f"No p-value against a base model: {R8}, epoch 1 ({BASE}, base model: not run)." in sections(text)[CAP6]
    assert "Difference from the base model" not in text


def test_compare_two_runs_or_every_pair_within_an_epoch_with_holm(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["paired"], EXAMPLE)
    done = collect_results(experiment, "--compare", R16, R8, "--out", str(tmp_path / "two"))
    assert done.returncode == 1, done.stderr
    pairs = read_csv(tmp_path / "two/comparisons.csv")
    assert [(row["task"], row["run_a"], row["epoch_a"], row["run_b"], row["epoch_b"]) for row in pairs] == [
        (CAP, R16, "0", R8, "0"), (CAP, R16, "1", R8, "1"), (CAP6, R16, "1", R8, "1")]
    failed = pairs[1]
    assert (failed["p"], failed["p_holm"], failed["delta"]) == ("", "", "")
    assert failed["note"] == f"{R16}, epoch 1: error"  # a failed cell never enters a comparison
    chosen = logs["paired"].chosen
    a = logged_samples(chosen[(R16, "capitalization_epoch0")][1], "includes")
    b = logged_samples(chosen[(R8, "capitalization_epoch0")][1], "includes")
    common = a.keys() & b.keys()
    assert (pairs[0]["paired"], pairs[0]["unpaired"]) == (str(len(common)), str(len(a.keys() ^ b.keys())))
    p_cap = mcnemar_by_enumeration(sum(a[i] > b[i] for i in common), sum(a[i] < b[i] for i in common))
    a6 = logged_samples(chosen[(R16, "capitalization_6L_epoch1")][1], "graded")
    b6 = logged_samples(chosen[(R8, "capitalization_6L_epoch1")][1], "graded")
    p_cap6 = paired_t_by_integration([a6[i] - b6[i] for i in a6.keys() & b6.keys()])
    assert [float(pairs[0]["p"]), float(pairs[2]["p"])] == pytest.approx([p_cap, p_cap6], abs=1e-9)
    assert [float(pairs[0]["p_holm"]), float(pairs[2]["p_holm"])] == pytest.approx(holm_by_definition([p_cap, p_cap6]))
    assert "## Comparisons\n\n3 pairs of cells, 2 tested on the samples both scored" in (tmp_path / "two/results.md").read_text()

    within = collect_results(experiment, "--compare-within-epoch", "--compare", R8, BASE, "--out", str(tmp_path / "all"))
    assert within.returncode == 1
    pairs = read_csv(tmp_path / "all/comparisons.csv")
    listed = [(row["task"], row["run_a"], row["epoch_a"], row["run_b"], row["epoch_b"]) for row in pairs]
    assert listed == [
        (CAP, R8, "0", BASE, ""), (CAP, R8, "1", BASE, ""),  # --compare with a run evaluated once
        (CAP, R8, "0", R16, "0"), (CAP, R8, "1", R16, "1"),  # every pair within each epoch
        (CAP6, R8, "1", BASE, ""), (CAP6, R8, "1", R16, "1"),
    ]
    tested = [float(row["p"]) for row in pairs if row["p"]]
    assert len(tested) == 5
    assert [float(row["p_holm"]) for row in pairs if row["p"]] == pytest.approx(holm_by_definition(tested))

    unknown = collect_results(experiment, "--compare", R8, "r99", "--out", str(tmp_path / "none"))
    assert unknown.returncode == 2 and "--compare names no run of this experiment: r99" in unknown.stderr
    assert not (tmp_path / "none").exists()


def test_cells_that_read_different_data_are_never_paired_and_it_is_said(render, logs, tmp_path):
    # r16 trained, and so is evaluated in capitalization ("same as training"), on 4-letter
    # words; r8 and the base model on 5-letter ones. The logs' samples have ids 1..n, their
    # positions: sample 1 of one file is not sample 1 of the other.
    source = tmp_path / "inputs"
    shutil.copytree(EXAMPLE, source)
    setup = source / R16 / "setup_finetune.yaml"
    setup.write_text(setup.read_text().replace("dataset_label: words_5L_80P_1000", "dataset_label: words_4L_80P_1000"))
    experiment = rendered_with_logs(render, logs["paired"], source)
    cells = plan_cells(experiment)
    r16, r8, base = (cells[(run, cell)] for run, cell in
                     ((R16, "capitalization_epoch0"), (R8, "capitalization_epoch0"), (BASE, "capitalization_base")))
    four, five = r16["data_path"], base["data_path"]
    assert four.endswith("words_4L_80P_1000.json") and five.endswith("words_5L_80P_1000.json") == r8["data_path"].endswith("words_5L_80P_1000.json")
    # r16's log, made with the plan's inputs now (its fingerprint holds the data)
    _, path = logs["paired"].chosen[(R16, "capitalization_epoch0")]
    (experiment / path.relative_to(logs["paired"].tree)).unlink()
    put_log(experiment, path, r16, r16["metadata"], 10)

    done = collect_results(experiment, "--compare", R8, R16, "--out", str(tmp_path / "out"))
    assert done.returncode == 1, done.stderr
    [pair] = [row for row in read_csv(tmp_path / "out/comparisons.csv") if row["task"] == CAP and row["epoch_a"] == "0"]
    assert (pair["delta"], pair["p"], pair["p_holm"], pair["test"], pair["paired"]) == ("", "", "", "", "0")
    assert pair["note"] == f"not paired: the cells read different data ({R8}, epoch 0: {five}; {R16}, epoch 0: {four})"
    results = {(row["run"], row["task"], row["epoch"]): row for row in read_csv(tmp_path / "out/results.csv")}
    versus = results[(R16, CAP, "0")]
    assert (versus["delta_vs_base"], versus["p_vs_base"], versus["paired_vs_base"]) == ("", "", "")
    assert results[(R8, CAP, "0")]["p_vs_base"] != ""  # the same data: paired as before
    assert (f"warning: 1 comparison not paired: the cells read different data (e.g. {R16} capitalization_epoch0 "
            f"reads {four}, {BASE} capitalization_base reads {five})") in done.stderr
    assert (f"warning: 1 comparison not paired: the cells read different data (e.g. {R8} capitalization_epoch0 "
            f"reads {five}, {R16} capitalization_epoch0 reads {four})") in done.stderr
    section = sections(done.stdout)[CAP]
    _, differences = tables(section)[:2]
    assert R16 not in differences  # no difference shown (its epoch 1 failed)
    assert (f"{R16}, epoch 0 (not paired: the cells read different data ({R16}, epoch 0: {four}; "
            f"{BASE}, base model: {five}))") in section


# Quotes of every kind, a backslash, Jinja, a line separator, non-ASCII: the embedded plan
# must read back as recorded.
HOSTILE_TITLE = 'Sweep "α" \\d \'\'\' """ {{ x }} \u2028 end'


def test_a_finished_sweep_exits_0_and_one_factor_has_no_heatmap(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["small"], Experiment(title=HOSTILE_TITLE))
    done = collect_results(experiment)  # --out defaults to results/ beside the script

    assert done.returncode == 0, done.stderr
    plan = yaml.safe_load((experiment / ".copier-answers.yml").read_text(encoding="utf-8"))["plan"]
    script = load(experiment)
    assert script.EXPERIMENT == plan["experiment"] == HOSTILE_TITLE
    assert script.FACTORS == plan["factors"] == ["LoRA Rank"]
    assert script.CELLS == [{"run": run["name"], "name": cell["name"], "task": cell["task"], "epoch": cell["epoch"],
                             "log_dir": cell["log_dir"], "data": cell["task_args"].get("data_path"), "metadata": cell["metadata"], "job_times": cell["job_times"],
                             "gpu_samples": cell["gpu_samples"], "attempts_record": cell["attempts_record"]}
                            for run in plan["runs"] for cell in run["cells"]]
    [row] = read_csv(experiment / "results/results.csv")
    assert (row["run"], row["LoRA Rank"], row["status"], row["includes/accuracy"]) == ("r8_lr1e-5", "8", "success", "0.75")
    assert sorted(path.name for path in (experiment / "results").glob("*.png")) == ["capitalization_includes-accuracy.png"]


def small_experiment(render, logs) -> tuple[Path, Path, dict]:
    """The one-cell experiment rendered with no log; a real successful log of it (0.75 right)
    and the metadata its script gives the cell."""
    experiment = render(Experiment(title=HOSTILE_TITLE))
    [(key, [log])] = logs["small"].files.items()
    (cell,) = [cell for run in yaml.safe_load((experiment / ".copier-answers.yml").read_text())["plan"]["runs"]
               for cell in run["cells"]]
    return experiment, log, cell


def put_log(experiment: Path, log: Path, cell: dict, metadata: dict, second: int) -> Path:
    target = experiment / cell["log_dir"] / f"2026-11-28T13-02-{second:02d}-00-00_{cell['name']}_x{second}.eval"
    copy_log_for(log, target, metadata)
    return target


def test_only_logs_whose_metadata_names_this_experiment_are_taken(render, logs):
    experiment, log, cell = small_experiment(render, logs)
    # A sibling experiment's log, same run and cell names (the newest), and one without metadata.
    sibling = put_log(experiment, log, cell, {**cell["metadata"], "experiment": "Capitalization sweep v2"}, 50)
    bare = put_log(experiment, log, cell, {}, 40)
    done = collect_results(experiment)
    assert done.returncode == 1, done.stderr
    assert (f"warning: {sibling.relative_to(experiment)} is named after cell {cell['name']} of run r8_lr1e-5, "
            "but its header says experiment 'Capitalization sweep v2'; skipped") in done.stderr
    assert (f"warning: {bare.relative_to(experiment)} is named after cell {cell['name']} of run r8_lr1e-5, but its "
            "header has no metadata experiment, run, cell, so it cannot be told to be this experiment's") in done.stderr
    [row] = read_csv(experiment / "results/results.csv")
    assert (row["status"], row["includes/accuracy"] if "includes/accuracy" in row else "") == ("not run", "")
    # Its own log is taken, and the others stay out, though newer.
    own = put_log(experiment, log, cell, cell["metadata"], 30)
    done = collect_results(experiment)
    assert done.returncode == 0, done.stderr
    [row] = read_csv(experiment / "results/results.csv")
    assert (row["status"], row["includes/accuracy"], row["log"]) == ("success", "0.75", str(own.relative_to(experiment)))


def test_a_log_made_with_other_inputs_is_stale_unless_asked_for(render, logs):
    experiment, log, cell = small_experiment(render, logs)
    fingerprint = cell["metadata"]["fingerprint"]
    old = put_log(experiment, log, cell, {**cell["metadata"], "fingerprint": "0123456789abcdef"}, 10)
    done = collect_results(experiment)
    assert done.returncode == 1, done.stderr
    assert ("warning: 1 cells have only logs made with other inputs than the plan's now (another fingerprint, "
            f"e.g. {old.relative_to(experiment)}): left out (--include-stale takes them); ./submit_evals.sh "
            "--only-missing evaluates them again") in done.stderr
    [row] = read_csv(experiment / "results/results.csv")
    assert (row["status"], row["includes/accuracy"] if "includes/accuracy" in row else "") == ("stale", "")
    assert row["error"] == (f"made with other inputs than the plan's now (fingerprint 0123456789abcdef, the plan's is "
                            f"{fingerprint}): ./submit_evals.sh --only-missing evaluates it again; --include-stale takes it")
    assert "1 cells: 0 succeeded, 1 stale (made with other inputs), 0 failed, 0 not run." in done.stdout
    assert "Stale (only logs made with other inputs than the plan's now; left out):" in done.stdout

    done = collect_results(experiment, "--include-stale")
    assert done.returncode == 0, done.stderr
    [row] = read_csv(experiment / "results/results.csv")
    assert (row["status"], row["includes/accuracy"]) == ("success", "0.75")
    assert row["error"] == f"stale, taken with --include-stale: fingerprint 0123456789abcdef, the plan's is {fingerprint}"
    assert "1 cells: 1 succeeded (1 of them stale), 0 failed, 0 not run." in done.stdout
    # Shown, but not marked the best: it was made with other inputs.
    assert "| 0.750 [" in done.stdout and "] (stale) |" in done.stdout and "**" not in done.stdout.split("## ")[1]

    # Evaluated again with the plan's inputs: the new log is taken, the old one is simply older.
    new = put_log(experiment, log, cell, cell["metadata"], 5)
    done = collect_results(experiment)
    assert done.returncode == 0, done.stderr
    assert "stale" not in done.stderr
    [row] = read_csv(experiment / "results/results.csv")
    assert (row["status"], row["log"], row["error"]) == ("success", str(new.relative_to(experiment)), "")


def test_a_stale_value_taken_with_include_stale_is_never_marked_the_best(render, logs):
    experiment = rendered_with_logs(render, logs["paired"], EXAMPLE)
    cells = plan_cells(experiment)
    # r16 epoch 0 is the best of capitalization (11 of 12); its log made with other inputs
    spec, path = logs["paired"].chosen[(R16, "capitalization_epoch0")]
    cell = cells[(R16, "capitalization_epoch0")]
    (experiment / path.relative_to(logs["paired"].tree)).unlink()
    put_log(experiment, path, cell, {**cell["metadata"], "fingerprint": "0123456789abcdef"}, 10)
    done = collect_results(experiment, "--include-stale")
    assert done.returncode == 1, done.stderr
    values, _ = tables(sections(done.stdout)[CAP])[:2]
    r8 = logs["paired"].chosen[(R8, "capitalization_epoch1")][0]
    assert values[R16][3].startswith(f"{spec.includes_accuracy:.3f} [") and values[R16][3].endswith("(stale)")
    assert values[R8][4].startswith(f"**{r8.includes_accuracy:.3f} [")  # the best current value
    assert [cell for line in values.values() for cell in line if "**" in cell] == [values[R8][4]]


def test_a_moved_tree_reads_its_own_logs(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["example"], EXAMPLE)
    moved = tmp_path / "moved" / "cap"
    shutil.copytree(experiment, moved, copy_function=shutil.copy2)
    shutil.rmtree(experiment)

    done = collect_results(moved)
    assert done.returncode == 1, done.stderr
    assert str(experiment) not in (moved / "collect_results.py").read_text(encoding="utf-8")
    assert f"inspect view --log-dir {moved}" in done.stdout
    rows = read_csv(moved / "results/results.csv")
    assert [row["status"] for row in rows].count("success") == 6
    assert all((moved / row["log"]).is_file() for row in rows if row["log"])


def test_a_log_cut_short_is_reported_not_fatal(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["example"], EXAMPLE)
    cut = experiment / R16 / "eval/logs/2026-11-28T10-00-00+00-00_capitalization_6L_epoch1_Zx81.eval"
    whole = logs["example"].chosen[(R8, "capitalization_6L_epoch1")][1]
    cut.write_bytes(whole.read_bytes()[:200])

    done = collect_results(experiment, "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    row = read_csv(tmp_path / "out/results.csv")[5]
    assert (row["run"], row["task"], row["status"]) == (R16, CAP6, "unreadable")
    assert row["log"] == cut.relative_to(experiment).as_posix() and row["error"]
    assert f"{row['log']} cannot be read" in done.stderr


# -- without a library -----------------------------------------------------------------------


def test_without_matplotlib_or_pyarrow_the_tables_are_written_and_the_rest_skipped(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["example"], EXAMPLE)
    out = tmp_path / "out"
    done = collect_results(experiment, "--out", str(out),
                           preamble="import sys; sys.modules['matplotlib'] = sys.modules['pyarrow'] = None")

    assert done.returncode == 1, done.stderr
    assert sorted(path.name for path in out.iterdir()) == ["compute.csv", "compute.md", "results.csv", "results.md", "samples.csv"]
    assert "plots skipped: matplotlib is not installed" in done.stderr
    assert "samples.parquet skipped: pyarrow is not installed" in done.stderr
    assert len(read_csv(out / "results.csv")) == 8
    assert len(read_csv(out / "samples.csv")) == 6 * 8  # six successful cells of 8 samples


def test_without_inspect_it_says_where_to_run_it(render, tmp_path):
    experiment = render(EXAMPLE)
    done = collect_results(experiment, preamble="import sys; sys.modules['inspect_ai'] = None")
    assert done.returncode == 2
    assert "run it in the evaluation environment" in done.stderr
    assert not (experiment / "results").exists()


@pytest.mark.parametrize("damage", ["a loop of symbolic links", "a file"])
def test_a_log_directory_that_cannot_be_listed_is_said_and_nothing_written(render, tmp_path, damage):
    experiment = render(EXAMPLE)
    logs = experiment / "r8_lr1e-5/eval/logs"
    shutil.rmtree(logs)
    if damage == "a file":
        logs.write_text("notes\n")
        expected = f"error: {logs}: cannot list this log directory (Not a directory): make it a directory your user can read"
    else:
        logs.symlink_to("logs")
        expected = (f"error: {logs}: cannot list this log directory (Too many levels of symbolic links): "
                    "replace the loop of symbolic links with the directory itself, then run collect_results.py again")
    done = collect_results(experiment)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert not (experiment / "results").exists()


# -- the plots, through matplotlib's objects ---------------------------------------------------


def figures_of(experiment: Path) -> dict:
    """The rendered script's Figures, made in this process as main() makes them."""
    from inspect_ai.log import read_eval_log_sample_summaries

    script = load(experiment)
    rows = script.collect(lambda path: read_eval_log(str(path), header_only=True))
    metrics = {task: script.choose_metric(task_rows, None) for task, task_rows in script.tasks_of(rows).items()}
    script.read_samples(rows, metrics, lambda path: read_eval_log_sample_summaries(str(path)))
    script.analyse(rows, metrics)
    return script.figures(rows, metrics)


def band(axes) -> tuple[float, float]:
    """The span of the base model's band (the script tags it)."""
    [patch] = [patch for patch in axes.patches if patch.get_gid() == "base band"]
    return patch.get_y(), patch.get_y() + patch.get_height()


def test_plots_show_intervals_whole_epochs_the_base_band_and_one_epoch_as_bars(render, logs):
    experiment = rendered_with_logs(render, logs["example"], EXAMPLE)
    figures = figures_of(experiment)
    assert list(figures) == ["capitalization_includes-accuracy.png", "capitalization_6L_includes-accuracy.png"]

    figure = figures["capitalization_includes-accuracy.png"]
    [axes] = figure.axes
    assert (figure.get_supxlabel(), figure.get_supylabel()) == ("epoch", "accuracy (95% interval)")
    assert figure.get_suptitle() == "capitalization: includes/accuracy"
    assert list(axes.get_xticks()) == [0, 1] and [label.get_text() for label in axes.get_xticklabels()] == ["0", "1"]
    runs = {container.get_label(): container for container in axes.containers}
    assert list(runs) == [R8, R16]  # one line per run that has a result
    r8_line = runs[R8].lines[0]
    assert [round(x) for x in r8_line.get_xdata()] == [0, 1] and list(r8_line.get_ydata()) == [0.75, 0.75]
    assert list(runs[R16].lines[0].get_ydata()) == [0.875]  # epoch 1 failed: no point
    r8_bars = [tuple(segment[:, 1]) for segment in runs[R8].lines[2][0].get_segments()]
    assert r8_bars == [pytest.approx(wilson_by_inversion(6, 8), abs=1e-9)] * 2  # the Wilson interval, uneven
    [base] = [line for line in axes.get_lines() if line.get_label() == f"{BASE} (base model)"]
    assert list(base.get_ydata()) == [0.125, 0.125] and base.get_linestyle() == "--"
    assert band(axes) == pytest.approx(wilson_by_inversion(1, 8), abs=1e-9)
    assert [text.get_text() for text in axes.get_legend().get_texts()] == [R8, R16, f"{BASE} (base model)"]

    # capitalization_6L is evaluated at epoch 1 only: bars with their intervals
    bars = figures["capitalization_6L_includes-accuracy.png"]
    [axes6] = bars.axes
    assert bars.get_suptitle() == "capitalization_6L: includes/accuracy at epoch 1"
    [container] = [c for c in axes6.containers if hasattr(c, "patches")]
    assert [patch.get_height() for patch in container.patches] == [0.5]  # r16 never ran
    assert [label.get_text() for label in axes6.get_xticklabels()] == [R8]
    [error] = container.errorbar.lines[2][0].get_segments()
    assert tuple(error[:, 1]) == pytest.approx(wilson_by_inversion(4, 8), abs=1e-9)
    assert axes6.get_ylim() == (0, 1.02)  # accuracy: the whole range
    assert band(axes6) == pytest.approx(wilson_by_inversion(2, 8), abs=1e-9)


# -- at sweep scale: a rank x learning-rate grid ----------------------------------------------

GRID_SAMPLES = 20
GRID_RIGHT = (4, 8, 12, 16, 19)  # the fine-tuned logs; the base model's gets 2 right
GRID_BASE_RIGHT = 2


@pytest.fixture(scope="session")
def grid_logs(tmp_path_factory) -> list[Path]:
    """Six real logs of 20 samples, the last for the base models: copied under every cell's
    name with its metadata, as make bench does."""
    root = tmp_path_factory.mktemp("grid-logs")
    specs = [LogSpec(log_dir=str(root / "logs"), cell=f"grid{right}", metadata={}, right=right, samples=GRID_SAMPLES)
             for right in (*GRID_RIGHT, GRID_BASE_RIGHT)]
    return make_logs(specs, root / "work")


def grid_experiment(render, grid_logs: list[Path], tmp_path: Path, epochs: int) -> Path:
    """16 runs (LoRA rank 4..512 x learning rate 1e-5, 2e-5) and one base model, one task,
    every cell with a log: better with the rank, the learning rate and the epoch."""
    inputs = tmp_path / "grid-inputs"
    subprocess.run([sys.executable, str(ROOT / "bench/synth.py"), str(inputs), "--runs", "16", "--tasks", "1",
                    "--epochs", str(epochs), "--controls", "1"], check=True, capture_output=True)
    experiment = render(inputs)
    runs = list(dict.fromkeys(run for run, _ in plan_cells(experiment)))
    for (run, name), cell in plan_cells(experiment).items():
        if cell["epoch"] is None:
            log = grid_logs[-1]
        else:
            rank, rate = divmod(runs.index(run), 2)
            log = grid_logs[min(len(GRID_RIGHT) - 1, rank // 2 + rate + cell["epoch"] - (epochs - 1) + 1)]
        target = experiment / cell["log_dir"] / f"{log.name.split('_', 1)[0]}_{name}_grid.eval"
        copy_log_for(log, target, cell["metadata"])
    return experiment


def test_a_grid_sweep_has_panels_by_one_factor_and_a_heatmap_marking_significant_cells(render, grid_logs, tmp_path):
    experiment = grid_experiment(render, grid_logs, tmp_path, epochs=2)
    out = tmp_path / "out"
    done = collect_results(experiment, "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = read_csv(out / "results.csv")
    figures = figures_of(experiment)
    assert list(figures) == ["capitalization_includes-accuracy.png", "capitalization_includes-accuracy_heatmap.png"]

    # 16 runs are more than the 10 colours: a panel per LoRA rank, a line per learning rate
    curves = figures["capitalization_includes-accuracy.png"]
    panels = [axes for axes in curves.axes if axes.get_visible()]
    ranks = ["4", "8", "16", "32", "64", "128", "256", "512"]
    assert [axes.get_title() for axes in panels] == [f"LoRA Rank = {rank}" for rank in ranks]
    for axes in panels:
        assert [container.get_label() for container in axes.containers] == ["1e-5", "2e-5"]
        assert list(axes.get_xticks()) == [0, 1]
        assert any(line.get_label().endswith("(base model)") for line in axes.get_lines())
    [legend] = curves.legends
    assert legend.get_title().get_text() == "Learning Rate"
    assert [text.get_text() for text in legend.get_texts()] == ["1e-5", "2e-5", "Llama-3.2-1B-Instruct_base (base model)"]

    heat = figures["capitalization_includes-accuracy_heatmap.png"].axes[0]
    [image] = heat.get_images()
    assert (image.norm.vmin, image.norm.vmax) == (0, 1)  # accuracy: anchored to its range
    assert image.get_array().shape == (8, 2)
    assert [label.get_text() for label in heat.get_yticklabels()] == ranks
    assert "colour scale 0 to 1" in figures["capitalization_includes-accuracy_heatmap.png"].axes[1].get_ylabel()
    last = {(row["LoRA Rank"], row["Learning Rate"]): row for row in rows if row["epoch"] == "1"}
    texts = iter(heat.texts)
    marked = 0
    for rank in ranks:
        for rate in ("1e-5", "2e-5"):
            row, text = last[(rank, rate)], next(texts)
            significant = float(row["p_vs_base_holm"]) < 0.05
            marked += significant
            assert text.get_text() == (f"{float(row['includes/accuracy']):.3f}\n+{float(row['delta_vs_base']):.3f}"
                                       + (" *" if significant else ""))
            # dark text on light cells, light text on dark ones
            value = float(row["includes/accuracy"])
            if value >= 0.7:
                assert text.get_color() == "black"
            elif value <= 0.4:
                assert text.get_color() == "white"
    assert 0 < marked < 16  # the data has both kinds of cell


def test_a_grid_sweep_of_one_epoch_draws_grouped_bars(render, grid_logs, tmp_path):
    experiment = grid_experiment(render, grid_logs, tmp_path, epochs=1)
    figures = figures_of(experiment)
    bars = figures["capitalization_includes-accuracy.png"]
    [axes] = bars.axes
    assert bars.get_suptitle() == "capitalization: includes/accuracy at epoch 0"
    assert [label.get_text() for label in axes.get_xticklabels()] == ["4", "8", "16", "32", "64", "128", "256", "512"]
    assert axes.get_xlabel() == "LoRA Rank"
    assert sum(len(container.patches) for container in axes.containers if hasattr(container, "patches")) == 16
    [legend] = bars.legends
    assert legend.get_title().get_text() == "Learning Rate"


# -- the log viewer bundle -------------------------------------------------------------------


def test_bundle_writes_inspects_static_viewer_with_every_cells_log(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["example"], EXAMPLE)
    out = tmp_path / "out"
    done = collect_results(experiment, "--out", str(out), "--bundle")
    assert done.returncode == 1, done.stderr
    viewer = out / "viewer"
    assert f"python3 -m http.server --directory {viewer} 8000" in done.stdout
    logged = [row["log"] for row in read_csv(out / "results.csv") if row["log"]]
    assert len(logged) == 7  # 6 successes and the failed cell's log; the not-run one has none
    assert sorted(path.relative_to(viewer / "logs").as_posix() for path in (viewer / "logs").rglob("*.eval")) == sorted(logged)

    # what a browser fetches first: the page, then the listing of the logs
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(viewer))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        page = urllib.request.urlopen(f"{base}/index.html", timeout=10).read().decode()
        assert '"log_dir": "logs"' in page
        listing = json.loads(urllib.request.urlopen(f"{base}/logs/listing.json", timeout=10).read())
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(listing) == sorted(logged)

    again = collect_results(experiment, "--out", str(out), "--bundle")  # a bundle it wrote is replaced
    assert again.returncode == 1, again.stderr

    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    refused = collect_results(experiment, "--out", str(tmp_path / "none"), "--bundle", str(other))
    assert refused.returncode == 2
    assert "is not a log viewer bundle" in refused.stderr
    assert not (tmp_path / "none").exists() and (other / "keep.txt").read_text() == "mine"


# -- the embedded plan -----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                    max_leaves=8))
def test_the_plan_literal_reads_back_exactly(value):
    literal = python_json(value)
    assert not any(separator in literal for separator in "\n\r\x85\u2028\u2029")
    assert json.loads(ast.literal_eval(literal)) == value


# -- the README ------------------------------------------------------------------------------


def test_the_readme_shows_what_the_example_gives(tmp_path):
    from docs.results_example import generate

    markdown, plot = generate(tmp_path / "cap_1B_lora")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```text\n# Results: ") + len("```text\n")
    assert readme[start:readme.index("```", start)] == markdown
    assert plot.is_file() and (ROOT / "docs/results_example.png").is_file()
