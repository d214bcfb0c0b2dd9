"""Answer migrations, run by Copier's `_migrations` when a later version renames an answer.

    python extensions/migrate.py rename OLD NEW ANSWERS_FILE

Copier runs "before" migrations in the project before it reads the recorded answers, so an
answer recorded under OLD is taken up under NEW and nothing the user answered is lost. (A
plan recorded in another shape needs no migration: copier.yml's plan validator has it read
again from the input files, see PLAN_FORMAT in plan.py.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

if __package__:
    from .finetune import YAML_LOADER
    from .render import answers_yaml
else:  # run as a script by a `_migrations` command: import this directory as the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from extensions.finetune import YAML_LOADER
    from extensions.render import answers_yaml


def rename(answers_file: Path, old: str, new: str) -> bool:
    """Rename one recorded answer in place; False when there was nothing to rename."""
    answers = _read(answers_file)
    if old not in answers or new in answers:
        return False
    _write(answers_file, {(new if key == old else key): value for key, value in answers.items()})
    return True


def _read(answers_file: Path) -> dict:
    return yaml.load(answers_file.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}


def _write(answers_file: Path, answers: dict) -> None:
    text = answers_file.read_text(encoding="utf-8")
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    # The template's own dumper: it writes NEL, LS and PS so that they read back exactly.
    answers_file.write_text(header + answers_yaml(answers), encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "rename":
        _, old, new, answers_file = argv
        if rename(Path(answers_file), old, new):
            print(f"migrated answer {old} -> {new} in {answers_file}", file=sys.stderr)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
