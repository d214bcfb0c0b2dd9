"""The job name a run's finetune.slurm gives its fine-tuning job, read as sbatch reads it.

submit_evals.sh finds a run's pending or running fine-tuning job by this name, to start its
evaluations after it.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from .errors import InputError
from .source import read_source

SLURM_SCRIPT = "finetune.slurm"
# sbatch also takes the old `#SLURM` prefix.
_DIRECTIVES = ("#SBATCH", "#SLURM")


def read_finetune_job_name(path: Path) -> str | None:
    """The `--job-name`/`-J` of the script's directives (the last one, as sbatch takes it),
    or None when the file or the directive is absent (sbatch then names the job after the
    script file)."""
    if not path.is_file():
        return None
    name = None
    for number, line in enumerate(read_source(path).split("\n"), start=1):
        if line.startswith(_DIRECTIVES):
            prefix = next(p for p in _DIRECTIVES if line.startswith(p))
            try:
                # sbatch splits a directive like a shell: quotes group, an unquoted # ends it.
                words = shlex.split(line[len(prefix):], comments=True)
            except ValueError as error:
                raise InputError(path, f"line {number}: {line.strip()!r}: {error}",
                                 "close the quote in this #SBATCH line") from None
            name = _job_name(words, name)
        elif line.strip() and not line.lstrip().startswith("#"):
            break  # sbatch reads directives only up to the first command
    return name


def _job_name(words: list[str], name: str | None) -> str | None:
    for index, word in enumerate(words):
        if word in ("-J", "--job-name") and index + 1 < len(words):
            name = words[index + 1]
        elif word.startswith("--job-name="):
            name = word.removeprefix("--job-name=")
        elif word.startswith("-J") and not word.startswith("--") and len(word) > 2:
            name = word[2:]
    return name
