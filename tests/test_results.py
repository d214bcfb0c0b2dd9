"""collect_results.py on real inspect logs whose scores are known beforehand.

The logs come from real inspect evals (tests/inspect_logs.py), made once per session, named
and tagged as the rendered scripts name and tag them; each test renders the experiment with
real Copier, puts the logs in, and runs the rendered script as a user does.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
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
from tests.inspect_logs import LogSpec, make_logs

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
    """
    root = tmp_path_factory.mktemp("results-logs")
    cells = {"example": plan_cells(EXAMPLE), "small": plan_cells(Experiment().write(root / "small-inputs"))}

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
    # inspect records the creation time to the second: the newer logs start a second later.
    newer[0][1].pause_before = 1.1
    paths = make_logs([log for _, log in older + newer], root / "work")

    result = {tree: Logs(root / tree, {}, {}) for tree in cells}
    for (tree, log), path in zip(older + newer, paths):
        run = BASE if log is foreign else log.metadata["run"]
        result[tree].files.setdefault((run, log.cell), []).append(path)
        if not log.broken and log is not foreign:
            result[tree].chosen[(run, log.cell)] = (log, path)  # newer successes replace older
    for key in cells["example"]:
        result["example"].chosen.setdefault(key, None)
    return result


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


def table_rows(section: str) -> dict[str, list[str]]:
    """The table of a task section, by run: the cells after the run name."""
    rows = {}
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| run "):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows[cells[0]] = cells[1:]
    return rows


# -- the tables ------------------------------------------------------------------------------


def test_every_planned_cell_gets_what_inspect_logged(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["example"], EXAMPLE)
    assert os.access(experiment / "collect_results.py", os.X_OK)
    out = tmp_path / "out"
    done = collect_results(experiment, "--out", str(out))

    assert done.returncode == 1, done.stderr  # a failed and a not-run cell
    rows = read_csv(out / "results.csv")
    assert list(rows[0]) == [
        "run", "LoRA Rank", "Learning Rate", "model", "task", "epoch", "status",
        "includes/accuracy", "includes/stderr", "exact/mean", "exact/stderr", "samples", "log", "error",
    ]
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

    by_cell = dict(zip(planned, rows))
    assert (by_cell[(R8, "capitalization_epoch0")]["LoRA Rank"], by_cell[(R8, "capitalization_epoch0")]["Learning Rate"]) == ("8", "1e-5")
    assert by_cell[(BASE, "capitalization_base")]["epoch"] == ""
    failed = by_cell[(R16, "capitalization_epoch1")]
    [failed_log] = logs["example"].files[(R16, "capitalization_epoch1")]
    assert failed["status"] == "error"
    assert failed["error"] == read_eval_log(str(failed_log), header_only=True).error.message
    assert "the solver broke on purpose" in failed["error"]
    assert failed["log"] == failed_log.relative_to(logs["example"].tree).as_posix()
    assert failed["includes/accuracy"] == ""
    missing = by_cell[(R16, "capitalization_6L_epoch1")]
    assert (missing["status"], missing["log"], missing["samples"]) == ("not run", "", "")
    assert "header says run 'r8_lr1e-5'; skipped" in done.stderr  # the foreign log

    assert sorted(path.name for path in out.glob("*.png")) == [
        "capitalization_6L_includes-accuracy.png", "capitalization_6L_includes-accuracy_heatmap.png",
        "capitalization_includes-accuracy.png", "capitalization_includes-accuracy_heatmap.png",
    ]


def test_markdown_tables_show_runs_by_epoch_the_base_model_the_best_and_the_rest(render, logs, tmp_path):
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
    assert table_rows(cap) == {
        R8: ["8", "1e-5", "", "0.750 ± 0.164", "0.750 ± 0.164"],
        R16: ["16", "1e-5", "", "**0.875 ± 0.125**", "error"],
        BASE: ["-", "-", "0.125 ± 0.125", "", ""],
    }
    assert "`includes/accuracy` ± `includes/stderr`; the best (highest) in bold." in cap
    failed_log = logs["example"].files[(R16, "capitalization_epoch1")][0]
    assert (f"Failed:\n\n- {R16}, epoch 1: error: RuntimeError('the solver broke on purpose') "
            f"(`{failed_log.relative_to(logs['example'].tree).as_posix()}`)") in cap
    assert "Not run" not in cap
    assert table_rows(cap6) == {
        R8: ["8", "1e-5", "", "**0.500 ± 0.189**"],
        R16: ["16", "1e-5", "", "not run"],
        BASE: ["-", "-", "0.250 ± 0.164", ""],  # the older, proper log: the foreign one scored 0.625
    }
    assert f"Not run:\n\n- {R16}, epoch 1" in cap6


