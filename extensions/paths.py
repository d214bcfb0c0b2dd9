"""Where a path written in an input file points, for the scripts that run elsewhere."""

from __future__ import annotations

import os
from pathlib import Path


def resolve(directory: Path, path: str) -> str:
    """A relative path is relative to `directory`; `~` is the home of whoever renders."""
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(directory, path))
