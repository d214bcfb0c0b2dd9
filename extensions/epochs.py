"""Which epochs to evaluate, read from the Evaluation Plan's words and matrix cells.

Epochs are 0-indexed: a run trained for 2 epochs has epoch_0 and epoch_1. A choice is read
once from text and resolved per run, because runs may train for different numbers of epochs.

Epoch phrases are read by a small grammar that must account for every word of the phrase:
"every epoch except epoch 0", "epoch 2 only", "epochs: 0, 2", "ep 0..2", "the first and last
epoch", "the last two epochs". A phrase the grammar cannot read whole ("every other epoch",
"epochs 0 or 1", "from epoch 1 onwards") is refused, naming the phrase and the forms it
understands: a misread epoch costs a GPU job nobody asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

ALL = "all"
LAST = "last"
EXPLICIT = "explicit"
# No plan names an epoch range wider than this: "epochs 0-100000" is a typo, and expanding
# it would plan a cell per number. Training epochs have the same limit; a plan that stays
# under it can still be too large, which the plan's own cell limit (MAX_CELLS) catches.
MAX_EPOCHS = 10_000

FORMS = (
    "'every epoch', 'the last epoch', 'epochs 0 and 2', 'epochs 0-2', 'epoch 2 only', "
    "'every epoch except epoch 0', 'the first and last epoch', 'the last two epochs'"
)


class EpochSyntaxError(ValueError):
    """Epoch words that cannot be read without guessing; the caller names the file."""


@dataclass(frozen=True)
class Selection:
    """A set of epochs named without knowing how many a run trains: every epoch, numbers,
    the first n, the last n."""

    every: bool = False
    numbers: frozenset[int] = field(default_factory=frozenset)
    first: int = 0
    last: int = 0
    saved: bool = False  # "all saved epochs": every epoch the run's setup saves

    def __or__(self, other: Selection) -> Selection:
        return Selection(self.every or other.every, self.numbers | other.numbers,
                         max(self.first, other.first), max(self.last, other.last), self.saved or other.saved)

    def __bool__(self) -> bool:
        return self.every or bool(self.numbers) or self.first > 0 or self.last > 0 or self.saved

    def resolve(self, epochs: int, saved: set[int] | None = None) -> set[int]:
        """The epochs of a run trained for `epochs`; `saved` is the set its setup saves
        (None: every epoch is saved, or nothing says)."""
        if self.every:
            return set(range(epochs))
        chosen = set(self.numbers) | set(range(min(self.first, epochs))) | set(range(max(epochs - self.last, 0), epochs))
        if self.saved:
            chosen |= set(range(epochs)) if saved is None else {epoch for epoch in saved if epoch < epochs}
        return chosen

    def describe(self) -> str:
        if self.every:
            return "every epoch"
        parts = ["every saved epoch"] if self.saved else []
        if self.first:
            parts.append("the first epoch" if self.first == 1 else f"the first {self.first} epochs")
        if self.numbers:
            numbers = sorted(self.numbers)
            parts.append(("epoch " if len(numbers) == 1 else "epochs ") + ", ".join(map(str, numbers)))
        if self.last:
            parts.append("the last epoch" if self.last == 1 else f"the last {self.last} epochs")
        return " and ".join(parts)


@dataclass(frozen=True)
class EpochChoice:
    """The epochs a plan names: what it includes, minus what it excludes."""

    include: Selection
    exclude: Selection = Selection()
    said_last: bool = False  # "the last epoch (epoch_0)": numbers that should be the last

    @classmethod
    def every(cls) -> EpochChoice:
        return cls(Selection(every=True))

    @classmethod
    def last_epoch(cls) -> EpochChoice:
        return cls(Selection(last=1))

    @classmethod
    def numbers(cls, numbers, said_last: bool = False) -> EpochChoice:
        return cls(Selection(numbers=frozenset(numbers)), said_last=said_last)

    @property
    def kind(self) -> str:
        """ALL, LAST or EXPLICIT: the simple choices earlier plans made, for messages."""
        if self.exclude:
            return EXPLICIT
        if self.include.every:
            return ALL
        if self.include == Selection(last=1):
            return LAST
        return EXPLICIT

    @property
    def explicit(self) -> tuple[int, ...]:
        return tuple(sorted(self.include.numbers))

    def resolve(self, epochs: int, saved: set[int] | None = None) -> list[int]:
        return sorted(self.include.resolve(epochs, saved) - self.exclude.resolve(epochs, saved))

    def excluded_beyond(self, epochs: int) -> list[int]:
        """Excluded epoch numbers a run of this many epochs does not have: a typo, most likely."""
        return sorted(n for n in self.exclude.numbers if n >= epochs)

    def describe(self) -> str:
        text = self.include.describe()
        if self.exclude:
            text += " except " + self.exclude.describe()
        return text


class MatrixCell(NamedTuple):
    evaluated: bool
    epochs: EpochChoice | None  # None: the plan text (or, for a base run, once)


# -- tokens ---------------------------------------------------------------------------------

_NOUNS = {"epoch", "epochs", "ep", "eps", "checkpoint", "checkpoints", "ckpt", "ckpts"}
_ALL = {"all", "every", "each", "both"}
_LAST = {"last", "final", "latest"}
_FIRST = {"first"}
_ONLY = {"only", "just"}
_NEGATIONS = {"except", "excluding", "exclude", "skip", "skipping", "not", "without", "but", "minus", "never", "no"}
_AND = {",", "and", "&", "plus", "+"}
_RANGE = {"-", "–", "—", "..", "to", "through", "thru"}
_FILLERS = {"the", "a", "at", "on", "for"}
_COUNTS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
# Words that would make "every X epoch" or "the last X epochs" mean something else.
_NOT_ADJECTIVES = {
    "other", "second", "third", "fourth", "fifth", "alternate", "odd", "even", "best", "worst",
    "middle", "few", "several", "some", "many", "intermediate", "early", "earlier", "later",
    "half", "n", "k", "x", "or",
}
# Words that end a phrase in prose: they start what the sentence says next.
_PHRASE_WORDS = _NOUNS | _ALL | _LAST | _FIRST | _ONLY | _NEGATIONS | _AND | _RANGE | _FILLERS | set(_COUNTS) | {":", "or", "/"}

# A name with digits or underscores in it ("task_1", "r8_lr1e-5", "llama-3") is one word,
# never an epoch number; "0-2" and "0..2" are numbers and a range.
_TOKEN = re.compile(r"[a-z0-9_]*[a-z_][a-z0-9_]*(?:'[a-z]+)?(?:-(?:[a-z0-9_]*[a-z_][a-z0-9_]*|\d+\b(?![.\d])))*|\d+|\.\.|[^\s\w]")


def _vague(word: str | None) -> bool:
    """A word that makes "every X epoch" or "the X epoch" inexact or unread: "other", "2nd"."""
    return word is not None and (word in _NOT_ADJECTIVES or bool(re.fullmatch(r"\d+(?:st|nd|rd|th)", word)))


def _normalize(text: str) -> str:
    text = text.lower()
    text = re.sub(r"[\u2010\u2011\u2012\u2212]", "-", text)  # Unicode hyphens and minus
    text = text.replace("\u2015", "—").replace("…", "..")
    text = re.sub(r"n't\b", " not", text)
    text = re.sub(r"\b(epochs?|eps?|ckpts?)\.?[_#-]?(?=\d)", r"\1 ", text)  # epoch_0, ep.1, epoch-2
    text = re.sub(r"\b(ep|eps)\.", r"\1", text)
    return text


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(_normalize(text))


# -- the grammar ------------------------------------------------------------------------------

class _Phrase:
    """One epoch phrase, read token by token; `read` must consume every token."""

    def __init__(self, tokens: list[str], original: str, bare_numbers: bool):
        self.tokens = tokens
        self.original = original
        self.bare_numbers = bare_numbers  # in a matrix cell, "0,2" are epochs
        self.at = 0

    def _peek(self, offset: int = 0) -> str | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def _refuse(self, why: str) -> EpochSyntaxError:
        return EpochSyntaxError(f"{self.original!r}: {why}; the epoch phrases understood are {FORMS}")

    def _skip(self, words: set[str]) -> bool:
        skipped = False
        while self._peek() in words:
            self.at += 1
            skipped = True
        return skipped

    def read(self) -> tuple[Selection, Selection, bool]:
        """(included, excluded, whether any word selected epochs at all)."""
        include, exclude, selected = Selection(), Selection(), False
        excluding = False
        while self._peek() is not None:
            self._skip(_FILLERS | _ONLY | {":"})
            token = self._peek()
            if token is None:
                break
            if token in _NEGATIONS:
                self._negation()
                excluding = True
                continue
            if token in _AND:
                self.at += 1
                continue
            if token == "or" or token == "/":
                raise self._refuse("'or' leaves the choice open: name every epoch to evaluate")
            part = self._selection()
            if part is None:
                return include, exclude, selected
            selected = True
            if excluding:
                exclude |= part
            else:
                include |= part
        return include, exclude, selected

    def _negation(self) -> None:
        token = self._peek()
        self.at += 1
        if token == "but":
            self._skip({"not"})
        following = self._peek()
        if (token == "no" and following not in _NOUNS) or (token == "not" and following in _ALL):
            raise self._refuse(f"'{token} {following}' does not say which epochs to leave out")

    def _count(self) -> int | None:
        token = self._peek()
        if token in _COUNTS:
            self.at += 1
            return _COUNTS[token]
        if token is not None and token.isdigit() and self._peek(1) in _NOUNS | {"saved", "trained"}:
            self.at += 1
            return int(token)
        return None

    def _refuse_vague(self, before: str = "") -> None:
        """"every other epoch", "the last few epochs", "the best epoch": no exact set."""
        word = self._peek()
        if _vague(word):
            raise self._refuse(f"'{before}{word}' epochs cannot be read exactly")

    def _adjective_then_noun(self) -> bool:
        """An optional single word before the noun ("every saved epoch"), then the noun."""
        if self._peek() in _NOUNS | {"model", "models"}:
            self.at += 1
            return True
        word = self._peek()
        if (word is not None and word not in _PHRASE_WORDS and re.fullmatch(r"[a-z][a-z-]*", word)
                and self._peek(1) in _NOUNS | {"model", "models"}):
            self._refuse_vague()
            self.at += 2
            return True
        return False

    def _selection(self) -> Selection | None:
        token = self._peek()
        if token in _ALL:
            self.at += 1
            self._refuse_vague(f"{token} ")
            count_at = self.at
            # "all 3 epochs": every one of them; "every 2 epochs" is a period, and whether it
            # starts at epoch 0 or 1 is a guess.
            if self._count() is not None and token in {"every", "each"}:
                raise self._refuse(
                    f"'{token} {self.tokens[count_at]} epochs' is a period, not a set of epochs: "
                    "name them ('epochs 1 and 3') or say 'every epoch'"
                )
            if self._peek() == "saved" and self._adjective_then_noun():
                return Selection(saved=True)  # the saved ones, which the run's setup decides
            self._adjective_then_noun()
            return Selection(every=True)
        if token in _LAST or token in _FIRST:
            self.at += 1
            count = self._count()
            number = self._peek()
            if count is None and number is not None and number.isdigit():
                raise self._refuse(
                    f"'{token} {number}' could be a count or an epoch number: write '{token} {number} epochs' or 'epoch {number}'"
                )
            self._refuse_vague(f"{token} ")
            self._adjective_then_noun()
            count = count or 1
            return Selection(last=count) if token in _LAST else Selection(first=count)
        if token in _NOUNS:
            self.at += 1
            self._skip(_NOUNS | {":"})  # "checkpoints epoch_0 ...", "epochs: 0, 2"
            following = self._peek()
            if following in _ALL | _LAST | _FIRST:
                return self._selection()  # "epochs: all"
            if following is not None and following.isdigit():
                return self._numbers()
            if self.bare_numbers:
                raise self._refuse("'epoch' without a number")
            return None
        if token is not None and token.isdigit():
            if self.bare_numbers:
                return self._numbers()
            raise self._refuse("a number that is not after 'epoch'")
        self._refuse_vague()
        raise self._refuse(f"{token!r} is not an epoch word")

    def _numbers(self) -> Selection:
        numbers: set[int] = set()
        while True:
            low = int(self.tokens[self.at])
            self.at += 1
            if self._peek() in _RANGE:
                self.at += 1
                high_token = self._peek()
                if high_token is not None and high_token in _NOUNS:
                    self.at += 1
                    high_token = self._peek()
                if high_token is None or not high_token.isdigit():
                    raise self._refuse("a range takes a number at each end, e.g. 'epochs 0-2'")
                self.at += 1
                low, high = sorted((low, int(high_token)))
                if high - low >= MAX_EPOCHS:
                    raise EpochSyntaxError(
                        f"the range 'epochs {low}-{high}' spans more than {MAX_EPOCHS} epochs "
                        "(the limit is MAX_EPOCHS in extensions/epochs.py)"
                    )
                numbers.update(range(low, high + 1))
            else:
                numbers.add(low)
            # Another number of the list: ", 2", "and 2", "and epoch 2", ", epoch_2".
            offset = 0
            if self._peek(offset) in _AND:
                while self._peek(offset) in _AND:
                    offset += 1
                if self._peek(offset) in _NOUNS:
                    offset += 1
                following = self._peek(offset)
                if following is not None and following.isdigit():
                    self.at += offset
                    continue
            return Selection(numbers=frozenset(numbers))  # an "or" after it: refused by read


def _read_phrase(tokens: list[str], original: str, bare_numbers: bool) -> tuple[Selection, Selection, bool]:
    phrase = _Phrase(tokens, original, bare_numbers)
    include, exclude, selected = phrase.read()
    if phrase.at < len(tokens):
        rest = " ".join(tokens[phrase.at:])
        raise EpochSyntaxError(f"{original!r}: cannot read {rest!r}; the epoch phrases understood are {FORMS}")
    if exclude and exclude.every:
        raise EpochSyntaxError(f"{original!r} excludes every epoch")
    return include, exclude, selected


def _choice(include: Selection, exclude: Selection) -> EpochChoice:
    # "except epoch 0" alone: every epoch but those.
    return EpochChoice(include if include else Selection(every=True), exclude)


# -- matrix cells and values -------------------------------------------------------------------

def _split_remark(text: str) -> tuple[str, str]:
    """A value and its trailing parenthetical remark: "last (epoch_1)" -> ("last", "epoch_1")."""
    match = re.fullmatch(r"(.*?)\s*\(([^()]*)\)\s*", text, re.DOTALL)
    return (match.group(1), match.group(2)) if match else (text, "")


def read_epoch_value(text: str) -> EpochChoice | None:
    """The epochs of a value known to be about epochs: a matrix cell after its tick, or
    October's `Epochs to evaluate:` bullet. There "all", "last" and bare numbers suffice,
    and every word must be read. A parenthetical remark that names epochs illustrates the
    value ("all (epoch_0 and epoch_1)", "last (epoch_1)"); one that names none is a remark."""
    value, remark = _split_remark(text.strip())
    if not value.strip(" ,;:"):
        # "✓ (epoch_1)" and "✓ (last)" name epochs; "✓ (primary)" is only a remark.
        if not _about_epochs(remark):
            return None
        value, remark = remark, ""
    tokens = _tokens(value)
    while tokens and tokens[0] in {",", ";", ":"}:
        tokens.pop(0)
    include, exclude, selected = _read_phrase(tokens, text.strip(), bare_numbers=True)
    if not selected:
        return None
    choice = _choice(include, exclude)
    if remark and _about_epochs(remark) and not _names_epochs(remark):
        # "✓ epoch 1 (final)", "✓ 0,1 (all)": a remark of epoch words only is read too, and
        # must say what the value says.
        said = read_epoch_value(remark)
        if said is not None and said.kind == LAST and choice.kind == EXPLICIT and choice.include == Selection(numbers=choice.include.numbers):
            return EpochChoice(choice.include, said_last=True)
        if said is not None and said != choice:
            raise EpochSyntaxError(
                f"{text.strip()!r} names {choice.describe()} and, in parentheses, {said.describe()}: "
                "write the epochs once"
            )
        return choice
    illustration = _illustration(remark)
    return _illustrated(choice, illustration, text.strip())


def _names_epochs(remark: str) -> bool:
    """Whether a parenthetical remark names epochs by noun or number: "epoch_1", "0"."""
    return any(token in _NOUNS or token.isdigit() for token in _tokens(remark))


def _about_epochs(remark: str) -> bool:
    """Whether a parenthetical remark has a word that selects epochs: "epoch_1", "0", "all"."""
    return any(token in _NOUNS | _ALL | _LAST | _FIRST or token.isdigit() for token in _tokens(remark))


def _illustration(remark: str) -> EpochChoice | None:
    """The epochs a parenthetical remark names, if it is about epochs at all."""
    if not remark or not _names_epochs(remark):
        return None
    phrases = _phrases(remark)
    if not phrases:
        return None
    try:
        return read_epochs(remark)
    except EpochSyntaxError:
        return None


def _illustrated(choice: EpochChoice, illustration: EpochChoice | None, original: str) -> EpochChoice:
    """A choice followed by an example of it: "every epoch (epoch_0 and epoch_1)" stays every
    epoch; "the last epoch (epoch_1)" names epoch 1 and warns if it is not the last; numbers
    followed by other numbers are a contradiction."""
    if illustration is None or illustration.exclude or not illustration.include.numbers:
        return choice
    if choice.kind == LAST:
        return EpochChoice.numbers(illustration.include.numbers, said_last=True)
    if choice.kind == EXPLICIT and not choice.exclude and choice.include == Selection(numbers=choice.include.numbers):
        if choice.include.numbers != illustration.include.numbers:
            raise EpochSyntaxError(
                f"{original!r} names {choice.describe()}, then {illustration.describe()} in parentheses: "
                "say which epochs to evaluate once"
            )
    return choice


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

    `✓ epoch 0,2`, `✓ all`, `✓ except epoch 0`, `✓` (the plan text's epochs; a base run
    once), `epoch 1`, `0..2`; empty, `-`, `✗` or a negation with a remark: not evaluated.
    Anything else is refused rather than guessed: the caller turns EpochSyntaxError into an
    error naming the cell.
    """
    cell = text.strip().lower()
    # "except epoch 0", "skip epoch 0": every epoch but those; "skip: covered by r8" is a cross.
    if re.match(r"^(?:except|excluding|but)\b", cell) or re.match(r"^(?:skip|skipping)\s+(?:epochs?|eps?|ckpts?)\b", _normalize(cell)):
        return MatrixCell(True, read_epoch_value(cell))
    if not cell or _NEGATED.match(cell):
        return MatrixCell(False, None)
    if _X.match(cell):
        raise EpochSyntaxError(f"{text.strip()!r} is ambiguous: an x is a check mark to some and a cross to others")
    tick = _TICK.match(cell)
    if tick:
        return MatrixCell(True, read_epoch_value(cell[tick.end():]))
    choice = None
    if re.match(r"^[\w(]", cell) and any(t in _NOUNS | _ALL | _LAST | _FIRST or t.isdigit() for t in _tokens(cell)):
        choice = read_epoch_value(cell)
    if choice is None:
        raise EpochSyntaxError(f"{text.strip()!r} is neither a check mark, epochs, nor a '-'")
    return MatrixCell(True, choice)


