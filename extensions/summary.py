"""Parser of experiment_summary.md: the experiment's plan as a person wrote it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .markdown import Document, Section, Table, normalize, read_source
from .values import ValueSyntaxError, path_value, text_value

FINE_TUNED = "fine-tuned"
BASE = "base"
# "Fine-tuned", "fine tuned (LoRA)", "Finetune"; "Control", "Base", "base model (control)".
_FINE_TUNED_TYPE = re.compile(r"\bfine[\s-]?tun")
_BASE_TYPE = re.compile(r"\b(control|base)\b")
# A Dataset cell that means "the training dataset".
_SAME_DATASET = re.compile(r"^(|-|same|same as training|training|train|default)$")
_NOT_FACTORS = {"est. time", "est time", "estimated time", "time", "notes", "note", "comments", "status", "job id"}
_DATA_SUFFIXES = (".json", ".jsonl", ".csv", ".parquet", ".txt", ".tsv")


@dataclass(frozen=True)
class RunRow:
    name: str
    model: str
    kind: str  # FINE_TUNED or BASE
    factors: dict[str, str]  # the columns between Model and Type: what the sweep varies


@dataclass(frozen=True)
class TaskRow:
    name: str
    script: str
    dataset: str | None  # a path to evaluate on instead of the training dataset


@dataclass(frozen=True)
class Summary:
    path: Path
    name: str
    runs: list[RunRow]
    factors: list[str]  # All Runs' column titles between Model and Type, as written
    models: dict[str, str]  # normalized model name -> path
    dataset_path: str | None
    tasks: list[TaskRow]
    plan_text: str
    matrix: Table | None
    epochs: int | None
    prompt: str | None
    system_prompt: str | None
    eval_system_prompt: str | None
    per_eval_minutes: float | None
    temperature: float | None  # Configuration → Evaluation
    max_tokens: int | None


def read_summary(path: Path) -> Summary:
    if not path.is_file():
        raise InputError(
            path,
            "experiment_summary.md not found",
            "run copier in the experiment directory that holds experiment_summary.md",
        )
    doc = Document(read_source(path))
    resources = doc.find("resources") or doc
    training = _sub(doc, "configuration", "training")
    plan_section = doc.find("evaluation plan")
    matrix_section = plan_section.find("evaluation matrix") if plan_section else None
    runs, factors = _runs(path, doc)
    return Summary(
        path=path,
        name=doc.title_line() or path.parent.name,
        runs=runs,
        factors=factors,
        models=_models(path, resources.find("models")),
        dataset_path=_bullet_path(resources.find("dataset"), "path"),
        tasks=_tasks(path, resources.find("evaluation tasks") or doc.find("evaluation tasks")),
        plan_text=plan_section.text() if plan_section else "",
        matrix=_first_table(matrix_section),
        epochs=_leading_int(training.bullet("epochs") if training else None),
        prompt=_quoted(path, training, "prompt", "training prompt"),
        system_prompt=_quoted(path, training, "system prompt"),
        eval_system_prompt=_quoted(path, _sub(doc, "configuration", "evaluation"), "system prompt"),
        per_eval_minutes=_per_eval_minutes(_sub(doc, "compute estimates", "evaluation")),
        temperature=_number(path, _sub(doc, "configuration", "evaluation"), "temperature"),
        max_tokens=_leading_int(_sub(doc, "configuration", "evaluation").bullet("max tokens", "max_tokens")
                                if _sub(doc, "configuration", "evaluation") else None),
    )


def _sub(doc: Document, section: str, subsection: str) -> Section | None:
    parent = doc.find(section)
    return parent.find(subsection) if parent else None


def _first_table(section: Section | None) -> Table | None:
    tables = section.tables() if section else []
    return tables[0] if tables else None


def _required_table(path: Path, section: Section | None, title: str, columns: dict) -> tuple:
    """The section's table and the index of each needed column, or an error saying which."""
    table = _first_table(section)
    if table is None:
        raise InputError(
            path,
            f"no '{title}' table",
            f"add a '## {title}' section with a Markdown table (see INPUTS.md)",
        )
    indexes = []
    for name, aliases in columns.items():
        index = table.column(*aliases)
        if index is None:
            raise InputError(
                path,
                f"the '{title}' table has no '{name}' column (its columns: {', '.join(table.header)})",
                f"add a '{name}' column to the '{title}' table",
            )
        indexes.append(index)
    return table, indexes


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def _runs(path: Path, doc: Document) -> tuple[list[RunRow], list[str]]:
    table, (name_at, model_at, type_at) = _required_table(
        path,
        doc.find("all runs"),
        "All Runs",
        {
            "Run Name": ("run name", "run", "name"),
            "Model": ("model", "base model"),
            "Type": ("type", "run type"),
        },
    )
    # The sweep's factors are All Runs' other columns (LoRA rank, learning rate, …), less
    # the ones that describe a run rather than set it.
    factor_at = [
        i for i, title in enumerate(table.header)
        if i not in (name_at, model_at, type_at) and title not in _NOT_FACTORS
    ]
    factors = [table.raw_header[i] for i in factor_at]
    runs = []
    for row in table.rows:
        name, kind = _cell(row, name_at), _cell(row, type_at)
        values = {factors[n]: _cell(row, i) for n, i in enumerate(factor_at)}
        runs.append(RunRow(name, _cell(row, model_at), _kind(path, name, kind), values))
    if not runs:
        raise InputError(path, "the All Runs table has no rows", "list every run in All Runs")
    return runs, factors


