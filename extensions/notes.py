"""The one collector of warnings a plan build passes to every parser and precedence rule.

Warnings are said once each, in the order found; the loader prints them to stderr and records
them in the plan, so nothing it falls back on is assumed in silence.
"""

from __future__ import annotations


class Warnings:
    def __init__(self) -> None:
        self._messages: list[str] = []

    def add(self, message: str) -> None:
        if message not in self._messages:
            self._messages.append(message)

    def __iter__(self):
        return iter(self._messages)

    def __len__(self) -> int:
        return len(self._messages)

    def as_list(self) -> list[str]:
        return list(self._messages)
