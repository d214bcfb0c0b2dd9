"""Every shell block of README.md and docs/*.md that a user would paste, run as written on a
fresh clone.

The scene: this working tree is committed into a repository of its own and published (a
bare repository); a maintainer clones it and releases it with docs/DEVELOPMENT.md's release
block; a user clones the published repository and follows the README, then the docs, with
the bundled example experiment. Placeholders (`/path/to/experiment`, `NEW_DIR`, …) are
replaced by real paths and values. Blocks that cannot run on one machine are listed below,
each with its reason, and the list is checked too: a listed block that left the documents
fails the test. Every block that runs has a check of what it did (check_after).
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

# The documents, in the order a user reads them: the README, then the pages it links.
DOCUMENTS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]

# First line of a block -> why it cannot run here.
CANNOT_RUN = {
    "make test   # creates .venv if needed, installs the test extras, runs the test suite":
        "it is this test suite",
    "./submit_evals.sh --dry-run          # print the sbatch commands, submit nothing":
        "it needs a cluster's sbatch and squeue (make e2e runs submit_evals.sh on a real Slurm)",
    "./submit_evals.sh --status          # one line per cell: done, failed (with the reason), pending, …":
        "it needs a cluster's sbatch, squeue and sacct (tests/test_submit.py runs both options "
        "against recorders, make e2e on a real Slurm)",
    "./collect_results.py                                # tables and plots in results/":
        "it reads the logs of evaluations that ran on a cluster, and none ran here "
        "(tests/test_results.py runs it on real inspect logs, make e2e on those of real Slurm jobs)",
}

RELEASE = "make release VERSION=X.Y.Z   # checks the tree is committed, the CHANGELOG and pyproject; tags vX.Y.Z"

# The working directory of each block that runs, by its first line.
CWD = {
    "make demo   # in a clone of this repository: renders examples/cap_1B_lora into build/demo": "clone",
    "python3 -m venv ~/venvs/copier                           # once": "experiment",
    "cd /path/to/experiment": "experiment",
    'git add -A && git commit -qm "add run r32_lr1e-5"   # the input files you edited': "experiment",
    'git commit -qam "fix the prompt"                     # the input files you edited': "experiment",
    "mv /path/to/experiment /path/to/moved-experiment": "home",
    "git -C /path/to/copier-inspect-slurm pull   # the clone learns of the new release": "experiment",
    'echo "/results/" >> .gitignore': "experiment",
    "copier copy --trust --defaults --data-file /path/to/experiment/.copier-answers.yml \\": "experiment",
    RELEASE: "maintainer",
}


@dataclass
class Block:
    document: str
    section: str | None
    text: str

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0]


def shell_blocks(text: str, document: str = "README.md") -> list[Block]:
    """The fenced bash blocks, with the `##`/`###` heading each is under."""
    blocks, section = [], None
    tokens = MarkdownIt().parse(text)
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            section = tokens[i + 1].content
        elif token.type == "fence" and token.info.strip() in ("bash", "sh", "shell", "console"):
            blocks.append(Block(document, section, token.content))
    return blocks


def every_block() -> list[Block]:
    return [block for name in DOCUMENTS for block in shell_blocks((ROOT / name).read_text(), name)]


def test_the_lists_of_blocks_are_current():
    """Each block is listed once, as one that cannot run or with where it runs; a listed
    block that left the documents fails here."""
    first_lines = [block.first_line for block in every_block()]
    for first_line in [*CANNOT_RUN, *CWD]:
        assert first_lines.count(first_line) == 1, f"no block (or several) starts {first_line!r}: update CANNOT_RUN or CWD"
    unlisted = [line for line in first_lines if line not in CANNOT_RUN and line not in CWD]
    assert unlisted == [], "a shell block with no working directory (CWD) and no check (check_after)"


def test_the_docs_are_covered():
    """The blocks of docs/*.md run too: the test reads every page of docs/."""
    assert {"docs/INPUTS.md", "docs/REFERENCE.md", "docs/DEVELOPMENT.md"} <= set(DOCUMENTS)
    assert {block.document for block in every_block()} >= {"README.md", "docs/REFERENCE.md", "docs/DEVELOPMENT.md"}


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


def add_run(experiment: Path) -> None:
    """What the README's "Add a run" asks of the user: the design and the run's setup file."""
    (experiment / "r32_lr1e-5").mkdir()
    setup = (experiment / "r16_lr1e-5" / "setup_finetune.yaml").read_text()
    (experiment / "r32_lr1e-5" / "setup_finetune.yaml").write_text(
        setup.replace("r16_lr1e-5", "r32_lr1e-5").replace("lora_rank: 16", "lora_rank: 32"))
    summary = experiment / "experiment_summary.md"
    text = summary.read_text()
    for row, new in (("| r16_lr1e-5 | Llama-3.2-1B-Instruct | 16 | 1e-5 | Fine-tuned | ~12 min |\n",
                      "| r32_lr1e-5 | Llama-3.2-1B-Instruct | 32 | 1e-5 | Fine-tuned | ~12 min |\n"),
                     ("| r16_lr1e-5 | ✓ epoch 0,1 | ✓ epoch 1 | |\n", "| r32_lr1e-5 | ✓ epoch 0,1 | ✓ epoch 1 | |\n")):
        assert row in text
        text = text.replace(row, row + new, 1)
    summary.write_text(text)


OLD_PROMPT, NEW_PROMPT = "Capitalize the given word: {input}", "Capitalize this word: {input}"


def fix_prompt(experiment: Path) -> None:
    files = [experiment / "experiment_summary.md", *experiment.glob("*/setup_finetune.yaml")]
    for path in files:
        path.write_text(path.read_text().replace(OLD_PROMPT, NEW_PROMPT))


