"""claude.local.md parser and its lookup through parent directories."""

from __future__ import annotations

import pytest

from extensions.errors import InputError
from extensions.notes import Warnings
from extensions.site import Site, find_site_file, read_site
from tests.conftest import ROOT
from extensions.plan import build_plan
from extensions.render import sbatch_header
from tests.experiment import SITE, Experiment, Run

EXAMPLE = ROOT / "examples/cap_1B_lora/claude.local.md"


def test_example():
    site = read_site(EXAMPLE)
    assert (site.account, site.partition, site.conda_env) == ("msalganik", None, "cruijff")
    assert site.module_lines == ("module load anaconda3/2025.6",)


def test_found_in_a_parent_directory(tmp_path):
    (tmp_path / "claude.local.md").write_text(SITE)
    experiment = tmp_path / "experiments" / "cap"
    experiment.mkdir(parents=True)
    assert find_site_file(experiment) == tmp_path / "claude.local.md"
    (experiment / "claude.local.md").write_text(SITE)
    assert find_site_file(experiment) == experiment / "claude.local.md"


def test_variants(tmp_path):
    path = tmp_path / "claude.local.md"
    path.write_bytes(
        (
            "## SLURM defaults\r\n"
            "* Account: lab2\r\n"
            "* **Partition:** `gpu`\r\n"
            "* Default conda environment: `env-a`\r\n"
            "\r\n"
            "## Module System\r\n"
            "~~~bash\r\n"
            "# the site's python\r\n"
            "module purge\r\n"
            "module load anaconda3/2024.2 cuda/12.4\r\n"
            "~~~\r\n"
        ).encode("utf-8-sig")
    )
    site = read_site(path)
    assert (site.account, site.partition, site.conda_env) == ("lab2", "gpu", "env-a")
    assert site.module_lines == ("module purge", "module load anaconda3/2024.2 cuda/12.4")


def test_no_file_means_no_settings():
    site = read_site(None)
    assert (site.account, site.conda_env, site.module_lines) == (None, None, ())


def parse(tmp_path, text: str):
    path = tmp_path / "claude.local.md"
    path.write_text(text)
    warnings = Warnings()
    return read_site(path, warnings), "\n".join(warnings)


def test_della_reference_copy():
    path = ROOT / "tests/fixtures/nov2025/claude.local.md"
    warnings = Warnings()
    assert read_site(path, warnings) == Site(
        path=path,
        account="msalganik",
        partition=None,
        constraint="gpu80",
        conda_env="cruijff",
        max_jobs=25,
        username="mjs3",
        outputs_dir="/scratch/gpfs/MSALGANIK/mjs3/ck-outputs/",
        experiments_dir="/scratch/gpfs/MSALGANIK/mjs3/ck-experiments/",
        scratch_dir="/scratch/gpfs/MSALGANIK/mjs3",  # HPC Environment → Scratch directory
        module_lines=("module load anaconda3/2025.6",),
    )
    # `<your_github_username>` is in a section the template does not read: not a warning.
    assert list(warnings) == []


def test_october_template_copy_with_a_placeholder():
    path = ROOT / "tests/fixtures/oct2025/claude.local.md"
    warnings = Warnings()
    site = read_site(path, warnings)
    assert (site.account, site.partition, site.constraint, site.username) == ("cses", None, "gpu80", "niznik")
    assert site.outputs_dir == "/scratch/gpfs/MSALGANIK/niznik/ck-outputs/"  # Experiments & Outputs
    assert list(warnings) == [
        f"{path}: SLURM Defaults → Partition is '<partition>', a placeholder not filled in: ignored"
    ]


@pytest.mark.parametrize(
    "bullet,field",
    [
        ("- **Account**: `<your_slurm_account>`", "account"),
        ("- **Constraint**: `<gpu_constraint>` (e.g., `gpu80` for 80GB VRAM GPUs)", "constraint"),
        ("- **Default conda environment**: `<env>`", "conda_env"),
    ],
)
def test_placeholders_are_not_filled_in(tmp_path, bullet, field):
    site, warnings = parse(tmp_path, f"## SLURM Defaults\n{bullet}\n")
    assert getattr(site, field) is None
    assert "a placeholder not filled in: ignored" in warnings


def test_placeholder_paths(tmp_path):
    site, warnings = parse(
        tmp_path,
        "## HPC Environment\n- **Username**: `<your_username>`\n\n## Common Paths\n### Working Directories\n"
        "- **Outputs**: `/scratch/gpfs/<group>/<username>/ck-outputs/`\n",
    )
    assert (site.username, site.outputs_dir) == (None, None)
    assert "HPC Environment → Username is '<your_username>'" in warnings
    assert "Common Paths → Outputs is '/scratch/gpfs/<group>/<username>/ck-outputs/'" in warnings


