"""What makes a run or task name usable as a directory, file and job name."""

from __future__ import annotations

import difflib
import re

from .errors import InputError

# Run and task names become directory names, file names and `#SBATCH --job-name` values.
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]*")  # fullmatch: `$` would let a final newline through
# The longest file name built from one is the inspect log,
# `{timestamp}_{task}_epoch{N}_{id}.eval`: about 60 characters around the task name. 100
# keeps it under the 255-byte limit of Linux file systems with room to spare.
MAX_NAME_LENGTH = 100


def check_name(file: object, kind: str, name: str) -> None:
    """Refuse a run or task name that cannot be one path component of a script or log."""
    check_safe(file, kind, name)
    check_length(file, f"{kind} name", name)


def check_safe(file: object, kind: str, name: str) -> None:
    """Refuse a name (or one made of names, longer) that is not one safe path component."""
    if not SAFE_NAME.fullmatch(name):
        raise InputError(
            file,
            f"{kind} name {name!r} is not one safe path component",
            f"rename the {kind} with letters, digits and . _ + - only "
            "(no '/', no spaces, not starting with '-' or '.')",
        )


def check_length(file: object, what: str, name: str) -> None:
    if len(name) > MAX_NAME_LENGTH:
        raise InputError(
            file,
            f"{what} {name[:40]!r}… is {len(name)} characters long, "
            f"more than the limit of {MAX_NAME_LENGTH}",
            f"shorten it to at most {MAX_NAME_LENGTH} characters (the limit is MAX_NAME_LENGTH "
            "in extensions/names.py: it keeps script, log and checkpoint file names under the "
            "file system's 255-byte limit)",
        )



def nearest(name: str, known) -> str:
    """` (did you mean a, b?)` with the known names closest to a mistyped one, or ''."""
    close = difflib.get_close_matches(name, sorted(known), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""
