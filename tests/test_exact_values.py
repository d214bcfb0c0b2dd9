"""Every data path, prompt and system prompt reaches the task function exactly, and every
cell's metadata reaches the log header exactly.

Each generated script runs under real bash with `inspect`, `module` and `conda` replaced by
recorders; the recorded argv and task-config file are decoded with inspect's own parsers:
`inspect_ai._cli.util.parse_cli_config`, which is what `inspect eval` hands the task, and
`inspect_ai._util.config.parse_cli_args`, which turns the `--metadata` options into the
log's `eval.metadata`. The recorder evaluates nothing and writes no log, so by the outcome
rule every script must then fail without a done mark (tests/test_outcome.py gives them
real logs).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inspect_ai._cli.eval import eval_command
from inspect_ai._cli.util import parse_cli_config
from inspect_ai._util.config import parse_cli_args

from extensions.fingerprint import cell_fingerprint
from tests.conftest import run_script, scripts
from tests.experiment import SITE, TASK_FILE, Experiment, Run

NASTY = [
    "{input}",
    "Capitalize the given word: {input}\n",
    "Question: {input}, answer yes or no",
    "",
    "true",
    "123",
    "null",
    "~",
    'say "hi" to {input}',
    "it's {input}",
    "$(touch PWNED) `touch PWNED` $HOME $1 !! * ? ${{HOME}}",
    "back\\slash, \\n not a newline, \\\\ two",
    "  leading and trailing spaces  ",
    "line one\nline two\n\nTASK_ARGS\nTASK_ARGS",
    "tab\there\r\nwindows line",
    "{\"json\": [1, 2], \"k\": {input}}",
    "- a list item",
    "key: value # not a comment",
    "&anchor *alias !tag %directive @at | > '",
    "unicode é 中文 🙂 \u0085 NEL \u2028 LS",
]


def _no_braces(text: str) -> str:
    return text.replace("{", "(").replace("}", ")")


def experiment_with(
    tmp_path: Path, values: list[str], base_prompt: str, base_system: str, title: str = "Capitalization LoRA sweep"
) -> Experiment:
    # Model paths with a space, $ and quotes (a comma is refused: -M would split it).
    checkpoints = tmp_path / "ck out $dollar 'quote'"
    base_model = tmp_path / "models" / "Llama 3.2 $1B 'base'"
    base_model.mkdir(parents=True)
    runs = [
        Run(
            f"run{index}",
            prompt=value,
            system_prompt=values[(index + 1) % len(values)],
            # A `{name}` in a path is a placeholder (refused unless a factor): paths keep no braces.
            input_dir_base=f"/data/{_no_braces(value.splitlines()[0]) if value.strip() else 'x'}/",
            output_dir_base=str(checkpoints),
        )
        for index, value in enumerate(values)
    ]
    for run in runs:
        (checkpoints / f"ck-out-{run.name}" / "epoch_0").mkdir(parents=True)
    return Experiment(
        runs=[*runs, Run("Llama-3.2-1B-Instruct_base", kind="Control")],
        models={"Llama-3.2-1B-Instruct": str(base_model)},
        dataset_path="/data/base set/it's $HOME.json",
        training_prompt=base_prompt,
        training_system_prompt=base_system,
        eval_system_prompt=base_system,
        site=SITE,
        title=title,
    )


def delivered(record: dict, tmp_path: Path) -> tuple[dict, dict, dict]:
    """(task args, model args, eval metadata) exactly as `inspect eval` would take them."""
    argv = record["argv"]
    config = tmp_path / "delivered-task-config.json"
    config.write_text(record["task_config"], encoding="utf-8")
    t_args = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-T"]
    m_args = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-M"]
    metadata = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--metadata"]
    return parse_cli_config(t_args, str(config)), parse_cli_config(m_args, None), parse_cli_args(metadata)


def expected_metadata(experiment: Experiment, run, script: Path) -> dict:
    base = run.kind != "Fine-tuned"
    return {
        "experiment": experiment.title,
        "run": run.name,
        "task": "capitalization",
        "epoch": "base" if base else 0,
        "kind": "base" if base else "fine-tuned",
        "cell": script.stem,
        "vis_label": run.name,
        "is_finetuned": not base,
        "source_model": run.model,
    }


def check_every_script(directory: Path, experiment: Experiment, recorders, tmp_path: Path) -> None:
    expected_runs = {run.name: run for run in experiment.runs}
    rendered = scripts(directory)
    assert len(rendered) == len(experiment.runs)
    for script in rendered:
        result, records = run_script(script, recorders)
        assert result.returncode == 1, result.stderr
        assert f"wrote no log for {script.stem} in {script.parent}/logs" in result.stderr
        assert not (script.parent / "logs" / f".{script.stem}.complete").exists()
        (record,) = records
        task_args, model_args, metadata = delivered(record, tmp_path)
        run = expected_runs[script.parent.parent.name]  # the tests' base runs end in _base
        if run.kind == "Fine-tuned":
            expected = {
                "data_path": f"{run.input_dir_base}{run.dataset_label}{run.dataset_ext}",
                "prompt": run.prompt,
                "system_prompt": run.system_prompt,
            }
            model_path = f"{run.output_dir_base}/ck-out-{run.name}/epoch_0"
        else:
            expected = {
                "data_path": experiment.dataset_path,
                "prompt": experiment.training_prompt,
                "system_prompt": experiment.training_system_prompt,
            }
            model_path = experiment.models["Llama-3.2-1B-Instruct"]
        assert task_args == expected, script
        assert model_args == {"model_path": model_path, "do_sample": False}
        # The fingerprint is the digest of what inspect received, computed again from it.
        decoding = yaml.safe_load((directory / ".copier-answers.yml").read_text())["plan"]["decoding"]
        fingerprint = cell_fingerprint(experiment_dir=str(directory), task_file=str(TASK_FILE), function="capitalization",
                                       model_path=model_path,
                                       device_auto=False, task_args=task_args, config=None, decoding=decoding)
        assert metadata == {**expected_metadata(experiment, run, script), "fingerprint": fingerprint}
        assert record["cwd"] == str(script.parent)
        assert record["hf_hub_offline"] == "1"
        assert record["argv"][:2] == ["eval", f"{TASK_FILE}@capitalization"]
    assert not list(directory.rglob("PWNED")), "a value was executed by bash"


# An experiment's name is a Markdown heading: one line, any other character.
NASTY_TITLE = """Sweep: "r8" vs 'r16' $HOME $(date) #1 {input} & true 123 \\ é 中文 🙂 \u2028 ~ - [x] null"""