# -- prose ------------------------------------------------------------------------------------

class _Span(NamedTuple):
    start: int  # token indices, end exclusive
    end: int


def _phrases(text: str) -> list[tuple[list[str], _Span, list[str]]]:
    """The epoch phrases of prose: each run of epoch-grammar words around an epoch noun (or
    "last/final ... model"), with the tokens of the whole text, for context."""
    tokens = _tokens(text)
    anchors = [
        i for i, token in enumerate(tokens)
        if token in _NOUNS
        or (token in {"model", "models"} and i > 0 and (tokens[i - 1] in _LAST or (i > 1 and tokens[i - 2] in _LAST)))
    ]
    spans: list[_Span] = []
    for anchor in anchors:
        if spans and spans[-1].start <= anchor < spans[-1].end:
            continue
        start = anchor
        while start > 0:
            before = tokens[start - 1]
            if start == anchor and _vague(before):
                start -= 1  # "the best epoch": read, to be refused
            elif before in _PHRASE_WORDS or (before.isdigit() and tokens[start] in _NOUNS | {"saved", "trained"}):
                start -= 1  # a number before the phrase only as a count: "the last 2 epochs"
            elif start == anchor and start > 1 and tokens[start - 2] in _ALL | _LAST | _FIRST and re.fullmatch(r"[a-z][a-z-]*", before):
                start -= 2  # "every saved epoch", "the final trained model"
            else:
                break
        end = anchor + 1
        while end < len(tokens) and (tokens[end] in _PHRASE_WORDS or tokens[end].isdigit()
                                     or (tokens[end] in {"model", "models"} and tokens[end - 1] in _LAST)):
            end += 1
        # A phrase neither starts nor ends with joining words: "and the last epoch, and".
        while start < anchor and tokens[start] in _AND | _FILLERS | {":", "-", "–", "—", "..", "or", "/", "to"}:
            start += 1
        while end > anchor + 1 and (
            tokens[end - 1] in _AND | _FILLERS | _NEGATIONS | {":", "or", "/"} | _RANGE
            # "epochs 0 and 1 on both tasks", "epoch_1 for all runs": about what follows
            or (tokens[end - 1] in _ALL | _LAST | _FIRST | set(_COUNTS) and tokens[end - 2] in {"for", "on", "at"})
        ):
            end -= 1
        spans.append(_Span(start, end))
    return [(tokens[s.start:s.end], s, tokens) for s in spans]


