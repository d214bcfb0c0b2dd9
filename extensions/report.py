"""What a person is shown: the plan at a glance, and what an update changed.

The full plan is recorded in the answers file; these texts are for checking it at a
terminal, so they stay a screenful whatever the sweep's size.
"""

from __future__ import annotations

import json

from .render import comment

# Past this many groups the overview says how many more there are, rather than scroll.
MAX_GROUPS = 12
_SHOWN_NAMES = 3
# The widest line the overview writes: values are shortened in the middle to fit.
WIDTH = 100


def plan_overview(plan: dict) -> str:
    """Runs that share model, resources and tasks × epochs as one group, each task a line
    with its dataset; per group the checkpoint (or model) path with `{run}` and `{N}` for
    what varies; the prompt and system prompt once when every script shares them, else per
    group. Every value on one line, shortened to WIDTH."""
    groups: dict[tuple, list[dict]] = {}
    for run in plan["runs"]:
        groups.setdefault(_group_key(run), []).append(run)
    shared = _shared_prompts(plan["runs"])
    lines = []
    for runs in list(groups.values())[:MAX_GROUPS]:
        first = runs[0]
        kind = first["kind"]
        noun = "run" if len(runs) == 1 else "runs"
        lines.append(f"{len(runs)} {kind} {noun} of {comment(first['model'])}: {_names([r['name'] for r in runs])}")
        lines.append(f"    {_resources(first)}")
        lines.append(_value_line("    " + _MODEL_LABEL.get(kind, "checkpoints").ljust(14), _model_paths(runs), path=True))
        if shared is None:
            lines.append(_value_line("    prompt".ljust(18), _texts(runs, "prompt")))
            lines.append(_value_line("    system prompt".ljust(18), _texts(runs, "system_prompt")))
        tasks = _tasks(first)
        width = max(len(task) for task in tasks)
        epochs_width = max(len(epochs) for epochs in tasks.values())
        for task, epochs in tasks.items():
            prefix = f"    {comment(task).ljust(width)}  {epochs.ljust(epochs_width)}  data "
            lines.append(_value_line(prefix, _data_paths(runs, task), path=True))
    if len(groups) > MAX_GROUPS:
        hidden = list(groups.values())[MAX_GROUPS:]
        lines.append(f"… and {sum(len(runs) for runs in hidden)} more runs in {len(hidden)} groups (all in .copier-answers.yml)")
    if shared is not None:
        lines.append(_value_line("prompt in every script:        ", _quoted(shared[0])))
        lines.append(_value_line("system prompt in every script: ", _quoted(shared[1])))
    cells = sum(len(run["cells"]) for run in plan["runs"])
    lines.append(f"{cells} scripts in {len(plan['runs'])} runs; decoding: {describe_decoding(plan['decoding'])}")
    return "\n".join(lines)


_MODEL_LABEL = {"fine-tuned": "checkpoints", "base": "model", "eval-only": "checkpoint"}


def _value_line(prefix: str, value: str, path: bool = False) -> str:
    return prefix + (shorten_path if path else shorten)(value, WIDTH - len(prefix))


def shorten(text: str, width: int) -> str:
    """`text` (made one inert line) at most `width` characters long, cut in the middle, where
    prompts say least: the start and the end (`{input}`, the answer format) stay."""
    text = comment(text)
    width = max(width, 20)
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def shorten_path(text: str, width: int) -> str:
    """A path at most `width` characters long: its first two components, `…`, and as many of
    its last components as fit (the file name at least), so what differs stays readable."""
    text = comment(text)
    width = max(width, 20)
    if len(text) <= width:
        return text
    parts = text.split("/")
    head = "/".join(parts[:3]) + "/…"  # "/scratch/gpfs/…" of an absolute path
    tail = parts[-1]
    for part in reversed(parts[3:-1]):
        if len(head) + len(part) + len(tail) + 2 > width:
            break
        tail = f"{part}/{tail}"
    shortened = f"{head}/{tail}"
    return shortened if len(shortened) <= width else shorten(text, width)


def _quoted(value: str) -> str:
    """A prompt as its JSON string: quotes show where it starts and ends, escapes show
    newlines and an empty one is visibly empty."""
    return json.dumps(value, ensure_ascii=False)


def _shared_prompts(runs: list[dict]) -> tuple[str, str] | None:
    """(prompt, system prompt) when every cell of the plan has the same pair."""
    pairs = {(cell["prompt"], cell["system_prompt"]) for run in runs for cell in run["cells"]}
    return pairs.pop() if len(pairs) == 1 else None


