"""Values written after a label in a Markdown bullet: paths and quoted prompts.

Prompts are written as double-quoted strings with backslash escapes
(`"Capitalize the given word: {input}\\n"`), possibly followed by a remark
(`"" (blank - must match training)`). They are decoded exactly as YAML decodes a
double-quoted scalar, from the raw source, so backticks and asterisks inside stay literal.
"""

from __future__ import annotations

import re

import yaml

# Unquoted words people write for "no system prompt".
_EMPTY_WORDS = {"", "-", "none", "(none)", "empty", "(empty)", "blank", "(blank)", "n/a"}


class ValueSyntaxError(ValueError):
    pass


def _code_span(raw: str) -> str | None:
    """The content of the code span `raw` starts with, as CommonMark reads one, or None."""
    opening = re.match(r"`+", raw)
    if not opening:
        return None
    ticks = opening.group()
    end = raw.find(ticks, len(ticks))
    if end < 0:
        return None
    content = raw[len(ticks) : end]
    if len(content) > 1 and content[0] == content[-1] == " " and content.strip():
        content = content[1:-1]
    return content


def _quoted_prefix(raw: str) -> str | None:
    """The leading YAML-quoted string of `raw` (quotes included), if it starts with one."""
    if raw.startswith('"'):
        index = 1
        while index < len(raw):
            if raw[index] == "\\":
                index += 2
                continue
            if raw[index] == '"':
                return raw[: index + 1]
            index += 1
    elif raw.startswith("'"):
        # In single quotes, '' is an escaped quote and nothing else is special.
        match = re.match(r"'(?:[^']|'')*'", raw)
        if match:
            return match.group()
    else:
        return None
    raise ValueSyntaxError(f"the quoted string {raw!r} has no closing quote")


def _straightened(raw: str) -> str:
    """“…” (an editor's typographic quotes around what was typed as "…") as "…"."""
    match = re.match(r"[“”]([^“”]*)[”“]", raw)
    if not match:
        return raw
    if '"' in match.group(1):
        raise ValueSyntaxError(f"{match.group()!r} has straight quotes inside typographic ones")
    return f'"{match.group(1)}"' + raw[match.end():]


def quoting(raw: str) -> str:
    """How a prompt-like value is written: "straight" or "typographic" quotes, or "" (none)."""
    raw = raw.strip()
    span = _code_span(raw)
    for text in ([span.strip()] if span is not None else []) + [raw]:
        if text[:1] in ('"', "'"):
            return "straight"
        if text[:1] in ("“", "”"):
            return "typographic"
    return ""


def text_value(raw: str) -> str:
    """A prompt-like value: quoted strings decoded (in typographic double quotes too: the
    same string to its writer), unquoted text taken as written."""
    raw = _straightened(raw.strip())
    span = _code_span(raw)
    if span is not None and _quoted_prefix(_straightened(span.strip())) is not None:
        raw = _straightened(span.strip())
    quoted = _quoted_prefix(raw)
    if quoted is not None:
        try:
            return yaml.safe_load(quoted)
        except yaml.YAMLError as error:
            raise ValueSyntaxError(f"{quoted} is not a valid quoted string: {error}") from error
    if raw.lower() in _EMPTY_WORDS:
        return ""
    return span if span is not None else raw


def path_value(raw: str) -> str:
    """A path: the first code span when there is one, else the text up to a remark."""
    raw = raw.strip()
    span = _code_span(raw)
    if span is not None:
        return span.strip()
    quoted = _quoted_prefix(raw)
    if quoted is not None:
        return text_value(quoted)
    # "/data/x.json (verified)": paths in these files have no spaces; the rest is a remark.
    return raw.split()[0] if raw else ""


# Template text never filled in: "<your_slurm_account>", "`{output_dir_base}`",
# "/scratch/gpfs/<group>/<username>/ck-outputs/".
_PLACEHOLDER = re.compile(r"<[A-Za-z_][^<>]*>|\{[A-Za-z_][\w .-]*\}")


def is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.search(value))
