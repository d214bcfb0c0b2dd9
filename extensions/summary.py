"""Parser of experiment_summary.md: the experiment's plan as a person wrote it.

cruijff_kit's design-experiment skill wrote two layouts (docs/INPUTS.md shows both): the
November 2025 one, with `### Training`/`### Evaluation`/`### Output` under Configuration,
and the October 2025 one, with an `Experiment:` title, a `Models Used` list, check marks
after paths, `Epochs to evaluate` under the Evaluation Plan, a Configuration without
sub-sections, a "Per evaluation" time and a `## Status` section. Every value is looked for
where either layout puts it; the Evaluation Plan (text, bullet and matrix) is interpreted
here, so the plan receives runs, tasks and epochs, not prose.
"""

from __future__ import annotations

import re
from pathlib import Path

from .epochs import MAX_EPOCHS, EpochChoice, EpochSyntaxError, MatrixCell, read_epoch_value, read_epochs, read_matrix_cell
from .errors import InputError
from .model import BASE, FINE_TUNED, MARKDOWN, RunRow, Summary, TaskRow, split_script
from .markdown import Bullet, Document, Section, Table, inline_text, normalize, split_label
from .names import check_name, nearest
from .notes import Warnings
from .paths import missing_here
from .source import read_source
from .values import ValueSyntaxError, is_placeholder, path_value, text_value
from .values import quoting as values_quoting  # a local `quoting` reads better in _quoted

NOVEMBER = "november"
OCTOBER = "october"
REFERENCE = "docs/INPUTS.md"
# A per-eval estimate above two weeks is a typo (9,999,999 hours once became a 20-million-hour
# `--time`); the limit is here.
MAX_PER_EVAL_MINUTES = 14 * 24 * 60

# Type column: "Fine-tuned", "fine tuned (LoRA)", "Finetune"; "Control", "Base",
# "Base (not fine-tuned)", "base model (control)", "Not fine-tuned".
_FINE_TUNED_TYPE = re.compile(r"\bfine[\s-]?tun|\bfinetun")
_NOT_FINE_TUNED = re.compile(r"\b(?:not|no|non|without|un)[\s-]*(?:fine[\s-]?tun|finetun)\w*|\buntuned\b")
_BASE_TYPE = re.compile(r"\b(control|base|baseline)\b")
# A Dataset cell that means "the training dataset".
_SAME_DATASET = re.compile(r"^(|-|same|same as training|training|train|default)$")
_DATA_SUFFIXES = (".json", ".jsonl", ".csv", ".parquet", ".txt", ".tsv")
# Matrix and All Runs columns that carry remarks, not tasks or factors.
_REMARK_COLUMNS = ("notes", "note", "comments", "comment", "remarks", "remark", "description")


def read_summary(path: Path, warnings: Warnings) -> Summary:
    return _Reader(path, Document(read_source(path)), warnings).summary()


