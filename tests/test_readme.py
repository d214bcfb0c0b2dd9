"""Every shell block of README.md that a user would paste, run as written on a fresh clone.

The scene: this working tree is committed into a repository of its own and published (a
bare repository); a maintainer clones it and releases it with the README's release block; a
user clones the published repository and follows the README, with the bundled example
experiment. Placeholders (`/path/to/experiment`, `NEW_DIR`, …) are replaced by real paths and
values. Blocks that cannot run on one machine are listed below, each with its reason, and the
list is checked too: a listed block that left the README fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pexpect
import yaml
from markdown_it import MarkdownIt

from tests.conftest import ROOT, scripts
from tests.repos import ANSWERS, commit_all, copy_files, git, working_tree_files
from tests.terminal import ESC_ENTER, MULTILINE_PROMPT, YES_NO_PROMPT, settle

# First line of a block -> why it cannot run here.
CANNOT_RUN = {
    "make test   # creates .venv if needed, installs the test extras, runs the test suite":
        "it is this test suite",
    "./submit_evals.sh --dry-run          # print the sbatch commands, submit nothing":
        "it needs a cluster's sbatch and squeue (make e2e runs submit_evals.sh on a real Slurm)",
    "./collect_results.py                                # tables and plots in results/":
        "it reads the logs of evaluations that ran on a cluster, and none ran here "
        "(tests/test_results.py runs it on real inspect logs, make e2e on those of real Slurm jobs)",
}

# The working directory of a block, by the README section it is in.
SECTION_CWD = {
    "Quick start": "clone",
    "Use it on an experiment": "experiment",
    "Keeping the tree up to date": "experiment",
    "Versions": "maintainer",
}


@dataclass
class Block:
    section: str
    text: str

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0]


def shell_blocks(readme: str) -> list[Block]:
    """The fenced bash blocks, with the `##`/`###` heading each is under."""
    blocks, section = [], None
    tokens = MarkdownIt().parse(readme)
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            section = tokens[i + 1].content
        elif token.type == "fence" and token.info.strip() in ("bash", "sh", "shell", "console"):
            blocks.append(Block(section, token.content))
    return blocks


def test_the_list_of_blocks_that_cannot_run_is_current():
    first_lines = [block.first_line for block in shell_blocks((ROOT / "README.md").read_text())]
    for first_line in CANNOT_RUN:
        assert first_lines.count(first_line) == 1, f"README.md has no block starting {first_line!r}: update CANNOT_RUN"


class User:
    """A shell with a fresh virtual environment and a git identity, answering Copier's
    questions as a person who accepts what is shown: Esc and Enter for a multi-line answer,
    Enter for a yes/no question."""

    def __init__(self, home: Path):
        home.mkdir()
        # The README's install block makes this venv; its later blocks run as in a shell
        # where it was activated. The user's own environment (pip configuration included).
        self.venv = home / "venvs" / "copier"
        self.env = {
            **{name: value for name, value in os.environ.items() if name != "VIRTUAL_ENV"},
            "PATH": f"{self.venv / 'bin'}:{os.environ['PATH']}",
            "TERM": "xterm",
            "PROMPT_TOOLKIT_NO_CPR": "1",
            "GIT_AUTHOR_NAME": "A User", "GIT_AUTHOR_EMAIL": "user@example.com",
            "GIT_COMMITTER_NAME": "A User", "GIT_COMMITTER_EMAIL": "user@example.com",
        }

    def run(self, text: str, cwd: Path) -> str:
        child = pexpect.spawn("bash", ["-euo", "pipefail", "-c", text], cwd=str(cwd), env=self.env,
                              encoding="utf-8", timeout=600, dimensions=(50, 120))
        output = []
        while True:
            index = child.expect_exact([MULTILINE_PROMPT, YES_NO_PROMPT, pexpect.EOF])
            output.append(child.before)
            if index == 2:
                break
            output.append(settle(child))
            child.send(ESC_ENTER if index == 0 else "\r")
            if index == 0:  # an accepted multi-line prompt is drawn once more, marker included
                child.expect_exact([MULTILINE_PROMPT, pexpect.EOF])
                output.append(child.before)
        child.close()
        transcript = "".join(output)
        assert child.exitstatus == 0, f"{text}\nexited {child.exitstatus}:\n{transcript[-3000:]}"
        return transcript


def published_repository(tmp_path: Path) -> Path:
    """This working tree, committed, as the repository users clone (bare, like a server's)."""
    source = tmp_path / "source"
    copy_files(working_tree_files(), source)
    git(source, "init", "-q", "-b", "main")
    commit_all(source, "the template")
    published = tmp_path / "copier-inspect-slurm.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(published))
    return published


def version() -> str:
    """The version pyproject.toml declares, read as `make release` checks it."""
    return re.search(r'(?m)^version = "(.+)"$', (ROOT / "pyproject.toml").read_text()).group(1)


def release_newer_version(maintainer: Path, user: User, release: Block, number: str) -> None:
    """What a maintainer does for the next version, through the README's release block."""
    script = maintainer / "template" / "submit_evals.sh.jinja"
    script.write_text(script.read_text().replace("set -uo pipefail\n", f"set -uo pipefail\n# template {number}\n", 1))
    changelog = maintainer / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace("## Unreleased\n", f"## {number}\n\n- A marked submit_evals.sh.\n\n## Unreleased\n", 1))
    pyproject = maintainer / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(f'version = "{version()}"', f'version = "{number}"', 1))
    commit_all(maintainer, f"release {number}")
    user.run(release.text.replace("X.Y.Z", number), maintainer)


