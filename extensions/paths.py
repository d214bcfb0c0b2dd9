"""Where a path written in an input file points, for the scripts that run elsewhere."""

from __future__ import annotations

import os
from pathlib import Path


def resolve(directory: Path, path: str) -> str:
    """A relative path is relative to `directory`; `~` is the home of whoever renders."""
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(directory, path))


def missing_here(directory: Path, path: str) -> Path | None:
    """Where `path` (relative to `directory`) would be, when it can be looked for on this
    machine and is not there: its directory exists, it does not. None when it exists, when
    its directory is elsewhere (a cluster's scratch), or when it starts with `~` or `$VAR`,
    which the scripts' shell expands."""
    if path.startswith(("~", "$")):
        return None
    resolved = directory / path
    return resolved if resolved.parent.is_dir() and not resolved.exists() else None
