"""The fine-tuning job name in finetune.slurm, read as sbatch reads its directives."""

from __future__ import annotations

import shutil

import pytest
import yaml

from extensions.errors import InputError
from extensions.finetune_job import read_finetune_job_name
from tests.conftest import ROOT, run_copier


def script(tmp_path, text: str):
    path = tmp_path / "finetune.slurm"
    path.write_text(text)
    return path


def test_the_scripts_setup_finetune_py_wrote():
    fixtures = ROOT / "tests/fixtures"
    assert read_finetune_job_name(fixtures / "nov2025/cap_r8_lr1e-5/finetune.slurm") == "r8_lr1e-5"
    assert read_finetune_job_name(fixtures / "oct2025/prompt2_bs4/finetune.slurm") == "oct1-prompt-2"


@pytest.mark.parametrize(
    "directive,name",
    [
        ("#SBATCH --job-name=r8 # Job name", "r8"),
        ("#SBATCH --job-name r8", "r8"),
        ("#SBATCH -J r8", "r8"),
        ("#SBATCH -Jr8", "r8"),
        ('#SBATCH --job-name="rank 8"  # spaces, quoted', "rank 8"),
        ("#SBATCH --job-name='it''s'", "its"),
        ("#SBATCH --nodes=1 --job-name=r8", "r8"),
        ("#SLURM --job-name=old", "old"),
    ],
)
def test_directive_forms(tmp_path, directive, name):
    assert read_finetune_job_name(script(tmp_path, f"#!/bin/bash\n{directive}\n#SBATCH --time=1:00\n")) == name


def test_the_last_job_name_wins(tmp_path):
    assert read_finetune_job_name(script(tmp_path, "#SBATCH -J first\n#SBATCH --job-name=second\n")) == "second"


@pytest.mark.parametrize(
    "text",
    [
        "#!/bin/bash\n#SBATCH --time=1:00\n",
        "#!/bin/bash\n##SBATCH --job-name=commented\n",  # a disabled directive
        "#!/bin/bash\n #SBATCH --job-name=indented\n",  # sbatch wants it at the line start
        "#!/bin/bash\nmodule purge\n#SBATCH --job-name=late\n",  # after the first command
    ],
)
def test_no_directive_sbatch_would_read_is_none(tmp_path, text):
    assert read_finetune_job_name(script(tmp_path, text)) is None


def test_no_file_is_none(tmp_path):
    assert read_finetune_job_name(tmp_path / "finetune.slurm") is None


def test_an_unclosed_quote_names_the_line(tmp_path):
    with pytest.raises(InputError, match=r"finetune.slurm: line 2: .*No closing quotation"):
        read_finetune_job_name(script(tmp_path, '#!/bin/bash\n#SBATCH --job-name="open\n'))


def test_the_copy_records_the_last_job_name_with_its_quotes_honoured(tmp_path):
    """Through the copier command line: the job name submit_evals.sh waits for is the one
    sbatch gives the fine-tuning job, the last --job-name, unquoted as a shell would."""
    destination = tmp_path / "experiment"
    shutil.copytree(ROOT / "examples/cap_1B_lora", destination)
    (destination / "r8_lr1e-5" / "finetune.slurm").write_text(
        "#!/bin/bash\n#SBATCH --job-name=first\n#SBATCH -J 'r8 rank'\"-8\"  # the second wins\n#SBATCH --time=1:00:00\n"
        "srun tune run lora_finetune_single_device --config finetune.yaml\n#SBATCH --job-name=ignored\n")
    result = run_copier("copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD", str(ROOT), str(destination))
    assert result.returncode == 0, result.stderr
    plan = yaml.safe_load((destination / ".copier-answers.yml").read_text())["plan"]
    assert {run["name"]: run["finetune_job"] for run in plan["runs"]}["r8_lr1e-5"] == "r8 rank-8"
    assert "run r8_lr1e-5 r8_lr1e-5 'r8 rank-8'" in (destination / "submit_evals.sh").read_text()
