"""The template's version, as a person should read it, and Copier's no-tag warning once.

Copier knows a template's version only from git tags (`git describe`, read by dunamai). A
repository without a release tag is at "0.0.0.postN.dev0+HASH" to Copier, however far it
is, while pyproject.toml says which version is being made; the messages after a copy or
an update say both, from pyproject.toml and the commit Copier records.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
NO_TAGS = "No git tags found in template; using HEAD as ref"


def pyproject_version(path: Path = PYPROJECT) -> str | None:
    """`version = "x.y.z"` of pyproject.toml's [project] table, as `make release` checks it."""
    try:
        match = re.search(r'(?m)^version = "([^"]+)"$', path.read_text(encoding="utf-8"))
    except OSError:
        return None
    return match.group(1) if match else None


def template_version(commit: str | None, version: str | None = None) -> str:
    """What rendered the tree: the release, or the version being made and the commit
    (`_commit` of the answers file: a tag, `vX.Y.Z-N-gHASH`, or a bare hash)."""
    version = version or pyproject_version()
    if version is None:  # a template copied without its pyproject.toml: git alone says
        return f"copier-inspect-slurm {commit}" if commit else "copier-inspect-slurm"
    name = f"copier-inspect-slurm {version}"
    if not commit or commit == f"v{version}":
        return name
    after = re.fullmatch(r"(v\d+\.\d+\.\d+)-(\d+)-g([0-9a-f]+)", commit)
    if after:
        return f"{name}, unreleased: commit {after[3]}, {after[2]} after the release {after[1]}"
    if re.fullmatch(r"[0-9a-f]{4,40}", commit):
        return (f"{name}, unreleased: commit {commit} of a repository with no release tag "
                "(Copier calls that 0.0.0.postN)")
    return f"{name} ({commit})"


class _WithoutRepeats:
    """sys.stderr, less Copier's NO_TAGS line (and the newline print() writes after it)."""

    def __init__(self, stream):
        self._stream = stream
        self._dropped = False

    def write(self, text: str) -> int:
        if NO_TAGS in text:
            self._dropped = True
            return len(text)
        if self._dropped and text == "\n":
            self._dropped = False
            return len(text)
        self._dropped = False
        return self._stream.write(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def say_no_tags_once() -> None:
    """From now on in this process, drop Copier's NO_TAGS warning.

    Copier prints it each time it resolves the template's newest tag, and `copier update`
    does that three times: for the update itself, then for each of the two copies it
    renders into the destination and a scratch directory (each its own Worker and
    Template). The first is printed before any code of the template runs, so the user
    reads it once; the two repeats say nothing new. Called when Copier loads the template's
    Jinja extension; a release tag (`make release`) makes the warning go away altogether.
    """
    if not isinstance(sys.stderr, _WithoutRepeats):
        sys.stderr = _WithoutRepeats(sys.stderr)