def test_nasty_values_arrive_exactly(render, recorders, tmp_path):
    experiment = experiment_with(tmp_path, NASTY, NASTY[15], NASTY[13], title=NASTY_TITLE)
    directory = render(experiment)
    check_every_script(directory, experiment, recorders, tmp_path)


@pytest.mark.parametrize("value", NASTY, ids=range(len(NASTY)))
def test_base_prompts_from_the_summary_arrive_exactly(render, recorders, tmp_path, value):
    experiment = experiment_with(tmp_path, ["{input}"], value, value)
    check_every_script(render(experiment), experiment, recorders, tmp_path)


def test_environment_lines_run_with_the_runs_conda_env(render, recorders, tmp_path):
    experiment = experiment_with(tmp_path, ["{input}"], "{input}", "")
    experiment.runs[0].conda_env = "env with space"
    directory = render(experiment)
    for script in scripts(directory):
        run_script(script, recorders)
    log = (recorders[1] / "environment.log").read_text().splitlines()
    assert log == [
        "module load anaconda3/2025.6",
        "conda activate cruijff",  # the base run: the site's default environment
        "module load anaconda3/2025.6",
        "conda activate env with space",
    ]


@pytest.mark.parametrize("title", ["plain", "Sweep, with a comma", "1e-5", "yes", "a: b, c"])
def test_metadata_values_survive_inspects_parser(render, recorders, tmp_path, title):
    """A string stays a string ("yes", "1e-5" and "a: b" would not, unquoted). A comma cannot
    be protected: inspect splits every string on it (inspect_ai issue 5269), so the plan
    turns an experiment name's commas into semicolons, with a warning."""
    experiment = experiment_with(tmp_path, ["{input}"], "{input}", "", title=title)
    script = scripts(render(experiment))[0]
    _, (record,) = run_script(script, recorders)
    _, _, metadata = delivered(record, tmp_path)
    assert metadata["experiment"] == title.replace(",", ";")
    assert metadata["epoch"] == "base" if script.stem.endswith("_base") else metadata["epoch"] == 0


def test_a_missing_checkpoint_stops_the_script_before_inspect(render, recorders, tmp_path):
    experiment = Experiment(runs=[Run("r1", output_dir_base=str(tmp_path / "not-yet"))])
    (script,) = scripts(render(experiment))
    result, records = run_script(script, recorders)
    assert result.returncode == 1
    assert f"{tmp_path}/not-yet/ck-out-r1/epoch_0 does not exist" in result.stderr
    assert records == []
    failed = script.parent / "logs" / f".{script.stem}.failed"
    assert f"{tmp_path}/not-yet/ck-out-r1/epoch_0 does not exist" in failed.read_text()


# Braces doubled: a `{name}` is a placeholder, refused unless a factor; `{{` is a literal brace.
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40).map(lambda t: t.replace("{", "{{").replace("}", "}}"))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_TEXT, min_size=2, max_size=4), base_prompt=_TEXT, base_system=_TEXT)
def test_generated_values_arrive_exactly(render, recorders, tmp_path_factory, values, base_prompt, base_system):
    tmp_path = tmp_path_factory.mktemp("generated")
    experiment = experiment_with(tmp_path, values, base_prompt, base_system)
    check_every_script(render(experiment), experiment, recorders, tmp_path)


@pytest.mark.parametrize(
    "temperature,max_tokens,model_args,generate",
    [
        (None, None, {"do_sample": False}, {"temperature": None, "max_tokens": None}),
        ("0", "64", {"do_sample": False}, {"temperature": None, "max_tokens": 64}),
        ("0.7 (some variety)", "512", {"do_sample": True}, {"temperature": 0.7, "max_tokens": 512}),
        ("`1`", None, {"do_sample": True}, {"temperature": 1.0, "max_tokens": None}),
    ],
)
def test_decoding_reaches_inspect_as_its_own_cli_reads_it(render, recorders, tmp_path, temperature, max_tokens, model_args, generate):
    experiment = Experiment(
        runs=[Run("r1", output_dir_base=str(tmp_path / "ck"))], temperature=temperature, max_tokens=max_tokens
    )
    (tmp_path / "ck" / "ck-out-r1" / "epoch_0").mkdir(parents=True)
    (script,) = scripts(render(experiment))
    _, (record,) = run_script(script, recorders)  # no INSPECT_LOG: the eval itself fails, the argv is what counts
    # inspect's own click command parses the argv as `inspect eval` would.
    params = eval_command.make_context("eval", record["argv"][1:]).params
    assert {k: params[k] for k in generate} == generate
    assert parse_cli_config(list(params["m"]), None) == {"model_path": str(tmp_path / "ck/ck-out-r1/epoch_0"), **model_args}
