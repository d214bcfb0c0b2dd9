"""The one error type the loader raises for bad input."""

from copier.errors import UserMessageError


class InputError(UserMessageError):
    """Bad input, reported before anything is rendered.

    Subclassing Copier's UserMessageError makes `copier copy` print the message alone and
    exit 1, instead of a traceback; the message names the file, the value and the fix.
    """

    def __init__(self, file: object, problem: str, fix: str) -> None:
        self.file = str(file)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.file}: {problem}\n  fix: {fix}")