class _Reader:
    def __init__(self, path: Path, doc: Document, warnings: Warnings) -> None:
        self.path = path
        self.doc = doc
        self.warnings = warnings
        self.october: list[str] = []  # the October layout's marks found, for `layout`
        self.resources = doc.find("resources") or doc
        self.config = doc.find("configuration")
        self.plan = doc.find("evaluation plan")
        self.plan_config = self.plan.find("configuration") if self.plan else None

    def summary(self) -> Summary:
        runs, factors = self._runs()
        tasks = self._tasks()
        models, models_dir = self._models()
        training = self._sub(self.config, "training")
        evaluation = self._sub(self.config, "evaluation")
        output = self._sub(self.config, "output")
        plan_text, plan_epochs, text_tasks, matrix = self._evaluation_plan(runs, tasks)
        dataset_path = self._path_bullet(
            "Resources → Dataset", [self.resources.find("dataset", "datasets")], "path", "location", "file"
        )
        if dataset_path:
            self._check_local("Resources → Dataset → Path", dataset_path)
        values = dict(
            path=self.path,
            title=self._title(),
            runs=runs,
            factors=factors,
            models=models,
            models_dir=models_dir,
            dataset_path=dataset_path,
            tasks=tasks,
            plan_text=plan_text,
            plan_epochs=plan_epochs,
            text_tasks=text_tasks,
            matrix=matrix,
            epochs=self._epochs([training, self.config]),
            prompt=self._quoted([training, self.config], "prompt", "training prompt", "prompt template"),
            system_prompt=self._quoted([training, self.config], "system prompt", "training system prompt"),
            eval_system_prompt=self._quoted([evaluation, self.plan_config], "system prompt", "evaluation system prompt"),
            temperature=self._temperature([evaluation, self.plan_config, self.config]),
            max_tokens=self._max_tokens([evaluation, self.plan_config, self.config]),
            checkpoint_dir=self._path_bullet(
                "Configuration → Output", [output, self.config],
                "checkpoint directory", "checkpoints directory", "checkpoint dir", "output directory", "output dir",
            ),
            per_eval_minutes=self._per_eval_minutes(),
        )
        # Read last: the October marks are noted while the values are read.
        layout = OCTOBER if self.october or self.doc.find("status") else NOVEMBER
        return Summary(layout=layout, format=MARKDOWN, **values)

    # -- helpers ---------------------------------------------------------------------------

    def _sub(self, section: Section | None, title: str) -> Section | None:
        """The one sub-section `title`; two of them would make a value depend on which is read."""
        if section is None:
            return None
        found = [s for s in section.find_all(title) if s.level == section.level + 1] or section.find_all(title)
        if len(found) > 1:
            raise self._error(
                f"Configuration has {len(found)} '### {found[0].title}' sections",
                f"merge them into one '### {found[0].title}' section",
            )
        return found[0] if found else None

    @staticmethod
    def _bullet(sections: list[Section | None], *labels: str) -> Bullet | None:
        """The first bullet with one of `labels`, in the first of `sections` that has one."""
        for section in sections:
            bullet = section.bullet(*labels) if section else None
            if bullet is not None:
                return bullet
        return None

    def _error(self, problem: str, fix: str) -> InputError:
        return InputError(self.path, problem, fix)

    def _title(self) -> str | None:
        title = self.doc.title_line()
        stripped = re.sub(r"^experiment\s*:\s*", "", title, flags=re.IGNORECASE)
        if stripped != title:
            self.october.append("title")
        return stripped.strip() or None

    # -- All Runs ----------------------------------------------------------------------------

    def _runs(self) -> tuple[list[RunRow], list[str]]:
        """Every row of every table under every `## All Runs`: runs split over two tables, or
        a second All Runs section, are all read."""
        tables = [table for section in self.doc.continued("all runs") for table in section.tables()]
        if not tables:
            raise self._error("no 'All Runs' table", f"add a '## All Runs' section with a Markdown table (see {REFERENCE})")
        factors: list[str] = []
        rows: list[tuple[str, str, str, dict[str, str]]] = []
        for table in tables:
            name_at, model_at, type_at = self._columns(table, "All Runs", {
                "Run Name": ("run name", "run", "name"),
                "Model": ("model", "base model"),
                "Type": ("type", "run type"),
            })
            low, high = sorted((model_at, type_at))
            own = [i for i in range(low + 1, high) if i != name_at and table.header[i] not in _REMARK_COLUMNS]
            factors.extend(table.raw_header[i] for i in own if table.raw_header[i] not in factors)
            for row in table.rows:
                values = {table.raw_header[i]: _cell(row, i) for i in own}
                rows.append((_cell(row, name_at), _cell(row, model_at), _cell(row, type_at), values))
        if not rows:
            raise self._error("the All Runs table has no rows", "list every run in All Runs")
        runs = []
        seen = set()
        for name, model, kind, values in rows:
            check_name(self.path, "run", name)
            if name in seen:
                raise self._error(f"run {name!r} is listed twice in All Runs", "give each run its own name, in one row")
            seen.add(name)
            if model in ("", "-", "–", "—"):
                # The scripts are sized by the model's name: an empty one would size them for 1B.
                raise self._error(f"run {name!r} has an empty Model cell in All Runs ({model!r})",
                                  "write the run's model as Resources → Models names it, e.g. Llama-3.2-1B-Instruct")
            runs.append(RunRow(name, model, self._kind(name, kind), {f: values.get(f, "") for f in factors}))
        return runs, factors

    def _columns(self, table: Table, title: str, columns: dict) -> list[int]:
        """The index of each needed column, or an error saying which is missing."""
        indexes = []
        for name, aliases in columns.items():
            index = table.column(*aliases)
            if index is None:
                raise self._error(
                    f"the '{title}' table has no '{name}' column (its columns: {', '.join(table.raw_header)})",
                    f"add a '{name}' column to the '{title}' table",
                )
            indexes.append(index)
        return indexes

    def _kind(self, run: str, written: str) -> str:
        # "Fine‑tuned" with a non-breaking or typographic hyphen is the word people typed.
        text = re.sub(r"[\u2010-\u2015\u2212\u00ad]", "-", written.lower())
        # A remark in parentheses ("Base (not fine-tuned)", "Fine-tuned (LoRA)") explains
        # the word before it; the word decides.
        main = re.sub(r"\([^)]*\)", " ", text).strip() or text
        negated = bool(_NOT_FINE_TUNED.search(main))
        fine_tuned = bool(_FINE_TUNED_TYPE.search(_NOT_FINE_TUNED.sub(" ", main)))
        base = bool(_BASE_TYPE.search(main)) or negated
        if fine_tuned != base:
            return FINE_TUNED if fine_tuned else BASE
        raise self._error(
            f"run '{run}' has Type '{written}' in All Runs, which says "
            + ("both fine-tuned and base" if fine_tuned else "neither Fine-tuned nor Control/Base"),
            "write Fine-tuned for a run that is trained, or Base (or Control) for a model "
            "evaluated without fine-tuning, in its Type column",
        )

    # -- Resources ---------------------------------------------------------------------------

    def _models(self) -> tuple[dict[str, str], str | None]:
        section = self.resources.find("models", "model")
        if section is None:
            return {}, None
        models: dict[str, str] = {}
        models_dir = None
        entries: list[Bullet] = []
        for bullet in section.bullets():
            if bullet.label in ("location", "models directory", "models dir", "directory"):
                models_dir = path_value(bullet.value) or None
                self.october.append("models location")
            elif bullet.label in ("models used", "models", "available models"):
                self.october.append("models used")
                entries.extend(bullet.children)
            else:
                entries.append(bullet)
        if models_dir and is_placeholder(models_dir):
            self.warnings.add(f"{self.path}: Resources → Models → Location {models_dir!r} is a placeholder: ignored")
            models_dir = None
        for entry in entries:
            name = _model_name(entry)
            if not name:
                continue
            where = entry.value if entry.value else (_child(entry, "path", "location") or Bullet("")).value
            model_path = path_value(where) if where else ""
            if model_path and is_placeholder(model_path):
                self.warnings.add(f"{self.path}: Resources → Models → {name}: {model_path!r} is a placeholder: ignored")
                continue
            if not model_path and models_dir:
                model_path = f"{models_dir.rstrip('/')}/{name}"
                self.warnings.add(
                    f"{self.path}: Resources → Models lists {name} without a path: "
                    f"taking {model_path} (Location + name)"
                )
            if model_path:
                models[normalize(name)] = model_path
        return models, models_dir

    def _path_bullet(self, where: str, sections: list[Section | None], *labels: str) -> str | None:
        bullet = self._bullet(sections, *labels)
        value = path_value(bullet.value) if bullet else ""
        if value and is_placeholder(value):
            self.warnings.add(f"{self.path}: {where} → {bullet.written_label}: {value!r} is a placeholder: ignored")
            return None
        return value or None

    def _check_local(self, where: str, path: str) -> None:
        """Data missing where it can be looked for (its directory is on this machine, as the
        experiment's own is) would fail each evaluation of it after its wait for a GPU."""
        resolved = None if is_placeholder(path) else missing_here(self.path.parent, path)
        if resolved is not None:
            self.warnings.add(f"{self.path}: {where} {path!r} is {resolved}, which does not exist: "
                              "the evaluations of it would fail to read it")

    def _tasks(self) -> list[TaskRow]:
        sections = self.resources.find_all("evaluation tasks") or self.doc.find_all("evaluation tasks")
        tables = [table for section in sections for table in section.tables()]
        if not tables:
            raise self._error(
                "no 'Evaluation Tasks' table",
                f"add a '### Evaluation Tasks' section with a Markdown table (see {REFERENCE})",
            )
        tasks = []
        for table in tables:
            name_at, script_at = self._columns(table, "Evaluation Tasks", {
                "Task Name": ("task name", "task", "name"),
                "Script": ("script", "task script", "file"),
            })
            dataset_at = table.column("dataset", "eval dataset", "evaluation dataset")
            for row, raw in zip(table.rows, table.raw_rows):
                name = _cell(row, name_at)
                # Paths are read from the source: "`cap_task.py` ✓" is the path and a mark.
                script = path_value(_cell(raw, script_at))
                if not script:
                    raise self._error(
                        f"task '{name}' has no script path in Evaluation Tasks",
                        "write the inspect task file (a .py path) in its Script column",
                    )
                dataset = None
                if dataset_at is not None and _is_path(_cell(row, dataset_at)):
                    dataset = path_value(_cell(raw, dataset_at))
                    self._check_local(f"Evaluation Tasks → {name} → Dataset", dataset)
                script, function = split_script(script)
                tasks.append(TaskRow(name, script, dataset, function))
        if not tasks:
            raise self._error("the Evaluation Tasks table has no rows", "list the tasks to evaluate")
        seen: dict[str, str] = {}
        for task in tasks:
            check_name(self.path, "task", task.name)
            if task.name.lower() in seen:
                # Task names become file names: two differing by case are one file on a
                # case-insensitive file system, and one matrix column to a reader.
                again = "" if seen[task.name.lower()] == task.name else f" (as {seen[task.name.lower()]!r})"
                raise self._error(f"task {task.name!r} is listed twice in Evaluation Tasks{again}", "give each task its own name")
            seen[task.name.lower()] = task.name
        return tasks

    # -- Evaluation Plan ---------------------------------------------------------------------

    def _evaluation_plan(self, runs: list[RunRow], tasks: list[TaskRow]):
        if self.plan is None:
            return "", None, tuple(task.name for task in tasks), None
        matrices = tuple(self.plan.find_all("evaluation matrix", "matrix"))
        # Status tables record progress; the Configuration bullets are read as values.
        kept_apart = tuple(self.plan.find_all("status", "configuration"))
        for table in self.plan.tables(leave_out=matrices + kept_apart):
            if table.column("run name", "run") is not None:
                self.warnings.add(
                    f"{self.path}: a table with a Run Name column in the Evaluation Plan, outside "
                    "'### Evaluation Matrix', is not read: put it under that heading to use it"
                )
        text = self.plan.text(deep=True, leave_out=kept_apart)
        matrix = self._matrix([table for section in matrices for table in section.tables()], runs, tasks)
        plan_epochs = self._plan_epochs(text)
        if _text_decides(matrix, runs, tasks):
            self._refuse_negated_tasks(text, tasks)
            self._refuse_per_task_epochs(text, tasks)
        return text, plan_epochs, self._text_tasks(text, tasks, matrix is not None), matrix

    def _plan_epochs(self, text: str) -> EpochChoice | None:
        try:
            from_text = read_epochs(text)
        except EpochSyntaxError as error:
            raise self._error(f"Evaluation Plan: {error}", "name the epochs to evaluate, e.g. 'epochs 0 and 2'") from None
        bullet = self.plan_config.bullet("epochs to evaluate", "epochs", "which epochs") if self.plan_config else None
        if bullet is None:
            return from_text
        self.october.append("epochs to evaluate")
        value = inline_text(bullet.value)
        try:
            from_bullet = read_epoch_value(value)
        except EpochSyntaxError as error:
            raise self._error(f"Evaluation Plan → Configuration → {bullet.written_label}: {error}",
                              "write all, last, or epoch numbers like 0,2") from None
        if from_bullet is None:
            self.warnings.add(
                f"{self.path}: Evaluation Plan → Configuration → Epochs to evaluate {value!r} names no "
                "epochs (all, last, or numbers like 0,2): ignored"
            )
            return from_text
        if from_text is not None and from_text != from_bullet:
            self.warnings.add(
                f"{self.path}: the Evaluation Plan text says {from_text.describe()} but "
                f"'Epochs to evaluate' says {from_bullet.describe()}: using {from_bullet.describe()}"
            )
        return from_bullet

    def _refuse_negated_tasks(self, text: str, tasks: list[TaskRow]) -> None:
        """"We do not evaluate capitalization_6L": a task named in a sentence with a negation
        may be one the plan leaves out, and what a negation applies to is not read here."""
        for start, name in _mentions(text, tasks):
            sentence = _SENTENCE_START.split(text[:start])[-1] + _SENTENCE_START.split(text[start:])[0]
            negation = next((w for w in _words(sentence) if w in _TASK_NEGATIONS), None)
            if negation is not None:
                raise self._error(
                    f"Evaluation Plan: {sentence.strip()!r} names task {name} next to {negation!r}, "
                    "and the plan text is read as naming the tasks to evaluate",
                    "name in the plan text only the tasks to evaluate, or add an '### Evaluation Matrix' "
                    "with - for the tasks a run skips",
                )

    def _refuse_per_task_epochs(self, text: str, tasks: list[TaskRow]) -> None:
        """"Evaluate capitalization at every epoch and capitalization_6L at the last epoch":
        the plan text's epochs are one set for every task, so different epochs paired with
        different tasks cannot be honoured from it."""
        if len({name for _, name in _mentions(text, tasks)}) < 2:
            return
        said: dict[EpochChoice, list[str]] = {}
        for sentence in _SENTENCE_START.split(text):
            mentions = _mentions(sentence, tasks)
            # A sentence naming two tasks is cut before each but the first: "Evaluate A at
            # every epoch and B at the last epoch".
            cuts = [0] + [start for start, _ in mentions[1:]] + [len(sentence)]
            pieces = zip(cuts, cuts[1:]) if len({name for _, name in mentions}) > 1 else [(0, len(sentence))]
            for begin, end in pieces:
                names = [name for start, name in mentions if begin <= start < end]
                try:
                    choice = read_epochs(sentence[begin:end])
                except EpochSyntaxError:
                    continue  # a piece of a phrase the whole text reads
                if choice is not None and names:
                    said.setdefault(choice, []).extend(names)
        if len(said) > 1:
            pairs = "; ".join(f"{', '.join(dict.fromkeys(names))}: {choice.describe()}" for choice, names in said.items())
            raise self._error(
                f"the Evaluation Plan text pairs tasks with different epochs ({pairs}), "
                "and its epochs are read as one set for every task",
                "add an '### Evaluation Matrix' giving each run and task its epochs (e.g. ✓ epoch 0,1 and ✓ epoch 1)",
            )

    def _text_tasks(self, text: str, tasks: list[TaskRow], has_matrix: bool) -> tuple[str, ...]:
        mentioned = {name for _, name in _mentions(text, tasks)}
        named = [task.name for task in tasks if task.name in mentioned]
        if not named:
            return tuple(task.name for task in tasks)
        left_out = [task.name for task in tasks if task.name not in named]
        if left_out and not has_matrix:
            self.warnings.add(
                f"the Evaluation Plan names {', '.join(named)} but not {', '.join(left_out)}: "
                f"{', '.join(left_out)} will not be evaluated (name it in the plan or add an Evaluation Matrix)"
            )
        return tuple(named)

    def _matrix(self, tables: list[Table], runs: list[RunRow], tasks: list[TaskRow]):
        """run -> task -> cell for the runs and tasks the matrix tables list, or None."""
        if not tables:
            return None
        known_tasks = {normalize(task.name): task.name for task in tasks}
        known_runs = {run.name for run in runs}
        matrix: dict[str, dict[str, MatrixCell]] = {}
        for table in tables:
            run_at = table.column("run name", "run", "name")
            if run_at is None:
                raise self._error("the Evaluation Matrix has no 'Run Name' column", "make its first column 'Run Name'")
            columns = {}
            for index, header in enumerate(table.header):
                if index == run_at or header in _REMARK_COLUMNS:
                    continue
                if header in known_tasks:
                    columns[known_tasks[header]] = index
                else:
                    # A remark column of any name is allowed: a warning, with the task it may mistype.
                    self.warnings.add(
                        f"Evaluation Matrix column '{table.raw_header[index]}' is not a task in Evaluation Tasks"
                        f"{nearest(table.raw_header[index], known_tasks.values())}: ignored"
                    )
            for number, row in enumerate(table.rows):
                name = _cell(row, run_at)
                if name not in known_runs:
                    # Ignoring it would leave that run to the plan text: other cells than the
                    # row says, with nothing but a warning to tell.
                    raise self._error(
                        f"the Evaluation Matrix has a row for {name!r}, which is not a run in All Runs{nearest(name, known_runs)}",
                        "write the row's Run Name exactly as All Runs writes it, or delete the row",
                    )
                written = table.cells_written(number)
                missing = [task for task, index in columns.items() if index >= written]
                if missing:
                    raise self._error(
                        f"the Evaluation Matrix row of {name} has {written} cells and its header "
                        f"{len(table.header)}: there is no cell for {', '.join(missing)}",
                        "give the row one cell per column: ✓ (with epochs, e.g. ✓ epoch 0,2) to evaluate, - not to",
                    )
                cells = matrix.setdefault(name, {})
                for task, index in columns.items():
                    if task in cells:
                        raise self._error(f"the Evaluation Matrix gives run {name}, task {task} twice",
                                          "keep one row per run (or one cell per run and task)")
                    try:
                        cells[task] = read_matrix_cell(row[index])
                    except EpochSyntaxError as error:
                        raise self._error(
                            f"Evaluation Matrix, run {name}, task {task}: {error}",
                            "write ✓ to evaluate (optionally with epochs: ✓ epoch 0,2 or ✓ all), "
                            "or - (or ✗) not to",
                        ) from None
        unlisted = [run.name for run in runs if run.name not in matrix]
        if unlisted:
            self.warnings.add(f"runs {', '.join(unlisted)} have no Evaluation Matrix row: the plan text decides for them")
        return matrix

    # -- Configuration and Compute Estimates -------------------------------------------------

    def _epochs(self, sections: list[Section | None]) -> int | None:
        bullet = self._bullet(sections, "epochs", "training epochs", "number of epochs")
        match = re.match(r"\s*(\d+)\b", inline_text(bullet.value)) if bullet else None
        if not match:
            return None
        epochs = int(match.group(1))
        if not 1 <= epochs <= MAX_EPOCHS:
            raise self._error(
                f"Configuration → Epochs is {epochs}, outside 1..{MAX_EPOCHS}",
                f"write the number of training epochs (the limit is MAX_EPOCHS in extensions/epochs.py)",
            )
        return epochs

    def _quoted(self, sections: list[Section | None], *labels: str) -> str | None:
        for section in sections:
            bullet = section.bullet(*labels) if section else None
            if bullet is None:
                continue
            try:
                value = text_value(bullet.value)
            except ValueSyntaxError as error:
                raise self._error(
                    f"{section.title} → {bullet.written_label}: {error}",
                    'write it as a double-quoted string with backslash escapes, e.g. "Answer: {input}\\n"',
                ) from None
            where = f"{self.path}: {section.title} → {bullet.written_label}"
            quoting = values_quoting(bullet.value)
            if quoting == "typographic":
                self.warnings.add(f"{where} is in typographic quotes “…”: read as the double-quoted string {value!r}")
            elif not quoting and re.search(r"\\[nt\\\"]", value):
                self.warnings.add(
                    f"{where} {value!r} is not in quotes, so it is read as written, each backslash a "
                    'backslash: to mean a newline, write it in double quotes, e.g. "Answer: {input}\\n"'
                )
            return value
        return None

    def _temperature(self, sections: list[Section | None]) -> float | None:
        bullet = self._bullet(sections, "temperature")
        if bullet is None:
            return None
        value = inline_text(bullet.value)
        if re.match(r"\s*greedy\b", value, re.IGNORECASE):
            return 0.0
        match = re.match(r"\s*(-?\d+(?:\.\d*)?|-?\.\d+)(?![\d.])", value)
        if not match or float(match.group(1)) < 0:
            raise self._error(
                f"Configuration → Evaluation → Temperature {value!r} is not a "
                + ("number" if not match else "temperature (it is negative)"),
                "write a number: 0 for greedy decoding, or a sampling temperature like 0.7",
            )
        return float(match.group(1))

    def _max_tokens(self, sections: list[Section | None]) -> int | None:
        bullet = self._bullet(sections, "max tokens", "max new tokens", "max_tokens", "maximum tokens", "max output tokens")
        if bullet is None:
            return None
        value = inline_text(bullet.value)
        match = re.match(r"\s*(\d[\d,_]*)(?![\d.])", value)
        tokens = int(re.sub(r"[,_]", "", match.group(1))) if match else 0
        if tokens < 1:
            raise self._error(
                f"Configuration → Evaluation → Max tokens {value!r} is not a positive whole number",
                "write the most tokens a model may generate per answer, e.g. 512, or leave the bullet out",
            )
        return tokens

    def _per_eval_minutes(self) -> float | None:
        compute = self.doc.find("compute estimates")
        section = compute.find("evaluation") if compute else None
        bullet = self._bullet(
            [section, compute],
            "per-eval time", "per eval time", "time per eval", "per evaluation", "per-evaluation time",
            "time per evaluation",
        )
        if bullet is None:
            return None
        if bullet.label == "per evaluation":
            self.october.append("per evaluation")
        value = inline_text(bullet.value)
        try:
            minutes = _duration_minutes(value)
        except ValueError as why:
            raise self._error(
                f"Compute Estimates → Evaluation → {bullet.written_label} {value!r}: {why}",
                "write one duration, e.g. '~20 minutes', '20-30 min', '1h30m', '1 hour 30 minutes' or '1.5 hours'",
            ) from None
        if minutes is None:
            self.warnings.add(
                f"{self.path}: Compute Estimates → Evaluation → {bullet.written_label} {value!r} is not a "
                "duration like '~20 minutes': ignored"
            )
            return None
        if minutes > MAX_PER_EVAL_MINUTES:
            raise self._error(
                f"Compute Estimates → Evaluation → {bullet.written_label} {value!r} is more than 14 days",
                "write the time one evaluation takes, e.g. '~20 minutes' (the limit is "
                "MAX_PER_EVAL_MINUTES in extensions/summary.py)",
            )
        return minutes


