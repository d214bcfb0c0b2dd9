"""Parser of claude.local.md: the user's site settings (account, conda env, modules, paths).

The file is cruijff_kit's per-user settings file (claude.local.md.template, and the Della
reference copy): `## SLURM Defaults`, `## Module System`, `## HPC Environment` and
`## Common Paths` → `### Working Directories` are read. Template placeholders such as
`<your_slurm_account>` mean "not filled in": warned about and ignored. Account, partition
and constraint are checked where every `#SBATCH` value is (extensions/sbatch.py), which
names this file as their source.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .markdown import Document, Section, inline_text
from .notes import Warnings
from .source import read_source
from .values import is_placeholder, path_value

SITE_FILE = "claude.local.md"


# The caps of submit_evals.sh's retries with more memory or time, for a cluster whose Slurm
# states no limit (it asks scontrol, sinfo and the QOS first).
# Units as sbatch writes them, and few enough digits for bash's arithmetic.
_CAP_MEMORY = re.compile(r"[1-9]\d{0,8}[KMGT]?")
_CAP_TIME = re.compile(r"(\d{1,3}-)?\d{1,3}:\d{2}:\d{2}")


def _cap(path: Path, defaults: Section | None, names: tuple[str, ...], pattern: re.Pattern, what: str,
         example: str) -> str | None:
    bullet = defaults.bullet(*names) if defaults else None
    if bullet is None:
        return None
    value = inline_text(bullet.value).strip()
    if not value or value.startswith("("):
        return None  # a placeholder of the template file: no cap
    if not pattern.fullmatch(value):
        raise InputError(
            path,
            f"SLURM Defaults → {names[0]} {value!r} is not {what}",
            f"write the most a retried evaluation job may ask for, e.g. {example}, or leave the bullet out",
        )
    return value


@dataclass(frozen=True)
class Site:
    path: Path | None
    account: str | None = None
    partition: str | None = None
    constraint: str | None = None
    qos: str | None = None
    extra_sbatch: tuple[tuple[str, str], ...] = ()  # SLURM Defaults → Extra sbatch options
    conda_env: str | None = None
    max_jobs: int | None = None  # SLURM Defaults → Max jobs: jobs queued at once
    max_mem: str | None = None  # SLURM Defaults → Max memory: what a retry may grow a job to
    max_time: str | None = None  # SLURM Defaults → Max time: likewise, where Slurm says no limit
    username: str | None = None  # HPC Environment → Username
    outputs_dir: str | None = None  # Working Directories → Outputs: checkpoints' last fallback
    experiments_dir: str | None = None  # Working Directories → Experiments
    scratch_dir: str | None = None  # HPC Environment → Scratch directory: where generated data goes
    module_lines: tuple[str, ...] = ()


def find_site_file(experiment_dir: Path) -> Path | None:
    """claude.local.md in the experiment directory, else in the nearest parent."""
    for directory in (experiment_dir, *experiment_dir.parents):
        candidate = directory / SITE_FILE
        if candidate.is_file():
            return candidate
    return None


def read_site(path: Path | None, warnings: Warnings | None = None) -> Site:
    """The site settings; `warnings` collects the placeholders found (a throwaway collector
    when the caller only needs the module lines)."""
    if path is None:
        return Site(None)
    warnings = warnings if warnings is not None else Warnings()
    doc = Document(read_source(path))
    defaults = doc.find("slurm defaults")
    modules = doc.find("module system", "modules")
    paths = doc.find("common paths")
    # `### Working Directories` (the Della reference), `### Experiments & Outputs` (the
    # October 2025 template): whichever sub-section of Common Paths has the bullet.
    directories = [paths.find("working directories"), *paths.subsections(), paths] if paths else []

    def setting(sections: list[Section | None], where: str, *labels: str) -> str | None:
        """The value of the first bullet with one of `labels` in `sections`, or None."""
        bullet = next((b for b in (s.bullet(*labels) for s in sections if s) if b), None)
        value = path_value(bullet.value) if bullet else ""
        # "(leave empty)", "(none)": left empty on purpose.
        if not value or value.startswith("("):
            return None
        if is_placeholder(value):
            warnings.add(f"{path}: {where} → {bullet.written_label} is {value!r}, a placeholder not filled in: ignored")
            return None
        return value

    account = setting([defaults], "SLURM Defaults", "account")
    partition = setting([defaults], "SLURM Defaults", "partition")
    constraint = setting([defaults], "SLURM Defaults", "constraint")
    blocks = modules.code_blocks() if modules else []
    lines = tuple(
        line.rstrip()
        for line in (blocks[0] if blocks else "").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    continued = next((line for line in lines if line.endswith("\\")), None)
    if continued is not None:
        # Each line is written into every script as it is: a continuation would join it to
        # whatever line the template puts next.
        raise InputError(path, f"Module System: the line {continued!r} continues on the next line (ends with \\)",
                         "write each command on one line of its own")
    return Site(
        path=path,
        account=account,
        partition=partition,
        constraint=constraint,
        qos=setting([defaults], "SLURM Defaults", "qos", "quality of service"),
        extra_sbatch=_extra_sbatch(path, defaults),
        conda_env=setting([defaults], "SLURM Defaults", "default conda environment", "conda environment", "conda env"),
        max_jobs=_max_jobs(path, defaults),
        max_mem=_cap(path, defaults, ("max memory", "max mem", "maximum memory"), _CAP_MEMORY,
                     "an amount of memory as sbatch's --mem takes it", "`- **Max memory**: 512G`"),
        max_time=_cap(path, defaults, ("max time", "max walltime", "maximum time"), _CAP_TIME,
                      "a time limit as D-HH:MM:SS or HH:MM:SS", "`- **Max time**: 2-00:00:00`"),
        username=setting([doc.find("hpc environment")], "HPC Environment", "username", "user"),
        outputs_dir=setting(directories, "Common Paths", "outputs", "output base directory", "outputs directory"),
        experiments_dir=setting(directories, "Common Paths", "experiments", "experiments directory"),
        scratch_dir=setting([doc.find("hpc environment"), doc.find("cluster")], "HPC Environment",
                            "scratch directory", "scratch"),
        module_lines=lines,
    )


# Options a cell's script sets itself, or that change how it runs so that its outcome would
# no longer be where submit_evals.sh and the results look for it.
_PROTOCOL_OPTIONS = {
    "--job-name": "each cell's job name says its task, run and epoch",
    "--output": "each cell writes slurm-%j.out beside its script",
    "--chdir": "each cell runs from its eval directory, where it finds its experiment",
    "--array": "one job per cell: an array would run the cell several times",
    "--dependency": "submit_evals.sh chains each cell to its own fine-tuning job",
    "--wrap": "the job is the cell's script",
    "--signal": "each cell asks for SIGUSR1 before its time limit, to stop inspect with its samples saved",
    # sbatch refuses them beside --mem ("mutually exclusive"), which every script sets.
    "--mem-per-cpu": "each cell asks for its memory per node with --mem (the model's, which a retry grows), and "
                     "sbatch refuses --mem-per-cpu beside --mem",
    "--mem-per-gpu": "each cell asks for its memory per node with --mem (the model's, which a retry grows), and "
                     "sbatch refuses --mem-per-gpu beside --mem",
}


def _extra_sbatch(path: Path, defaults: Section | None) -> tuple[tuple[str, str], ...]:
    """`- **Extra sbatch options**: `--mail-type=END,FAIL --mail-user=me@x.edu``: any option
    the template has no setting for, as sbatch's own `--option=value` words."""
    bullet = defaults.bullet("extra sbatch options", "sbatch options") if defaults else None
    if bullet is None:
        return ()
    text = _code_span_or_text(bullet.value)
    options = []
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise InputError(path, f"SLURM Defaults → Extra sbatch options {text!r}: {error}", "close the quote") from None
    for word in words:
        option, equals, value = word.partition("=")
        if not option.startswith("--") or not equals or not value:
            raise InputError(
                path,
                f"SLURM Defaults → Extra sbatch options: {word!r} is not of the form --option=value",
                "write each option as sbatch's long form, e.g. `--mail-type=END,FAIL --qos=short`",
            )
        if option in _PROTOCOL_OPTIONS or (option == "--export" and value.upper().startswith("NONE")):
            raise InputError(
                path,
                f"SLURM Defaults → Extra sbatch options: {word} is set per script by the template, or breaks "
                f"how a cell runs: {_PROTOCOL_OPTIONS.get(option, 'the job would lose the environment its set-up lines need')}",
                f"leave {option} out",
            )
        options.append((option[2:], value))
    return tuple(options)


def _code_span_or_text(raw: str) -> str:
    raw = raw.strip()
    if raw.startswith("`") and raw.count("`") >= 2:
        return raw.split("`")[1]
    return raw


def _max_jobs(path: Path, defaults: Section | None) -> int | None:
    bullet = defaults.bullet("max jobs", "max queued jobs", "maximum jobs") if defaults else None
    if bullet is None:
        return None
    value = inline_text(bullet.value)
    if not value or value.startswith("("):
        return None
    match = re.fullmatch(r"(\d+)\b.*", value)
    if not match or not 1 <= int(match.group(1)) <= 999_999_999:
        raise InputError(
            path,
            f"SLURM Defaults → max jobs {value!r} is no count of jobs from 1 to 999999999",
            "write how many jobs the cluster lets you queue at once, e.g. `- **Max jobs**: 25`",
        )
    return int(match.group(1))