def drop_run(experiment: Path, run: str) -> None:
    summary = experiment / "experiment_summary.md"
    lines = summary.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(f"| {run} |")]
    assert len(kept) == len(lines) - 2  # its All Runs row and its Evaluation Matrix row
    summary.write_text("".join(kept))


def test_every_readme_command_works_on_a_fresh_clone(tmp_path):
    blocks = shell_blocks((ROOT / "README.md").read_text())
    runnable = [block for block in blocks if block.first_line not in CANNOT_RUN]
    releases = [block for block in runnable if block.section == "Versions"]
    assert len(releases) == 1 and "make release VERSION=X.Y.Z" in releases[0].text
    release = releases[0]

    user = User(tmp_path / "home")
    published = published_repository(tmp_path)
    maintainer = tmp_path / "maintainer"
    git(tmp_path, "clone", "-q", str(published), str(maintainer))
    first = version()
    user.run(release.text.replace("X.Y.Z", first), maintainer)
    assert git(published, "tag") == f"v{first}\n"

    clone = tmp_path / "copier-inspect-slurm"
    git(tmp_path, "clone", "-q", str(published), str(clone))
    experiment = tmp_path / "experiment"
    shutil.copytree(ROOT / "examples" / "cap_1B_lora", experiment)
    new_dir = tmp_path / "reproduced"
    cwd = {"clone": clone, "experiment": experiment, "maintainer": maintainer}
    ran = []
    for block in runnable:
        if block is release:
            continue
        assert block.section in SECTION_CWD, f"a shell block under '{block.section}': where does it run? (SECTION_CWD)"
        text = block.text
        if "reread_inputs=true" in text:
            drop_run(experiment, "r16_lr1e-5")
            commit_all(experiment, "r16 dropped")
        if "copier update --trust --defaults\n" in text:
            release_newer_version(maintainer, user, release, "99.0.0")
        recorded = yaml.safe_load((experiment / ANSWERS).read_text()) if (experiment / ANSWERS).exists() else {}
        for placeholder, value in (
            ("/path/to/copier-inspect-slurm", clone),
            ("/path/to/experiment", experiment),
            ("NEW_DIR", new_dir),
            ("~/venvs/copier", user.venv),
            ("COMMIT", recorded.get("_commit")),
        ):
            text = text.replace(placeholder, str(value))
        user.run(text, cwd[SECTION_CWD[block.section]])
        ran.append(block.first_line)
        check_after(block.first_line, user, clone, experiment, new_dir, first)

    assert len(ran) == len(runnable) - 1


def check_after(first_line: str, user: User, clone: Path, experiment: Path, new_dir: Path, first: str) -> None:
    """What each block must have done: a block that ran without doing its job fails here."""
    if first_line.startswith("make demo"):
        assert len(scripts(clone / "build" / "demo")) == 8
    elif first_line.startswith("python3 -m venv"):
        assert (user.venv / "bin" / "copier").is_file()  # the next blocks use what it installed
    elif first_line == "cd /path/to/experiment":
        recorded = yaml.safe_load((experiment / ANSWERS).read_text())
        assert recorded["_commit"] == f"v{first}"
        assert len(scripts(experiment)) == 8
        assert git(experiment, "status", "--porcelain") == ""
    elif first_line.startswith("git -C /path/to/copier-inspect-slurm pull"):
        recorded = yaml.safe_load((experiment / ANSWERS).read_text())
        assert recorded["_commit"] == "v99.0.0"
        assert "# template 99.0.0\n" in (experiment / "submit_evals.sh").read_text()
        commit_all(experiment, "template 99.0.0")
    elif "reread_inputs=true" in first_line:
        assert not list((experiment / "r16_lr1e-5").glob("eval/*.slurm"))
        assert len(scripts(experiment)) == 5
        commit_all(experiment, "plan without r16")
    elif first_line.startswith("copier copy --trust --defaults --data-file"):
        made = {p.relative_to(new_dir): p.read_bytes() for p in scripts(new_dir)}
        assert made == {p.relative_to(experiment): p.read_bytes() for p in scripts(experiment)}
        assert len(made) == 5
    else:
        raise AssertionError(f"no check for the README block starting {first_line!r}: add one to check_after")
