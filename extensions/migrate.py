"""Answer migrations, run by Copier's `_migrations` when a later version renames an answer.

    python extensions/migrate.py rename OLD NEW ANSWERS_FILE

Copier runs "before" migrations in the project before it reads the recorded answers, so an
answer recorded under OLD is taken up under NEW and nothing the user answered is lost.
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
    text = answers_file.read_text(encoding="utf-8")
    answers = yaml.load(text, Loader=YAML_LOADER) or {}
    if old not in answers or new in answers:
        return False
    answers = {(new if key == old else key): value for key, value in answers.items()}
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    # The template's own dumper: it writes NEL, LS and PS so that they read back exactly.
    answers_file.write_text(header + answers_yaml(answers), encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "rename":
        print(__doc__, file=sys.stderr)
        return 2
    _, old, new, answers_file = argv
    if rename(Path(answers_file), old, new):
        print(f"migrated answer {old} -> {new} in {answers_file}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
