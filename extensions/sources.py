"""Which input files an experiment's plan comes from, said after every copy.

claude.local.md is looked for in the experiment and then in each parent directory: one found
in a parent sets the account, modules and conda environment of every script. Under
`--defaults` no question shows the plan, so the after-copy message names the files.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError
from .experiment import SETUP_FILE, summary_path
from .site import SITE_FILE, find_site_file


def sources_text(dst_path, plan: dict) -> str:
    experiment = Path(dst_path).resolve()
    try:
        summary = summary_path(experiment)
    except InputError:
        return "Input files: none in this directory; the plan is the one recorded in the answers file."
    names = [summary.name]
    setups = [run["name"] for run in plan["runs"] if (experiment / run["name"] / SETUP_FILE).is_file()]
    if setups:
        names.append(f"{SETUP_FILE} of {len(setups)} run{'s' if len(setups) > 1 else ''}")
    site = find_site_file(experiment)
    if site is None:
        names.append(f"no {SITE_FILE} (none here or in a parent directory)")
    elif site.parent == experiment:
        names.append(SITE_FILE)
    else:
        names.append(f"{site}, from a parent directory: its settings apply to this experiment")
    return "Input files: " + ", ".join(names)
