"""Guard for issue 12: every refusal the loader can raise has a test through the `copier` CLI.

A raise site is one `raise InputError(...)` (or `raise self._error(...)`, or the syntax errors
the summary's parser turns into InputErrors) in extensions/, named by its module and the
function around it. COVERAGE claims each site with a fragment of its own source text and the
CLI case that drives it. The claim is checked both ways: the fragment must be in that site's
source and no other site's, and in what the case asserts stderr holds (a case table's
expected texts, or a test's own source). So a claim cannot point at a case that shows
another message, and a new raise without a claim fails here.
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

from tests import (
    test_errors,
    test_hostile,
    test_input_errors_cli,
    test_interactive,
    test_lifecycle,
    test_yaml_errors_cli,
)

EXTENSIONS = Path(__file__).resolve().parent.parent / "extensions"
RAISED = {"InputError", "_error", "EpochSyntaxError", "_refuse", "ValueSyntaxError"}


@dataclass(frozen=True)
class Site:
    module: str
    function: str
    line: int
    source: str


class _Raises(ast.NodeVisitor):
    def __init__(self, module: str, text: str) -> None:
        self.module, self.text = module, text
        self.functions: list[str] = []
        self.sites: list[Site] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Raise(self, node: ast.Raise) -> None:
        call = node.exc
        if isinstance(call, ast.Call):
            name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
            if name in RAISED:
                function = self.functions[-1] if self.functions else "<module>"
                self.sites.append(Site(self.module, function, node.lineno, ast.get_source_segment(self.text, call)))
        self.generic_visit(node)


def raise_sites() -> list[Site]:
    sites = []
    for path in sorted(EXTENSIONS.glob("*.py")):
        visitor = _Raises(path.stem, path.read_text())
        visitor.visit(ast.parse(visitor.text))
        sites.extend(visitor.sites)
    return sites


# -- the evidence a claim points at ----------------------------------------------------------


@dataclass(frozen=True)
class InTable:
    """A case of a CLI table: (break the example, the texts stderr must hold)."""

    module: object
    name: str
    table: str = "CASES"

    def asserted(self) -> str:
        cases = getattr(self.module, self.table)
        return "\n".join(cases[self.name][1]) if self.name in cases else ""


@dataclass(frozen=True)
class InSource:
    """A CLI test (or a setup one runs) whose own source holds the message it asserts."""

    function: object

    def asserted(self) -> str:
        name = self.function.__name__
        assert name.startswith("test_") or self.function in test_lifecycle.NOT_FITTING, name
        return inspect.getsource(self.function)


def E(name: str) -> InTable:
    return InTable(test_errors, name)


def I(name: str) -> InTable:  # noqa: E743 (read as "input errors")
    return InTable(test_input_errors_cli, name)


def U(name: str) -> InTable:
    return InTable(test_input_errors_cli, name, "AS_ANOTHER_USER")


def Y(name: str) -> InTable:
    return InTable(test_yaml_errors_cli, name)


L = test_lifecycle

COVERAGE: dict[tuple[str, str, str], Case | Test] = {
    # The checks before anything is written (checks.py).
    ("checks", "check_destination", "the plan was not confirmed"): InSource(test_interactive.test_answering_no_writes_nothing),
    ("checks", "before_copy", "is empty (a copy stopped while Copier wrote it?)"):
        InSource(L.test_an_empty_answers_file_is_refused_by_name_on_a_copy),
    ("checks", "_refuse_relative_template", "which Copier would record here"):
        InSource(L.test_a_template_given_as_a_relative_path_is_refused_with_its_absolute_path),
    ("checks", "_check_same_plan", "rendered from another plan"): InSource(L.test_a_copy_that_would_change_the_plan_is_refused_before_anything_changes),
    ("checks", "_check_length", "and this file system allows"): InSource(L._long_path),
    ("checks", "check_logs", ": the logs inspect writes for it "): InSource(L._log_path_too_long),
    ("checks", "_directory_fits", "outside the experiment (a symbolic link)"): InSource(L._run_dir_links_outside),
    ("checks", "_directory_fits", "is a file where the template puts a directory"): InSource(L._eval_is_a_file),
    ("checks", "_file_fits", "is a directory or a special file"): InSource(L._script_is_a_directory),
    ("checks", "_writable", "is not writable by you"): U("experiment-read-only"),
    ("checks", "_refuse_files_not_rendered", "exists and was not rendered by this template"): InSource(L._hand_written_script),
    ("source", "refuse_link_loop", "is a symbolic link in a loop"): InSource(L._eval_dir_link_loop),
    ("checks", "_check_printed_values", "is not a whole number"): InTable(test_hostile, "epoch", "TAMPERED"),
    ("checks", "_check_paths", "is not the protocol's {path!r}"): InTable(test_hostile, "done-mark", "TAMPERED"),
    ("checks", "_check_paths", ": config_file "):
        InSource(test_yaml_errors_cli.test_a_tampered_config_file_path_is_refused_before_anything_is_written),
    ("checks", "_check_printed_values", "the recorded plan (this answers file, or the one given with --data-file) "):
        InSource(test_hostile.test_a_tampered_recorded_plan_is_refused_before_anything_is_written),
    # Input files as bytes (source.py), and names (names.py).
    ("source", "read_source", "cannot be read: "): U("setup-unreadable"),
    ("source", "read_source", "is not UTF-8 text"): I("summary-not-utf8"),
    ("names", "check_safe", "is not one safe path component"): E("run-name-dotdot"),
    ("names", "check_length", "characters long"): I("run-name-300"),
    # experiment_summary.md (summary.py, with epochs.py and values.py).
    ("summary", "_runs", "no 'All Runs' table"): E("no-all-runs"),
    ("summary", "_runs", "the All Runs table has no rows"): I("all-runs-empty"),
    ("summary", "_runs", "is listed twice in All Runs"): E("run-listed-twice"),
    ("summary", "_columns", "table has no '"): E("no-type-column"),
    ("summary", "_kind", "in All Runs, which says"): I("type-both"),
    ("summary", "_runs", "has an empty Model cell in All Runs"): I("model-cell-empty"),
    ("summary", "_sub", "merge them into one"): I("two-training-sections"),
    ("summary", "_tasks", "no 'Evaluation Tasks' table"): E("no-evaluation-tasks"),
    ("summary", "_tasks", "has no script path in Evaluation Tasks"): E("task-without-script"),
    ("summary", "_tasks", "the Evaluation Tasks table has no rows"): I("tasks-empty"),
    ("summary", "_tasks", "is listed twice in Evaluation Tasks"): I("task-listed-twice"),
    ("summary", "_plan_epochs", "name the epochs to evaluate, e.g. 'epochs 0 and 2'"): I("plan-range-too-long"),
    ("summary", "_plan_epochs", "Evaluation Plan → Configuration → "): I("epochs-to-evaluate-unreadable"),
    ("summary", "_refuse_negated_tasks", "next to {negation!r}"): I("plan-text-negated-task"),
    ("summary", "_refuse_per_task_epochs", "pairs tasks with different epochs"): I("plan-text-per-task-epochs"),
    ("summary", "_matrix", "the Evaluation Matrix has no 'Run Name' column"): E("matrix-without-run-name"),
    ("summary", "_matrix", "cells and its header"): I("matrix-row-short"),
    ("summary", "_matrix", "the Evaluation Matrix gives run "): I("matrix-run-twice"),
    ("summary", "_matrix", "Evaluation Matrix, run "): I("bare-x-cell"),
    ("summary", "_matrix", "which is not a run in All Runs"): I("matrix-run-typo"),
    ("summary", "_epochs", "Configuration → Epochs is "): I("summary-epochs-zero"),
    ("summary", "_quoted", "write it as a double-quoted string"): I("prompt-unclosed-quote"),
    ("summary", "_temperature", "Configuration → Evaluation → Temperature "): E("temperature-not-a-number"),
    ("summary", "_max_tokens", "Max tokens "): I("max-tokens-zero"),
    ("summary", "_per_eval_minutes", "is more than 14 days"): I("per-eval-absurd"),
    ("summary", "_per_eval_minutes", "write one duration, e.g. "): I("per-eval-partly-read"),
    ("epochs", "_numbers", "spans more than"): I("plan-range-too-long"),
    ("epochs", "read_matrix_cell", "is ambiguous: an x is a check mark"): I("bare-x-cell"),
    ("epochs", "read_matrix_cell", "is neither a check mark, epochs, nor a '-'"): I("matrix-cell-unreadable"),
    ("epochs", "read", "'or' leaves the choice open"): I("epoch-cell-or"),
    ("epochs", "_negation", "does not say which epochs to leave out"): I("epoch-cell-not-all"),
    ("epochs", "_refuse_vague", "epochs cannot be read exactly"): I("epoch-cell-every-other"),
    ("epochs", "_selection", "could be a count or an epoch number"): I("epoch-cell-last-2"),
    ("epochs", "_selection", "'epoch' without a number"): I("epoch-cell-noun-alone"),
    ("epochs", "_selection", "is not an epoch word"): I("epoch-cell-stray-word"),
    ("epochs", "_numbers", "a range takes a number at each end"): I("epoch-cell-open-range"),
    ("epochs", "_read_phrase", " excludes every epoch"): I("epoch-cell-excludes-all"),
    ("epochs", "_illustrated", "say which epochs to evaluate once"): I("epoch-cell-illustration-differs"),
    ("epochs", "_selection", "a number that is not after 'epoch'"): I("epoch-text-stray-number"),
    ("epochs", "_read_phrase", ": cannot read "): I("epoch-text-unread-rest"),
    ("epochs", "read_epochs", "before the epochs leaves unclear which are evaluated"): I("epoch-text-negated"),
    ("epochs", "read_epochs", "the plan both evaluates and skips epoch"): I("epoch-text-evaluates-and-skips"),
    ("epochs", "_selection", "is a period, not a set of epochs"): I("epoch-cell-period"),
    ("epochs", "read_epoch_value", "and, in parentheses, "): I("epoch-cell-remark-differs"),
    ("epochs", "_refuse_unread_numbers", "epoch numbers written in a form not understood"): I("epoch-text-bracketed"),
    ("values", "_quoted_prefix", "has no closing quote"): I("prompt-unclosed-quote"),
    ("values", "text_value", "is not a valid quoted string"): I("prompt-bad-escape"),
    ("values", "_straightened", "has straight quotes inside typographic ones"): I("prompt-typographic-around-straight"),
    # setup_finetune.yaml (finetune.py).
    ("finetune", "read_finetune_setup", "setup_finetune.yaml not found"): E("no-setup"),
    ("finetune", "read_finetune_setup", "input_formatting is empty (null)"): I("input-formatting-null"),
    ("finetune", "read_finetune_setup", "without its leading dot"): I("dataset-ext-without-dot"),
    ("finetune", "read_finetune_setup", "dataset_type is "): I("dataset-type-unknown"),
    ("finetune", "load_yaml_mapping", "fix the YAML syntax there"): E("bad-yaml"),
    ("finetune", "load_yaml_mapping", "not valid YAML: "): I("setup-control-character"),
    ("finetune", "load_yaml_mapping", "is not a mapping of settings"): I("setup-empty"),
    ("finetune", "text", "{key}: '...'"): I("setup-prompt-a-number"),
    ("finetune", "nonempty", "or delete the line"): I("input-dir-base-blank"),
    ("finetune", "parsed", "which is none of the forms {_TOOL} takes"): I("epochs-to-save-unreadable"),
    ("finetune", "epochs", "e.g. epochs: 2"): I("setup-epochs-zero"),
    ("finetune", "_word", "quote it as it should read"): I("setup-conda-env-a-float"),
    ("finetune", "epochs", "epochs is {epochs}, more than the limit of"): I("epochs-absurd"),
    # finetune.yaml, as setup_finetune.py wrote it (finetune_config.py).
    ("finetune_config", "text", "not a path"): I("config-output-dir-a-number"),
    ("finetune_config", "read_finetune_config", "refers to a value this file does not hold"): I("config-output-dir-unresolved"),
    ("finetune_config", "_epochs", "training epochs (rerun setup_finetune.py)"): I("config-epochs-zero"),
    ("finetune_config", "_parsed", "which the fine-tuning recipe cannot read"): I("config-epochs-to-save-unreadable"),
    # finetune.slurm (finetune_job.py).
    ("finetune_job", "read_finetune_job_name", "close the quote in this #SBATCH line"): I("finetune-slurm-unclosed-quote"),
    # claude.local.md (site.py), and the #SBATCH header (sbatch.py).
    ("site", "_extra_sbatch", "Extra sbatch options {text!r}"): I("extra-sbatch-unclosed-quote"),
    ("site", "_extra_sbatch", "is not of the form --option=value"): I("extra-sbatch-not-an-option"),
    ("site", "_extra_sbatch", "is set per script by the template"): I("extra-sbatch-job-name"),
    ("site", "read_site", "continues on the next line"): I("module-line-continued"),
    ("site", "_max_jobs", "SLURM Defaults → max jobs "): I("max-jobs-unreadable"),
    ("site", "_cap", "write the most a retried evaluation job may ask for"): I("max-time-unreadable"),
    ("sbatch", "checked", "is not an sbatch option name"): I("extra-sbatch-capitals"),
    ("sbatch", "checked", "is not one plain word"): E("bad-account-in-setup"),
    # The plan (plan.py, precedence.py).
    ("plan", "plan_experiment", "evaluation cells, more than the"): E("too-many-cells"),
    ("plan", "_check_run_dirs", "two runs would share the directory"): E("runs-sharing-a-directory"),
    ("plan", "_check_run_dirs", "is where collect_results.py writes the tables and plots"): E("run-named-results"),
    ("plan", "epochs", "epochs are 0-indexed"): Y("matrix-epoch-outside"),
    ("plan", "epochs", "that leave at least one to evaluate"): I("epoch-cell-leaves-none"),
    ("plan", "_fine_tuned_run", "is to be evaluated at epoch"): E("epoch-not-saved"),
    ("plan", "_run", "has no conda environment"): E("no-conda-env"),
    ("plan", "_check_model_arg", "would reach inspect's -M model_path altered"): E("model-path-with-comma"),
    ("precedence", "checkpoints", "no output_dir_base, and neither"): E("checkpoints-nowhere"),
    ("precedence", "training_data", "no input_dir_base or dataset_label"): I("training-data-nowhere"),
    ("precedence", "base_model_path", "which has no path under "): E("base-model-without-path"),
    ("precedence", "base_text", "needs a {what}"): E("base-run-without-prompt"),
    ("precedence", "design_checkpoints", "says nowhere where run"): Y("checkpoints-nowhere"),
    ("precedence", "design_data", "no data to evaluate on"): Y("data-nowhere"),
    ("precedence", "yaml_decoding", "evaluation.do_sample is true but temperature"): Y("do-sample-without-temperature"),
    # experiment_summary.yaml (summary_yaml.py), and which design file (experiment.py).
    ("experiment", "summary_path", "is in this directory"): Y("no-summary"),
    ("summary_yaml", "_mapping", "has no `{where}{key}:` section"): Y("experiment-missing"),
    ("summary_yaml", "_mapping", "not a mapping of keys"): Y("output-not-a-mapping"),
    ("summary_yaml", "_list", "list of items "): Y("runs-missing"),
    ("summary_yaml", "_list", "as a list of `- ` items"): Y("runs-not-a-list"),
    ("summary_yaml", "_text", " is missing, and is required"): Y("run-model-missing"),
    ("summary_yaml", "_text", "put the value in quotes exactly as you mean it"): Y("prompt-a-number"),
    ("summary_yaml", "_number", "write {wanted} of at least"): Y("seed-negative"),
    ("summary_yaml", "_flag", "not true or false"): Y("do-sample-yes"),
    ("summary_yaml", "_run_checkpoints", "is not of the form '…{{run_name}}…/epoch_{{N}}'"): Y("checkpoint-pattern-without-epoch"),
    ("summary_yaml", "_run_checkpoints", "is relative, and output.base_directory is missing"): Y("checkpoint-pattern-relative"),
    ("summary_yaml", "_training_epochs", "exceeds the limit of"): Y("epochs-absurd"),
    ("summary_yaml", "_dataset_type", "is not one cruijff_kit writes"): Y("dataset-type-chat"),
    ("summary_yaml", "_models", "write each model as"): Y("model-not-a-mapping"),
    ("summary_yaml", "_scorers", "write a list of `- name: …` items"): Y("scorers-a-number"),
    ("summary_yaml", "_scorers", "has the item "): Y("scorer-without-name"),
    ("summary_yaml", "_scorers", "write params as a mapping"): Y("scorer-params-a-list"),
    ("summary_yaml", "_compute", "evaluation.compute.time is "): Y("compute-time-in-words"),
    ("summary_yaml", "_compute", "evaluation.compute.mem is "): Y("compute-mem-lots"),
    ("summary_yaml", "_runs", "the runs list is empty"): Y("runs-empty"),
    ("summary_yaml", "_runs", "write each run as"): Y("run-not-a-mapping"),
    ("summary_yaml", "_runs", "is listed twice in runs"): Y("run-listed-twice"),
    ("summary_yaml", "_runs", "has type "): Y("run-type-finetuned"),
    ("summary_yaml", "_run", "has no parameters.checkpoint_path"): Y("eval-only-without-checkpoint"),
    ("summary_yaml", "_tasks", "evaluation.tasks is empty"): Y("tasks-empty"),
    ("summary_yaml", "_tasks", "write each task as"): Y("task-not-a-mapping"),
    ("summary_yaml", "_tasks", "is listed twice in evaluation.tasks"): Y("task-listed-twice"),
    ("summary_yaml", "_tasks", "has both dataset and eval_condition"): Y("task-dataset-and-eval-condition"),
    ("summary_yaml", "_tasks", "but data.training.path is missing"): Y("dataset-same-without-training-data"),
    ("experiment", "_generated_data", "but there is no "): Y("eval-condition-without-data-generation"),
    ("experiment", "_generated_data", "whose file cruijff_kit writes under the scratch "): Y("eval-condition-without-scratch"),
    ("generated_data", "_settings", "is not a condition of data.data_generation"): Y("eval-condition-unknown"),
    ("generated_data", "_settings", "not a mapping of condition names"): Y("generation-conditions-a-list"),
    ("generated_data", "_settings", "not a mapping of its settings"): Y("generation-condition-a-list"),
    ("generated_data", "_settings", "data.data_generation.target is"): Y("generation-target-a-word"),
    ("generated_data", "_check_settings", "not a YAML list"): Y("generation-features-a-string"),
    ("generated_data", "_check_settings", "not a number"): Y("generation-threshold-in-words"),
    ("generated_data", "_file_sha256", "cannot be read ("): Y("generation-source-unreadable"),
    ("generated_data", "_file_sha256", "which names the generated files"): Y("generation-without-schema"),
    ("summary_yaml", "_matrix", "write each entry as"): Y("matrix-entry-not-a-mapping"),
    ("summary_yaml", "_matrix", "is not a run in runs"): Y("matrix-run-typo"),
    ("summary_yaml", "_matrix", "write the task names as a list"): Y("matrix-tasks-a-number"),
    ("summary_yaml", "_matrix", "which is not in evaluation.tasks"): Y("matrix-task-unknown"),
    ("summary_yaml", "_matrix", "evaluation.matrix lists run "): Y("matrix-run-task-twice"),
    ("summary_yaml", "_epochs", "write the 0-indexed epochs to evaluate as a list"): Y("matrix-fine-tuned-epochs-null"),
    # Task files and the task contract (experiment.py, contract.py), placeholders (placeholders.py).
    ("experiment", "_task_file", "cannot be read as an inspect task file"): Y("task-file-syntax-error"),
    ("experiment", "_task_file", "must be an inspect task file"): Y("task-script-a-directory"),
    ("experiment", "_task_file", "is not FILE.py@NAME"): Y("task-script-empty-name"),
    ("contract", "resolve_function", "has no @task named "): Y("task-function-unknown"),
    ("contract", "deliver", "which the plan does not fill"): Y("task-requires-a-parameter"),
    ("contract", "check_decoding", "a task's own generate config wins"): Y("task-hard-codes-the-temperature"),
    ("contract", "deliver", "only a task with a config_path parameter reads them"): Y("scorers-to-a-task-without-config-path"),
    ("placeholders", "replace", "write the value itself, or a placeholder named after something the run sets"): Y("dataset-placeholder-not-a-factor"),
}


def _claimed_sites(sites: list[Site]) -> dict[tuple[str, str, str], list[Site]]:
    return {
        claim: [s for s in sites if (s.module, s.function) == claim[:2] and claim[2] in s.source]
        for claim in COVERAGE
    }


def literal(fragment: str) -> str:
    """The longest piece of a claim's fragment that reaches the message as written: the
    text between an f-string's placeholders, without the quotes around it."""
    pieces = re.split(r"\{[^}]*\}", fragment)
    return max((piece.strip('"') for piece in pieces), key=len)


def test_every_site_is_claimed_once():
    sites = raise_sites()
    claimed = _claimed_sites(sites)
    assert {claim: [s.line for s in found] for claim, found in claimed.items() if len(found) != 1} == {}
    assert [s for s in sites if not any(s in found for found in claimed.values())] == []


def test_each_claim_names_its_site_alone():
    """A claim's literal is in one raise site's source of all, so a message holding it came
    from that site."""
    sites = raise_sites()
    where = {claim: [f"{s.module}:{s.line}" for s in sites if literal(claim[2]) in s.source] for claim in COVERAGE}
    assert {claim: found for claim, found in where.items() if len(found) != 1} == {}


def test_each_claimed_case_asserts_its_sites_message():
    missing = {claim: evidence for claim, evidence in COVERAGE.items() if literal(claim[2]) not in evidence.asserted()}
    assert missing == {}
