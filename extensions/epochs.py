"""Which epochs to evaluate, read from the Evaluation Plan's words and matrix cells.

Epochs are 0-indexed: a run trained for 2 epochs has epoch_0 and epoch_1. A choice is read
once from text and resolved per run, because runs may train for different numbers of epochs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

ALL = "all"
LAST = "last"
EXPLICIT = "explicit"
# No plan names an epoch range wider than this: "epochs 0-100000" is a typo, and expanding
# it would plan a cell per number. Training epochs have the same limit; a plan that stays
# under it can still be too large, which the plan's own cell limit (MAX_CELLS) catches.
MAX_EPOCHS = 10_000

# "every epoch", "all epochs", "all saved epochs", "both epochs", "all checkpoints"
_ALL_WORDS = re.compile(r"\b(every|all|each|both)\s+(?:[\w-]+\s+)?epochs?\b|\ball\s+checkpoints\b")
# "the last epoch", "the final checkpoint", "the final trained model"; not "final accuracy",
# which is about the score, not the epoch.
_LAST_WORDS = re.compile(r"\b(last|final)\s+(?:[\w-]+\s+)?(epoch|checkpoint|model)s?\b")
_FIRST_WORDS = re.compile(r"\bfirst\s+epoch\b")
# "epoch 0", "epochs 0 and 2", "epoch_0, epoch_1", "epochs 0-2", "epoch 0,2"
_EXPLICIT = re.compile(
    r"\bepochs?[\s_#-]*(\d+(?:\s*(?:,|and|&|or|to|through|-|–)\s*(?:epochs?[\s_#-]*)?\d+)*)"
)
_BARE_NUMBERS = re.compile(r"[\d\s,&–-]+(?:and[\d\s,&–-]+)*")


class EpochSyntaxError(ValueError):
    """Epoch words that cannot be read without guessing; the caller names the file."""


@dataclass(frozen=True)
class EpochChoice:
    kind: str  # ALL, LAST, or EXPLICIT
    explicit: tuple[int, ...] = ()
    said_last: bool = False  # "the last epoch (epoch_0)": numbers that should be the last

    def resolve(self, epochs: int) -> list[int]:
        if self.kind == ALL:
            return list(range(epochs))
        if self.kind == LAST:
            return [epochs - 1]
        return sorted(set(self.explicit))

    def describe(self) -> str:
        if self.kind == EXPLICIT:
            return "epochs " + ", ".join(map(str, sorted(set(self.explicit))))
        return f"{self.kind} epoch{'s' if self.kind == ALL else ''}"


class MatrixCell(NamedTuple):
    evaluated: bool
    epochs: EpochChoice | None  # None: the plan text (or, for a base run, once)


def _numbers(expression: str) -> list[int]:
    numbers = []
    expression = re.sub(r"epochs?[\s_#-]*", "", expression)
    for part in re.split(r"\s*(?:,|and|&|or)\s*", expression):
        bounds = re.split(r"\s*(?:to|through|-|–)\s*", part)
        if len(bounds) == 2 and all(b.isdigit() for b in bounds):
            low, high = sorted(int(b) for b in bounds)
            if high - low >= MAX_EPOCHS:
                raise EpochSyntaxError(
                    f"the range 'epochs {low}-{high}' spans more than {MAX_EPOCHS} epochs "
                    "(the limit is MAX_EPOCHS in extensions/epochs.py)"
                )
            numbers.extend(range(low, high + 1))
        elif part.isdigit():
            numbers.append(int(part))
    return numbers


def read_epochs(text: str) -> EpochChoice | None:
    """The epochs a piece of plan prose asks for, or None when it names none.

    Words for every epoch win; explicit numbers come next and are never overridden by a
    "last"/"final" elsewhere in the text, which only marks them as meant to be the last.
    """
    text = text.lower()
    if _ALL_WORDS.search(text):
        return EpochChoice(ALL)
    explicit = [n for match in _EXPLICIT.finditer(text) for n in _numbers(match.group(1))]
    if _FIRST_WORDS.search(text):
        explicit.append(0)
    said_last = bool(_LAST_WORDS.search(text))
    if explicit:
        return EpochChoice(EXPLICIT, tuple(dict.fromkeys(explicit)), said_last)
    if said_last:
        return EpochChoice(LAST)
    return None


def read_epoch_value(text: str) -> EpochChoice | None:
    """The epochs of a value known to be about epochs: a matrix cell after its tick, or
    October's `Epochs to evaluate:` bullet. There "all", "last" and bare numbers suffice."""
    text = text.strip().lower()
    if _BARE_NUMBERS.fullmatch(text):
        return read_epochs("epochs " + text)  # "0,2": in an epoch value, bare numbers are epochs
    # The leading word decides: "all (epoch_0 and epoch_1)" is every epoch, the numbers an
    # illustration; "last (epoch_1)" names numbers meant to be the last.
    if re.match(r"(all|every|each|both)\b", text):
        return EpochChoice(ALL)
    if re.match(r"(last|final|latest)\b", text):
        named = read_epochs(text)
        return EpochChoice(EXPLICIT, named.explicit, True) if named and named.kind == EXPLICIT else EpochChoice(LAST)
    choice = read_epochs(text)
    if choice is not None:
        return choice
    if re.search(r"\b(all|every|each|both)\b", text):
        return EpochChoice(ALL)
    if re.search(r"\b(last|final|latest)\b", text):
        return EpochChoice(LAST)
    if re.search(r"\bfirst\b", text):
        return EpochChoice(EXPLICIT, (0,))
    return None


# A cell that starts with one of these is "not evaluated", whatever remark follows:
# "✗ (not needed)", "- (later)", "❌ not needed", "not evaluated", "n/a".
_NEGATED = re.compile(
    r"^(?:[-–—✗✘❌✕×⨯🚫]|(?:no|not|none|n/a|na|skip|skipped|never|excluded|omit|omitted)\b)"
)
_TICK = re.compile(r"^(?:[✓✔✅☑]\ufe0f?|(?:yes|y)\b)")
# A bare x is a tick to some people and a cross to others.
_X = re.compile(r"^x(?:\W|$)")


def read_matrix_cell(text: str) -> MatrixCell:
    """Whether an Evaluation Matrix cell evaluates, and at which epochs.

    `✓ epoch 0,2`, `✓ all`, `✓` (the plan text's epochs; a base run once), `epoch 1`, `0,2`;
    empty, `-`, `✗` or a negation with a remark: not evaluated. Anything else is refused
    rather than guessed: the caller turns EpochSyntaxError into an error naming the cell.
    """
    cell = text.strip().lower()
    if not cell or _NEGATED.match(cell):
        return MatrixCell(False, None)
    if _X.match(cell):
        raise EpochSyntaxError(f"{text.strip()!r} is ambiguous: an x is a check mark to some and a cross to others")
    tick = _TICK.match(cell)
    if tick:
        return MatrixCell(True, read_epoch_value(cell[tick.end():]))
    choice = read_epoch_value(cell)
    if choice is None:
        raise EpochSyntaxError(f"{text.strip()!r} is neither a check mark, epochs, nor a '-'")
    return MatrixCell(True, choice)