def test_every_documented_command_works_on_a_fresh_clone(tmp_path):
    blocks = every_block()
    runnable = [block for block in blocks if block.first_line not in CANNOT_RUN]
    release = next(block for block in runnable if block.first_line == RELEASE)

    user = User(tmp_path / "home")
    published = published_repository(tmp_path)
    maintainer = tmp_path / "maintainer"
    git(tmp_path, "clone", "-q", str(published), str(maintainer))
    first = version()
    user.run(release.text.replace("X.Y.Z", first), maintainer)
    assert git(published, "tag") == f"v{first}\n"

    clone = tmp_path / "copier-inspect-slurm"
    git(tmp_path, "clone", "-q", str(published), str(clone))
    scene = Scene(user, clone, tmp_path / "experiment", tmp_path / "moved-experiment", tmp_path / "reproduced", first)
    shutil.copytree(ROOT / "examples" / "cap_1B_lora", scene.experiment)
    ran = []
    for block in runnable:
        if block is release:
            continue
        text = block.text
        if block.first_line.startswith('git add -A && git commit -qm "add run'):
            add_run(scene.experiment)
        elif block.first_line.startswith('git commit -qam "fix the prompt"'):
            fix_prompt(scene.experiment)
        elif block.first_line.startswith("git -C /path/to/copier-inspect-slurm pull"):
            release_newer_version(maintainer, user, release, "99.0.0")
        recorded = yaml.safe_load((scene.experiment / ANSWERS).read_text()) if (scene.experiment / ANSWERS).exists() else {}
        for placeholder, value in (
            ("/path/to/copier-inspect-slurm", clone),
            ("/path/to/moved-experiment", scene.moved),
            ("/path/to/experiment", scene.experiment),
            ("NEW_DIR", scene.new_dir),
            ("~/venvs/copier", user.venv),
            ("COMMIT", recorded.get("_commit")),
        ):
            text = text.replace(placeholder, str(value))
        cwd = {"clone": clone, "experiment": scene.experiment, "maintainer": maintainer, "home": tmp_path}
        transcript = user.run(text, cwd[CWD[block.first_line]])
        ran.append(block.first_line)
        check_after(block.first_line, scene, transcript)

    assert len(ran) == len(runnable) - 1