_SENTENCE_END = {".", ";", "!", "?"}
_NEGATION_CONTEXT = 4  # words before a phrase in which a negation changes what it means


def read_epochs(text: str) -> EpochChoice | None:
    """The epochs a piece of plan prose asks for, or None when it names none.

    Every epoch phrase is read whole (or refused). "Every epoch" wins over numbers, which
    illustrate it; explicit numbers are never overridden by a "last"/"final" phrase
    elsewhere in the text, which only marks them as meant to be the last. "N epochs" with no
    selecting word is a count of training epochs ("train for 2 epochs"), not a choice.
    """
    include, exclude, last_elsewhere = Selection(), Selection(), False
    illustrations: list[tuple[EpochChoice, EpochChoice | None]] = []
    for words, span, tokens in _phrases(text):
        original = " ".join(words)
        if _is_count(words):
            continue
        before = [t for t in tokens[max(0, span.start - _NEGATION_CONTEXT):span.start]]
        if _SENTENCE_END & set(before):
            before = before[max(i for i, t in enumerate(before) if t in _SENTENCE_END) + 1:]
        negation = next((t for t in before if t in _NEGATIONS), None)
        phrase_include, phrase_exclude, selected = _read_phrase(words, original, bare_numbers=False)
        if not selected:
            _refuse_unread_numbers(tokens, span, original)
            continue
        if negation:
            raise EpochSyntaxError(
                f"{' '.join(before + words)!r}: {negation!r} before the epochs leaves unclear which are evaluated; "
                f"the epoch phrases understood are {FORMS}"
            )
        choice = EpochChoice(phrase_include, phrase_exclude)
        illustration = None
        if span.end < len(tokens) and tokens[span.end] == "(":
            close = tokens.index(")", span.end) if ")" in tokens[span.end:] else len(tokens)
            illustration = _illustration(" ".join(tokens[span.end + 1:close]))
        illustrations.append((choice, illustration))
    for choice, illustration in illustrations:
        choice = _illustrated(choice, illustration, text)
        if choice.include == Selection(last=1) and not choice.exclude and any(
            c.include.numbers or c.said_last for c, _ in illustrations
        ):
            last_elsewhere = True
            if choice.said_last:
                include |= choice.include
            continue
        include |= choice.include
        exclude |= choice.exclude
        last_elsewhere = last_elsewhere or choice.said_last
    if not include and not exclude:
        return EpochChoice.last_epoch() if last_elsewhere else None
    if include.every:
        include = Selection(every=True)
    if include.numbers and (include.numbers & exclude.numbers):
        both = ", ".join(map(str, sorted(include.numbers & exclude.numbers)))
        raise EpochSyntaxError(f"the plan both evaluates and skips epoch {both}: say once which epochs to evaluate")
    return EpochChoice(include if include else Selection(every=True), exclude, last_elsewhere and not include.every)


def _refuse_unread_numbers(tokens: list[str], span: _Span, original: str) -> None:
    """An epoch noun followed by numbers the grammar does not read ("epochs [0, 2]", "epochs:
    (1, 3)", "epoch zero", "epoch N") names epochs all the same: evaluating the last one
    instead would be a guess."""
    after = span.end
    while after < len(tokens) and tokens[after] in {":", "=", "[", "(", "{", "#"}:
        after += 1
    following = tokens[after] if after < len(tokens) else ""
    if (after > span.end and following.isdigit()) or following in {"zero", "n", "k", "x"} or _vague(following):
        written = " ".join(tokens[span.start:after + 1])
        raise EpochSyntaxError(f"{written!r}: epoch numbers written in a form not understood; the epoch phrases understood are {FORMS}")


def _is_count(words: list[str]) -> bool:
    """"2 epochs", "for 3 epochs", "1 epoch of training": how long a run trains."""
    meaningful = [w for w in words if w not in _FILLERS]
    return len(meaningful) == 2 and (meaningful[0].isdigit() or meaningful[0] in _COUNTS) and meaningful[1] in _NOUNS