@pytest.mark.parametrize(
    "bullet,message",
    [
        ("- **Max jobs**: many", "SLURM Defaults → max jobs 'many' is no count of jobs from 1 to 999999999"),
        ("- **Max jobs**: 0", "max jobs '0' is no count of jobs from 1 to 999999999"),
        ("- **Max jobs**: 10000000000", "max jobs '10000000000' is no count of jobs from 1 to 999999999"),
        ("- **Max memory**: 512 GB", "SLURM Defaults → max memory '512 GB' is not an amount of memory as sbatch's --mem takes it"),
        ("- **Max memory**: 1t", "max memory '1t' is not an amount of memory"),
        ("- **Max time**: 48h", "SLURM Defaults → max time '48h' is not a time limit as D-HH:MM:SS or HH:MM:SS"),
    ],
)
def test_bad_settings_are_reported_against_claude_local_md(tmp_path, bullet, message):
    path = tmp_path / "claude.local.md"
    path.write_text(f"## SLURM Defaults\n{bullet}\n")
    with pytest.raises(InputError) as error:
        read_site(path, Warnings())
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


@pytest.mark.parametrize(
    "bullet,constraint",
    [("- **Constraint**: `gpu80|gpu40`", "gpu80|gpu40"), ("- **Constraint**: a100&ib", "a100&ib")],
)
def test_constraint_expressions(tmp_path, bullet, constraint):
    assert parse(tmp_path, f"## SLURM Defaults\n{bullet}\n")[0].constraint == constraint


def test_retry_caps(tmp_path):
    site = parse(tmp_path, "## SLURM Defaults\n- **Max memory**: `512G`\n- **Max time**: 2-00:00:00\n")[0]
    assert (site.max_mem, site.max_time) == ("512G", "2-00:00:00")
    site = parse(tmp_path, "## SLURM Defaults\n- **Max memory**: (none)\n")[0]
    assert (site.max_mem, site.max_time) == (None, None)


def test_max_jobs_forms(tmp_path):
    assert parse(tmp_path, "## SLURM Defaults\n- **Max jobs**: `25` (Della's limit)\n")[0].max_jobs == 25
    assert parse(tmp_path, "## SLURM Defaults\n- **Max jobs**: (none)\n")[0].max_jobs is None


def test_a_qos_becomes_an_sbatch_line_of_every_script(tmp_path):
    (tmp_path / "claude.local.md").write_text(SITE.replace("- **Account**", "- **QOS**: `gpu-short`\n- **Account**"))
    plan = build_plan(Experiment(runs=[Run("a"), Run("b_base", kind="Base")], site=None).write(tmp_path))
    assert [dict(run.sbatch).get("qos") for run in plan.runs] == ["gpu-short", "gpu-short"]
    # The template prints each cell's header through this filter, with no line of its own for QOS.
    headers = [sbatch_header(run.sbatch, cell.job_name) for run in plan.runs for cell in run.cells]
    assert headers and all("\n#SBATCH --qos=gpu-short\n" in header + "\n" for header in headers)


def test_extra_sbatch_options_are_added_to_every_script_and_win_over_the_templates(tmp_path):
    extra = "- **Extra sbatch options**: `--mail-type=END,FAIL --time=2:00:00`\n- **Account**"
    (tmp_path / "claude.local.md").write_text(SITE.replace("- **Account**", extra))
    (run,) = build_plan(Experiment(site=None).write(tmp_path)).runs
    header = dict(run.sbatch)
    assert (header["mail-type"], header["time"]) == ("END,FAIL", "2:00:00")
    assert [option for option, _ in run.sbatch].count("time") == 1


@pytest.mark.parametrize(
    "written,problem",
    [("`--mail-type END`", "'--mail-type' is not of the form --option=value"),
     ("`--job-name=x`", "--job-name=x is set per script"),
     ("`--array=0-3`", "--array=0-3 is set per script by the template, or breaks how a cell runs: one job per cell"),
     ("`--chdir=/tmp`", "--chdir=/tmp .* each cell runs from its eval directory"),
     ("`--output=/tmp/x.out`", "--output=/tmp/x.out .* slurm-%j.out beside its script"),
     ("`--dependency=afterok:1`", "--dependency=afterok:1 .* chains each cell to its own fine-tuning job"),
     ("`--export=NONE`", "--export=NONE .* would lose the environment its set-up lines need"),
     ("`--comment='a b`", "No closing quotation")],
)
def test_extra_sbatch_options_that_cannot_be_read_are_refused(tmp_path, written, problem):
    path = tmp_path / "claude.local.md"
    path.write_text(SITE.replace("- **Account**", f"- **Extra sbatch options**: {written}\n- **Account**"))
    with pytest.raises(InputError, match=problem) as error:
        read_site(path)
    assert str(error.value).startswith(str(path))
