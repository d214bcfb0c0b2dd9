"""Formatting helpers for the templates: quoting and the task-config JSON.

They format what the plan holds and compute nothing new.
"""

from __future__ import annotations

import functools
import inspect
import json
import shlex

import yaml

from . import protocol, task_file
from .plan import CONDA_PLACEHOLDER
from .protocol import log_file_pattern
from .sbatch import header_lines as sbatch_header


def shell_quote(value: object) -> str:
    """One bash word that stands for exactly `value`."""
    return shlex.quote(str(value))


def with_job_id(path: str) -> str:
    """A per-job path of the plan (protocol.job_times, gpu_samples) as one bash word in which
    the job's $JOB_ID stands where the protocol's JOB_ID is."""
    before, _, after = path.rpartition(protocol.JOB_ID)
    return f'{shell_quote(before)}"$JOB_ID"{shell_quote(after) if after else ""}'


def comment(value: object) -> str:
    """`value` as text that cannot leave the line it is written on: for a `#` comment in a
    rendered script, and for what Copier prints to a terminal.

    bash ends a comment at a newline, and a value read from the input files can hold one
    (a directory name does). Every character that is not printable (line breaks, NEL, LS,
    PS, tabs, terminal escape sequences, bidi controls) is written as its Python escape
    (`\\n`, `\\x1b`, `\\u2028`): the text stays readable and stays one line of inert text.
    """
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(value))


def python_json(value: object) -> str:
    """A Python string literal of `value` as JSON: `json.loads(literal)` gives `value` back.

    repr() escapes quotes, backslashes and every non-printable character (line separators
    included), so no string in the plan can end the literal or the line it is on.
    """
    return repr(json.dumps(value, ensure_ascii=False))


def unpassed_options(decoding: dict) -> list[str]:
    """The `inspect eval` options a cell script checks are not set by INSPECT_EVAL_* variables
    before inspect runs: those that change the evaluation, less the decoding the script gives
    on the command line (which wins over a variable)."""
    passed = set()
    if decoding.get("do_sample"):
        passed.add("temperature")
    if decoding.get("max_tokens"):
        passed.add("max_tokens")
    if decoding.get("seed") is not None:
        passed.add("seed")
    options = protocol.EVALUATION_CHANGING_OPTIONS + protocol.GENERATION_OPTIONS
    return [option for option in options if option not in passed]


def protocol_source(name: str) -> str:
    """The source of one function of protocol.py, for a rendered script that runs without
    this package: the log naming rule then still has a single definition."""
    return inspect.getsource(getattr(protocol, name)).rstrip("\n")


@functools.cache
def task_check_source() -> str:
    """task_file.signature_problems's source, for the cell scripts' check of their task file
    on the cluster, where this package is not installed: one definition of the contract.
    Read once: every cell script of a 1,040-cell sweep asks for it."""
    return inspect.getsource(task_file.signature_problems).rstrip("\n")


def protocol_shell() -> str:
    """protocol.py's log naming rule as a bash function, for the rendered bash scripts."""
    return protocol.FIND_CELL_LOGS_SH


def task_config(cell: dict) -> str:
    """The task arguments as a JSON object, one per line.

    inspect reads a --task-config file as-is, while `-T key=value` values are parsed as YAML
    and split on commas. JSON escapes every newline and control character, so no line of
    this text can equal the heredoc's closing word.
    """
    return json.dumps(cell["task_args"], indent=2, ensure_ascii=False)


def eval_yaml(config: dict) -> str:
    """A cell's config file: YAML that yaml.safe_load reads back exactly, one key a line.

    cruijff_kit's tasks read it with yaml.safe_load. yaml.safe_dump would write NEL (U+0085)
    raw, which reads back as a line break: every string is written double-quoted instead,
    with its control characters escaped (double_quoted), and nested values in flow style."""
    return "".join(f"{key}: {_flow(value)}\n" for key, value in config.items())


def _flow(value: object) -> str:
    if isinstance(value, str):
        return double_quoted(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flow(str(key))}: {_flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if isinstance(value, float) and "e" in repr(value) and "." not in repr(value):
        return repr(value).replace("e", ".0e")  # PyYAML reads 1e-07 as text, 1.0e-07 as a float
    return json.dumps(value)


def double_quoted(value: str) -> str:
    """`value` as one double-quoted line that YAML and JSON readers both read back exactly.

    Every line break and control character is escaped, so the text can sit in a bash comment
    or a `#SBATCH` line without ending it. Printable ASCII is written as JSON (fast, and what
    a reader expects); anything else goes through YAML's own emitter, because JSON's surrogate
    pairs for characters beyond U+FFFF do not read back through PyYAML.
    """
    if value.isascii() and value.isprintable():
        return json.dumps(value)
    text = yaml.dump(value, Dumper=yaml.SafeDumper, default_style='"', width=float("inf"), allow_unicode=True)
    return text.rstrip("\n")


def metadata_options(metadata: dict) -> str:
    """The `--metadata key=value` lines of an `inspect eval` command, each value one bash word.

    inspect parses each value with `yaml.safe_load`, then splits a resulting string on every
    comma (inspect-ai 0.3.285, UKGovernmentBEIS/inspect_ai issue 5269). Quoting a string keeps
    it a string ("true", "0", "a: b"); a number stays unquoted and arrives as a number. A comma
    cannot be protected: such a value arrives as the list of its comma-separated parts.
    """
    options = []
    for key, value in metadata.items():
        text = double_quoted(value) if isinstance(value, str) else json.dumps(value)
        options.append(f"\n  --metadata {shell_quote(f'{key}={text}')} \\")
    return "".join(options)


def with_conda_env(env_setup: str, conda_env: str | None) -> str:
    """The env_setup answer with {conda_env} replaced by the run's quoted environment."""
    if CONDA_PLACEHOLDER in env_setup and conda_env:
        env_setup = env_setup.replace(CONDA_PLACEHOLDER, shell_quote(conda_env))
    return env_setup.strip("\n")


class _AnswersDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """YAML for the answers file that reads back exactly.

    PyYAML writes NEL, LS and PS (U+0085, U+2028, U+2029) raw inside plain and single-quoted
    scalars, and reads them back as line breaks (folded to spaces): a prompt holding one
    would change on `copier update`. Strings holding one are written double-quoted, where
    they are escaped. libyaml's emitter, when PyYAML has it, writes a 1,040-cell plan about
    seven times faster than the pure-Python one.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if any(c in value for c in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_AnswersDumper.add_representer(str, _represent_str)


def answers_yaml(answers: dict) -> str:
    """The answers file's body: like Copier's to_nice_yaml, but exact for every string."""
    return yaml.dump(
        answers, Dumper=_AnswersDumper, indent=4, allow_unicode=True, default_flow_style=False, width=120
    )
