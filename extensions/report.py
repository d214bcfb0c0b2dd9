"""What a person is shown: the plan at a glance, and what an update changed.

The full plan is recorded in the answers file; these texts are for checking it at a
terminal, so they stay a screenful whatever the sweep's size.
"""

from __future__ import annotations

from .render import comment

# Past this many groups the overview says how many more there are, rather than scroll.
MAX_GROUPS = 12
_SHOWN_NAMES = 3


def plan_overview(plan: dict) -> str:
    """Runs that share model, resources and tasks × epochs as one group, each task a line."""
    groups: dict[tuple, list[dict]] = {}
    for run in plan["runs"]:
        groups.setdefault(_group_key(run), []).append(run)
    lines = []
    for runs in list(groups.values())[:MAX_GROUPS]:
        first = runs[0]
        kind = first["kind"]
        noun = "run" if len(runs) == 1 else "runs"
        lines.append(f"{len(runs)} {kind} {noun} of {comment(first['model'])}: {_names([r['name'] for r in runs])}")
        lines.append(f"    {_resources(first)}")
        tasks = _tasks(first)
        width = max(len(task) for task in tasks)
        lines.extend(f"    {comment(task).ljust(width)}  {epochs}" for task, epochs in tasks.items())
    if len(groups) > MAX_GROUPS:
        hidden = list(groups.values())[MAX_GROUPS:]
        lines.append(f"… and {sum(len(runs) for runs in hidden)} more runs in {len(hidden)} groups (all in .copier-answers.yml)")
    cells = sum(len(run["cells"]) for run in plan["runs"])
    lines.append(f"{cells} scripts in {len(plan['runs'])} runs; decoding: {describe_decoding(plan['decoding'])}")
    return "\n".join(lines)


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