def _texts(runs: list[dict], key: str) -> str:
    """A group's prompt (or system prompt): the one they share, the one of each task, or
    how many there are with one of them."""
    values = {(run["name"], cell["task"]): cell[key] for run in runs for cell in run["cells"]}
    distinct = set(values.values())
    if len(distinct) == 1:
        return _quoted(distinct.pop())
    by_task: dict[str, set[str]] = {}
    for (_, task), value in values.items():
        by_task.setdefault(task, set()).add(value)
    if all(len(texts) == 1 for texts in by_task.values()):
        return "by task: " + "; ".join(f"{task} {_quoted(next(iter(texts)))}" for task, texts in by_task.items())
    runs_of: dict[str, list[str]] = {}
    for (run, _), value in values.items():
        if run not in runs_of.setdefault(value, []):
            runs_of[value].append(run)
    return f"{len(distinct)} different: " + "; ".join(f"{_quoted(value)} ({_names(names)})" for value, names in runs_of.items())


def _model_paths(runs: list[dict]) -> str:
    """The group's checkpoint directories as one pattern: `{run}` for a path component
    holding the run's name, `epoch_{N}` for the epoch's."""
    patterns = {}
    for run in runs:
        for cell in run["cells"]:
            patterns.setdefault(_pattern(cell["model_path"], run["name"], cell["epoch"]), cell["model_path"])
    return _one_or_count(patterns, "paths")


def _data_paths(runs: list[dict], task: str) -> str:
    paths = {}
    for run in runs:
        for cell in run["cells"]:
            if cell["task"] == task:
                paths.setdefault(_pattern(cell["data_path"], run["name"], None), cell["data_path"])
    return _one_or_count(paths, "paths")


def _one_or_count(patterns: dict[str, str], noun: str) -> str:
    if len(patterns) == 1:
        return next(iter(patterns))
    return f"{len(patterns)} different {noun}, e.g. {next(iter(patterns.values()))}"


def _pattern(path: str, run: str, epoch: int | None) -> str:
    parts = path.split("/")
    if epoch is not None and parts[-1] == f"epoch_{epoch}":
        parts[-1] = "epoch_{N}"
    return "/".join(part.replace(run, "{run}") if part.endswith(run) else part for part in parts)


def describe_decoding(decoding: dict) -> str:
    described = (
        f"sampling at temperature {decoding['temperature']:g}" if decoding["do_sample"] else "greedy (do_sample=false)"
    )
    if decoding["max_tokens"]:
        described += f", at most {decoding['max_tokens']} tokens"
    return described


def warnings_text(plan: dict) -> str:
    """The plan's warnings as a list, or '' when there are none."""
    if not plan.get("warnings"):
        return ""
    return "\n".join(["Warnings:", *(f"- {comment(warning)}" for warning in plan["warnings"])])


def _group_key(run: dict) -> tuple:
    sbatch = tuple(tuple(pair) for pair in run["sbatch"])
    return (run["kind"], run["model"], run.get("conda_env"), sbatch, tuple(_tasks(run).items()))


def _tasks(run: dict) -> dict[str, str]:
    """task -> its epochs as a person reads them: "epochs 0,1", "epoch 2", "base"."""
    epochs: dict[str, list] = {}
    for cell in run["cells"]:
        epochs.setdefault(cell["task"], []).append(cell["epoch"])
    return {
        task: "base" if chosen == [None] else ("epoch " if len(chosen) == 1 else "epochs ") + ",".join(map(str, chosen))
        for task, chosen in epochs.items()
    }


def _names(names: list[str]) -> str:
    if len(names) <= _SHOWN_NAMES + 1:
        return ", ".join(comment(name) for name in names)
    return ", ".join(comment(name) for name in names[:_SHOWN_NAMES]) + f", … {comment(names[-1])}"


def _resources(run: dict) -> str:
    resources = run["resources"]
    text = (
        f"{resources['tier']}: {resources['mem']}, {resources['gpus']} GPU, "
        f"{resources['cpus']} CPUs, {resources['time']}"
        + (f", {resources['constraint']}" if resources["constraint"] else "")
    )
    shown = {"nodes", "ntasks", "cpus-per-task", "mem", "time", "gres", "constraint"}
    extra = [f"{option} {value}" for option, value in run["sbatch"] if option not in shown]
    if run.get("conda_env"):
        extra.append(f"conda env {run['conda_env']}")
    return comment("; ".join([text, *extra]))