_NUMBER = r"\d+(?:[.,]\d+)?"
_UNIT = r"(d|days?|h|hr|hrs|hours?|m|min|mins|minutes?|s|sec|secs|seconds?)(?![a-z])"
# One part of a duration: "20 minutes", "20-30 min", "1.5 h"; "1h30m" is two parts.
_DURATION = re.compile(rf"(?<![\d.,])({_NUMBER})(?:\s*(?:-|–|to)\s*({_NUMBER}))?\s*{_UNIT}", re.IGNORECASE)
_JOIN = re.compile(r"\s*(?:,\s*|and\s+|\s)?", re.IGNORECASE)
_MINUTES = {"d": 24 * 60, "h": 60, "m": 1, "s": 1 / 60}


def _amount(number: str) -> float:
    whole, comma, fraction = number.partition(",")
    if comma and len(fraction) == 3:
        raise ValueError(f"{number!r} could be {whole}{fraction} or {whole}.{fraction}")
    return float(f"{whole}.{fraction}" if comma else number)


def _duration_minutes(value: str) -> float | None:
    """The minutes of a duration as written, every part of it ("1h30m", "1 hour 30 minutes",
    "1,5 hours"), None if it names none; a duration only partly read is refused (ValueError)."""
    match = _DURATION.search(value)
    if not match:
        return None
    if re.search(r"\d\s*[x×*]\s*$", value[:match.start()]):
        raise ValueError(f"{value[:match.end()].strip()!r} multiplies a duration")
    parts = [match]
    while True:
        join = _JOIN.match(value, parts[-1].end())
        following = _DURATION.match(value, join.end())
        if not following:
            break
        parts.append(following)
    rest = value[parts[-1].end():]
    if re.match(r"\s*[\d.,]*\d", rest) or _DURATION.search(rest):
        raise ValueError(f"cannot read {rest.strip()!r} after {value[:parts[-1].end()].strip()!r}")
    units = [_MINUTES[part.group(3).lower()[0]] for part in parts]
    if len(parts) > 1 and (units != sorted(units, reverse=True) or len(set(units)) < len(units)
                           or any(part.group(2) for part in parts)):
        raise ValueError("its parts are not one duration from larger units to smaller ones, like '1h30m'")
    # A range ("20-30 minutes") is budgeted by its upper end.
    return sum(_amount(part.group(2) or part.group(1)) * unit for part, unit in zip(parts, units))