def test_metric_option_picks_a_scorer_and_an_unknown_one_writes_nothing(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["example"], EXAMPLE)

    done = collect_results(experiment, "--metric", "exact/mean", "--out", str(tmp_path / "exact"))
    assert done.returncode == 1, done.stderr
    cap = sections((tmp_path / "exact/results.md").read_text(encoding="utf-8"))[CAP]
    assert "`exact/mean` ± `exact/stderr`" in cap
    assert table_rows(cap)[R8][3] == "0.500 ± 0.189"  # 4 of 8 exactly right
    assert (tmp_path / "exact/capitalization_exact-mean.png").exists()

    lowest = collect_results(experiment, "--metric", "accuracy", "--lower-is-better", "--out", str(tmp_path / "low"))
    cap = sections((tmp_path / "low/results.md").read_text(encoding="utf-8"))[CAP]
    assert "`includes/accuracy`" in cap and "the best (lowest) in bold" in cap
    assert table_rows(cap)[BASE][2] == "**0.125 ± 0.125**"
    assert lowest.returncode == 1

    unknown = collect_results(experiment, "--metric", "f1", "--out", str(tmp_path / "none"))
    assert unknown.returncode == 2
    assert "no log of this experiment reports a metric 'f1'" in unknown.stderr and "includes/accuracy, includes/stderr, exact/mean" in unknown.stderr
    assert not (tmp_path / "none").exists()


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
                             "log_dir": cell["log_dir"], "metadata": cell["metadata"]}
                            for run in plan["runs"] for cell in run["cells"]]
    [row] = read_csv(experiment / "results/results.csv")
    assert (row["run"], row["LoRA Rank"], row["status"], row["includes/accuracy"]) == ("r8_lr1e-5", "8", "success", "0.75")
    assert sorted(path.name for path in (experiment / "results").glob("*.png")) == ["capitalization_includes-accuracy.png"]


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


def test_without_matplotlib_the_tables_are_written_and_the_plots_skipped(render, logs, tmp_path):
    experiment = rendered_with_logs(render, logs["example"], EXAMPLE)
    out = tmp_path / "out"
    done = collect_results(experiment, "--out", str(out), preamble="import sys; sys.modules['matplotlib'] = None")

    assert done.returncode == 1, done.stderr
    assert sorted(path.name for path in out.iterdir()) == ["results.csv", "results.md"]
    assert "plots skipped: matplotlib is not installed" in done.stderr
    assert len(read_csv(out / "results.csv")) == 8


def test_without_inspect_it_says_where_to_run_it(render, tmp_path):
    experiment = render(EXAMPLE)
    done = collect_results(experiment, preamble="import sys; sys.modules['inspect_ai'] = None")
    assert done.returncode == 2
    assert "run it in the evaluation environment" in done.stderr
    assert not (experiment / "results").exists()


# -- the plots, through matplotlib's objects ---------------------------------------------------


def test_plots_show_each_run_against_the_epoch_the_base_line_and_the_heatmap(render, logs):
    experiment = rendered_with_logs(render, logs["example"], EXAMPLE)
    script = load(experiment)
    rows = script.collect(lambda path: read_eval_log(str(path), header_only=True))
    metrics = {task: script.choose_metric(task_rows, None) for task, task_rows in script.tasks_of(rows).items()}
    figures = script.figures(rows, metrics)
    assert list(figures) == [
        "capitalization_includes-accuracy.png", "capitalization_includes-accuracy_heatmap.png",
        "capitalization_6L_includes-accuracy.png", "capitalization_6L_includes-accuracy_heatmap.png",
    ]

    [axes] = figures["capitalization_includes-accuracy.png"].axes
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("epoch", "accuracy")
    runs = {container.get_label(): container for container in axes.containers}
    assert list(runs) == [R8, R16]  # one line per run that has a result
    r8_line = runs[R8].lines[0]
    assert list(r8_line.get_xdata()) == [0, 1] and list(r8_line.get_ydata()) == [0.75, 0.75]
    assert list(runs[R16].lines[0].get_xdata()) == [0]  # epoch 1 failed: no point
    r8_bars = runs[R8].lines[2][0].get_segments()
    assert [tuple(segment[:, 1]) for segment in r8_bars] == [
        pytest.approx((0.75 - 0.1636634, 0.75 + 0.1636634)), pytest.approx((0.75 - 0.1636634, 0.75 + 0.1636634))]
    [base] = [line for line in axes.get_lines() if line.get_linestyle() == "--"]
    assert base.get_label() == f"{BASE} (base model)"
    assert list(base.get_ydata()) == [0.125, 0.125]
    assert [text.get_text() for text in axes.get_legend().get_texts()] == [R8, R16, f"{BASE} (base model)"]

    [axes6] = figures["capitalization_6L_includes-accuracy.png"].axes
    assert [container.get_label() for container in axes6.containers] == [R8]

    heat_axes = figures["capitalization_includes-accuracy_heatmap.png"].axes[0]
    [image] = heat_axes.get_images()
    grid = image.get_array()
    assert grid.shape == (2, 1)  # LoRA rank 8, 16 x learning rate 1e-5
    assert grid[0, 0] == 0.75  # r8 at its last epoch, 1
    assert numpy.ma.getmaskarray(grid)[1, 0]  # r16's epoch 1 failed: a blank square
    assert [text.get_text() for text in heat_axes.texts] == ["0.750\nepoch 1", "error\nepoch 1"]
    assert (heat_axes.get_ylabel(), heat_axes.get_xlabel()) == ("LoRA Rank", "Learning Rate")
    assert [label.get_text() for label in heat_axes.get_yticklabels()] == ["8", "16"]
    assert [label.get_text() for label in heat_axes.get_xticklabels()] == ["1e-5"]
    assert script.levels(["16", "8", "128", "8"]) == ["8", "16", "128"]  # rank 8 before 16
    assert script.levels(["high", "low"]) == ["high", "low"]


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