def _kind(path: Path, run: str, written: str) -> str:
    text = written.lower()
    if _FINE_TUNED_TYPE.search(text):
        return FINE_TUNED
    if _BASE_TYPE.search(text):
        return BASE
    raise InputError(
        path,
        f"run '{run}' has Type '{written}' in All Runs",
        "write Fine-tuned, Control or Base in its Type column",
    )


def _models(path: Path, section: Section | None) -> dict[str, str]:
    if section is None:
        return {}
    return {
        normalize(bullet.label): path_value(bullet.value)
        for bullet in section.bullets()
        if bullet.label and bullet.value
    }


def _bullet_path(section: Section | None, label: str) -> str | None:
    bullet = section.bullet(label) if section else None
    return path_value(bullet.value) or None if bullet else None


def _tasks(path: Path, section: Section | None) -> list[TaskRow]:
    table, (name_at, script_at) = _required_table(
        path,
        section,
        "Evaluation Tasks",
        {"Task Name": ("task name", "task", "name"), "Script": ("script", "task script", "file")},
    )
    dataset_at = table.column("dataset", "eval dataset", "evaluation dataset")
    tasks = []
    for row in table.rows:
        name, script = _cell(row, name_at), _cell(row, script_at)
        if not script:
            raise InputError(
                path,
                f"task '{name}' has no script path in Evaluation Tasks",
                "write the inspect task file (a .py path) in its Script column",
            )
        dataset = _cell(row, dataset_at) if dataset_at is not None else ""
        tasks.append(TaskRow(name, script, dataset if _is_path(dataset) else None))
    if not tasks:
        raise InputError(
            path, "the Evaluation Tasks table has no rows", "list the tasks to evaluate"
        )
    return tasks


def _is_path(dataset: str) -> bool:
    if _SAME_DATASET.match(dataset.lower()):
        return False
    return "/" in dataset or dataset.lower().endswith(_DATA_SUFFIXES)


def _quoted(path: Path, section: Section | None, *labels: str) -> str | None:
    bullet = section.bullet(*labels) if section else None
    if bullet is None:
        return None
    try:
        return text_value(bullet.value)
    except ValueSyntaxError as error:
        raise InputError(
            path,
            f"{section.title} → {bullet.label}: {error}",
            'write it as a double-quoted string with backslash escapes, e.g. "Answer: {input}\\n"',
        ) from None


def _number(path: Path, section: Section | None, label: str) -> float | None:
    bullet = section.bullet(label) if section else None
    if bullet is None:
        return None
    match = re.match(r"\s*`?(\d+(?:\.\d+)?)\b", bullet.value)
    if not match:
        raise InputError(
            path,
            f"Configuration → Evaluation → {label.capitalize()} {bullet.value!r} is not a number",
            "write it as a number, e.g. 0 or 0.7",
        )
    return float(match.group(1))


def _leading_int(bullet) -> int | None:
    match = re.match(r"\s*(\d+)\b", bullet.text.split(":", 1)[-1]) if bullet else None
    return int(match.group(1)) if match else None


_DURATION = re.compile(
    r"(\d+(?:\.\d+)?)(?:\s*(?:-|–|to)\s*(\d+(?:\.\d+)?))?\s*"
    r"(h|hr|hrs|hours?|m|min|mins|minutes?|s|sec|secs|seconds?)\b",
    re.IGNORECASE,
)


def _per_eval_minutes(section: Section | None) -> float | None:
    bullet = section.bullet("per-eval time", "per eval time", "time per eval") if section else None
    match = _DURATION.search(bullet.value) if bullet else None
    if not match:
        return None
    # A range ("20-30 minutes") is budgeted by its upper end.
    amount = float(match.group(2) or match.group(1))
    unit = match.group(3).lower()
    if unit.startswith("h"):
        return amount * 60
    if unit.startswith("s"):
        return amount / 60
    return amount