@dataclass
class Scene:
    user: User
    clone: Path
    experiment: Path
    moved: Path
    new_dir: Path
    first: str


def check_after(first_line: str, scene: Scene, transcript: str) -> None:
    """What each block must have done: a block that ran without doing its job fails here."""
    experiment = scene.experiment
    if first_line.startswith("make demo"):
        assert len(scripts(scene.clone / "build" / "demo")) == 8
        assert not (scene.clone / ".venv" / "bin" / "pytest").exists()  # what rendering needs, no more
        shown = transcript[transcript.index("Rendered into"):].splitlines()
        assert len(shown) < 50 and "#SBATCH --job-name=eval-capitalization-r8_lr1e-5-epoch0" in transcript
    elif first_line.startswith("python3 -m venv"):
        assert (scene.user.venv / "bin" / "copier").is_file()  # the next blocks use what it installed
    elif first_line == "cd /path/to/experiment":
        recorded = yaml.safe_load((experiment / ANSWERS).read_text())
        assert recorded["_commit"] == f"v{scene.first}"
        assert len(scripts(experiment)) == 8
        assert git(experiment, "status", "--porcelain") == ""
    elif "add run r32_lr1e-5" in first_line:
        assert len(list((experiment / "r32_lr1e-5").glob("eval/*.slurm"))) == 3
        assert len(scripts(experiment)) == 11
        assert git(experiment, "status", "--porcelain") == ""
    elif "fix the prompt" in first_line:
        fine_tuned = [p for p in scripts(experiment) if not p.parent.parent.name.endswith("_base")]
        assert len(fine_tuned) == 9
        for script in scripts(experiment):
            assert f'"prompt": "{NEW_PROMPT}\\n"' in script.read_text(), script
        assert re.search(r"\b1[1-9] files changed", transcript)  # git diff --stat: the 11 scripts, and the plan's files
        assert git(experiment, "status", "--porcelain") == ""
    elif first_line.startswith("mv /path/to/experiment"):
        assert not experiment.exists()
        scene.experiment = scene.moved
        rendered = [*scripts(scene.moved), scene.moved / "submit_evals.sh", scene.moved / "collect_results.py"]
        assert len(rendered) == 13
        assert not [p for p in rendered if str(experiment) + "/" in p.read_text()]  # every path says where it is now
        assert git(scene.moved, "status", "--porcelain") == ""
    elif first_line.startswith("git -C /path/to/copier-inspect-slurm pull"):
        recorded = yaml.safe_load((experiment / ANSWERS).read_text())
        assert recorded["_commit"] == "v99.0.0"
        assert "# template 99.0.0\n" in (experiment / "submit_evals.sh").read_text()
        commit_all(experiment, "template 99.0.0")
    elif first_line.startswith('echo "/results/" >> .gitignore'):
        # What the jobs write, as they name it: none of it makes the tree dirty for copier update.
        logs = experiment / "r8_lr1e-5" / "eval" / "logs"
        for name in ("2026-12-01T10-00-00-00-00_capitalization_epoch0_Xk3V.eval", ".capitalization_epoch0.complete",
                     ".capitalization_epoch0.job", "../slurm-123.out", "../../../results/results.csv"):
            (logs / name).parent.mkdir(parents=True, exist_ok=True)
            (logs / name).write_text("x")
        assert git(experiment, "status", "--porcelain") == ""
        assert git(experiment, "ls-files", "r8_lr1e-5/eval/logs") == "r8_lr1e-5/eval/logs/.gitkeep\n"
    elif first_line.startswith("copier copy --trust --defaults --data-file"):
        made = {p.relative_to(scene.new_dir): p.read_bytes() for p in scripts(scene.new_dir)}
        assert made == {p.relative_to(experiment): p.read_bytes() for p in scripts(experiment)}
        assert len(made) == 11
    else:
        raise AssertionError(f"no check for the block starting {first_line!r}: add one to check_after")
