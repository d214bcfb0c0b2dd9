"""The `#SBATCH` header: one ordered mapping per run, each value checked in one place.

As submitit does, the header is data: the plan records `run.sbatch` as [option, value] pairs
(a list, because Copier records JSON answers with sorted keys) and the template prints it
with `header_lines`. A site option added to claude.local.md becomes a
line here without a template change.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import protocol
from .errors import InputError

# sbatch reads an `#SBATCH` line's options split on white space, with its own quoting rules,
# and a `#` starts a comment in some Slurm versions: a value is written only when it is one
# plain word that every version reads the same way.
_VALUE = re.compile(r"[A-Za-z0-9_@%:=,.+/|&*\[\]-]+")  # fullmatch: `$` would let a final newline through
_OPTION = re.compile(r"[a-z][a-z-]*")

# The seed's order, then the optional lines; options claude.local.md adds follow in its order.
ORDER = ("job-name", "output", "nodes", "ntasks", "cpus-per-task", "mem", "time", "gres",
         "account", "partition", "constraint")


def checked(option: str, value: object, source: Path | str) -> str:
    """`value` as it will stand after `--{option}=`, or an InputError naming `source`."""
    text = str(value)
    if not _OPTION.fullmatch(option):
        raise InputError(source, f"{option!r} is not an sbatch option name", "write it as sbatch spells it, e.g. mail-type")
    if not _VALUE.fullmatch(text):
        raise InputError(
            source,
            f"the sbatch {option} value {text!r} is not one plain word "
            "(letters, digits and _ @ % : = , . + / | & * [ ] -)",
            f"fix the {option} value there",
        )
    return text


def run_header(values: dict[str, tuple[object, Path | str]]) -> list[list[str]]:
    """The run's header from option -> (value, the file it came from), as ordered pairs.

    Options with no value (None or '') are left out; the order is ORDER, then the others.
    """
    header = {option: checked(option, value, source) for option, (value, source) in values.items() if value not in (None, "")}
    ordered = {option: header.pop(option) for option in ORDER if option in header}
    ordered.update(header)
    return [[option, value] for option, value in ordered.items()]


def header_lines(sbatch: list[list[str]], job_name: str) -> str:
    """The `#SBATCH` lines of one cell's script: its job name, log file and the warning it
    takes before its time limit (protocol.WARNING_SIGNAL), then the run's."""
    lines = [["job-name", checked("job-name", job_name, "the plan")], ["output", "slurm-%j.out"],
             ["signal", protocol.warning_signal_option()], *sbatch]
    return "\n".join(f"#SBATCH --{option}={value}" for option, value in lines)
