"""claude.local.md parser and its lookup through parent directories."""

from __future__ import annotations

from extensions.site import find_site_file, read_site
from tests.conftest import ROOT
from tests.experiment import SITE

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
