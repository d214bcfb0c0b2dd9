"""Which epochs to evaluate, read from the Evaluation Plan's words.

Epochs are 0-indexed: a run trained for 2 epochs has epoch_0 and epoch_1. A choice is read
once from text and resolved per run, because runs may train for different numbers of epochs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALL = "all"
LAST = "last"

_ALL_WORDS = re.compile(r"\b(every|all|each|both)\s+epochs?\b|\ball\s+checkpoints\b")
_LAST_WORDS = re.compile(r"\b(last|final)\s+(epoch|checkpoint)\b|\b(last|final)\b")
_FIRST_WORDS = re.compile(r"\bfirst\s+epoch\b")
# "epoch 0", "epochs 0 and 2", "epoch_0, epoch_1", "epochs 0-2", "epoch 0,2"
_EXPLICIT = re.compile(
    r"\bepochs?[\s_#-]*(\d+(?:\s*(?:,|and|&|or|to|through|-|–)\s*(?:epochs?[\s_#-]*)?\d+)*)"
)


@dataclass(frozen=True)
class EpochChoice:
    kind: str  # ALL, LAST, or "explicit"
    explicit: tuple[int, ...] = ()
    said_last: bool = False  # "the last epoch (epoch_0)": numbers that should be the last

    def resolve(self, epochs: int) -> list[int]:
        if self.kind == ALL:
            return list(range(epochs))
        if self.kind == LAST:
            return [epochs - 1]
        return sorted(set(self.explicit))

    def describe(self) -> str:
        if self.kind == "explicit":
            return "epochs " + ", ".join(map(str, sorted(set(self.explicit))))
        return f"{self.kind} epoch{'s' if self.kind == ALL else ''}"


def _numbers(expression: str) -> list[int]:
    numbers = []
    expression = re.sub(r"epochs?[\s_#-]*", "", expression)
    for part in re.split(r"\s*(?:,|and|&|or)\s*", expression):
        bounds = re.split(r"\s*(?:to|through|-|–)\s*", part)
        if len(bounds) == 2 and all(b.isdigit() for b in bounds):
            low, high = int(bounds[0]), int(bounds[1])
            numbers.extend(range(min(low, high), max(low, high) + 1))
        elif part.isdigit():
            numbers.append(int(part))
    return numbers


def read_epochs(text: str) -> EpochChoice | None:
    """The epochs a piece of plan text asks for, or None when it names none."""
    text = text.lower()
    if _ALL_WORDS.search(text):
        return EpochChoice(ALL)
    explicit = [n for match in _EXPLICIT.finditer(text) for n in _numbers(match.group(1))]
    if _FIRST_WORDS.search(text):
        explicit.append(0)
    said_last = bool(_LAST_WORDS.search(text))
    if explicit:
        return EpochChoice("explicit", tuple(explicit), said_last)
    if said_last:
        return EpochChoice(LAST)
    return None


_NOT_EVALUATED = {"", "-", "–", "—", "✗", "✘", "❌", "x", "no", "n", "none", "n/a", "skip"}
_TICKS = re.compile(r"^\s*(✓|✔|✅|yes\b|y\b)\s*")


def read_matrix_cell(text: str) -> tuple[bool, EpochChoice | None]:
    """(evaluated?, epochs) of an Evaluation Matrix cell: `✓ epoch 0,2`, `✓`, `-`, `✗`, empty.

    A bare tick gives no epochs: the run's plan text decides (a base run is evaluated once).
    """
    if text.strip().lower() in _NOT_EVALUATED:
        return False, None
    rest = _TICKS.sub("", text)
    if re.fullmatch(r"[\d\s,&–-]+(?:and[\d\s,&–-]+)*", rest.strip()):
        rest = "epochs " + rest  # "✓ 0,2": in a matrix cell, bare numbers are epochs
    return True, read_epochs(rest)