_TASK_NEGATIONS = {"not", "no", "never", "without", "except", "excluding", "exclude", "skip", "skipping", "omit", "omitting"}
# Where a sentence (or a bullet, one per line) starts: a negation before it is another's.
_SENTENCE_START = re.compile(r"[.;!?](?:\s|$)|\n")


def _mentions(text: str, tasks: list[TaskRow]) -> list[tuple[int, str]]:
    """(offset, task name) of every task the text names, in the order written."""
    return sorted(
        (match.start(), task.name)
        for task in tasks
        for match in re.finditer(rf"(?<![\w-]){re.escape(task.name)}(?![\w-])", text, re.IGNORECASE)
    )


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", re.sub(r"n't\b", " not", text.lower().replace("\u2019", "'")))


def _text_decides(matrix: dict | None, runs: list[RunRow], tasks: list[TaskRow]) -> bool:
    """Whether the plan text chooses any fine-tuned run's tasks or epochs: a matrix that gives
    every cell its epochs leaves it nothing to choose."""
    if matrix is None:
        return True
    for run in runs:
        row = matrix.get(run.name)
        for task in tasks:
            if row is None or task.name not in row:
                return True
            if run.kind == FINE_TUNED and row[task.name].evaluated and row[task.name].epochs is None:
                return True
    return False


def _model_name(bullet: Bullet) -> str:
    """A Models bullet's model name as written (case kept: it may become a path)."""
    label = split_label(bullet.raw)[0]
    return inline_text(label) if label else ""


def _child(bullet: Bullet, *labels: str) -> Bullet | None:
    wanted = {normalize(label) for label in labels}
    return next((child for child in bullet.children if child.label in wanted), None)


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def _is_path(dataset: str) -> bool:
    text = dataset.lower().replace("✓", "").strip()
    if _SAME_DATASET.match(text):
        return False
    return "/" in text or text.split(" ")[0].endswith(_DATA_SUFFIXES)
