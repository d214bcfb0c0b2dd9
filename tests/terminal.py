"""Driving a program under a pseudo-terminal, as a person at a keyboard."""

from __future__ import annotations

import re

import pexpect

MULTILINE_PROMPT = "(Finish with 'Alt+Enter' or 'Esc then Enter')"  # questionary's multi-line input
YES_NO_PROMPT = "(Y/n)"
ESC_ENTER = "\x1b\r"  # ends a multi-line answer


def settle(child: pexpect.spawn, quiet: float = 0.5) -> str:
    """Read until the program has printed nothing for `quiet` seconds: a prompt is ready for
    keys only once drawn (keys sent earlier reach a terminal not yet in raw mode)."""
    seen = []
    while True:
        try:
            seen.append(child.read_nonblocking(65536, timeout=quiet))
        except (pexpect.TIMEOUT, pexpect.EOF):
            return "".join(seen)


def screen_text(raw: str) -> str:
    """What the terminal shows of `raw`: escape sequences and carriage returns removed."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]", "", raw)
    return text.replace("\r", "")
