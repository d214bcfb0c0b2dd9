"""Parser of claude.local.md: the user's site settings (account, conda env, modules)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .markdown import Document, read_source
from .values import path_value

SITE_FILE = "claude.local.md"


@dataclass(frozen=True)
class Site:
    path: Path | None
    account: str | None = None
    partition: str | None = None
    conda_env: str | None = None
    module_lines: tuple[str, ...] = ()


def find_site_file(experiment_dir: Path) -> Path | None:
    """claude.local.md in the experiment directory, else in the nearest parent."""
    for directory in (experiment_dir, *experiment_dir.parents):
        candidate = directory / SITE_FILE
        if candidate.is_file():
            return candidate
    return None


def read_site(path: Path | None) -> Site:
    if path is None:
        return Site(None)
    doc = Document(read_source(path))
    defaults = doc.find("slurm defaults")
    modules = doc.find("module system", "modules")

    def setting(*labels: str) -> str | None:
        bullet = defaults.bullet(*labels) if defaults else None
        value = path_value(bullet.value) if bullet else ""
        # "(leave empty)", "(none)": a placeholder, not a value.
        return None if not value or value.startswith("(") else value

    blocks = modules.code_blocks() if modules else []
    lines = tuple(
        line.rstrip()
        for line in (blocks[0] if blocks else "").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    return Site(
        path=path,
        account=setting("account"),
        partition=setting("partition"),
        conda_env=setting("default conda environment", "conda environment", "conda env"),
        module_lines=lines,
    )
