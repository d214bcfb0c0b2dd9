"""eval_condition: the test file cruijff_kit's tabular-to-text generator wrote for a condition.

Its name carries the first 8 hex digits of SHA-256 over the condition's generation settings
(canonical JSON, sorted keys), which include the SHA-256 of the source table and schema. The
expected names here are computed in the test from the rule as cruijff_kit's config_hash.py
states it, with the canonical JSON written out by hand.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from extensions.errors import InputError
from extensions.generated_data import generated_test_file
from extensions.plan import build_plan
from tests.conftest import ROOT


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def inputs(tmp_path) -> Path:
    (tmp_path / "acs.parquet").write_bytes(b"PAR1 a small table")
    (tmp_path / "acs_schema.yaml").write_bytes(b"columns: [AGEP, PINCP]\n")
    return tmp_path


def generation(directory: Path) -> dict:
    return {
        "tool": "tabular_to_text_gen",
        "source": str(directory / "acs.parquet"),
        "schema": "acs_schema.yaml",  # relative: to the experiment directory
        "target": {"column": "PINCP", "threshold": 50000},
        "question": "Income above $50,000?",
        "split_ratio": 0.7,
        "validation_ratio": 0.1,
        "seed": 42,
        "conditions": {"income_dict": {"features": ["AGEP", "SCHL"], "template": "dictionary", "style_guidance": "short"}},
    }


def test_the_name_is_the_hash_of_the_canonical_settings(inputs):
    source, schema = sha(b"PAR1 a small table"), sha(b"columns: [AGEP, PINCP]\n")
    # Defaults filled in, missing_value_text dropped (handling is not "include"), style_guidance
    # nulled (a dictionary template ignores it), the threshold a float; keys sorted, no spaces.
    canonical = (
        '{"context":"","context_placement":"preamble","features":["AGEP","SCHL"],'
        '"missing_value_handling":"skip","one_to_many":null,"perturbations":[],'
        '"question":"Income above $50,000?",'
        f'"schema_sha256":"{schema}","seed":42,"source_sha256":"{source}","split_ratio":0.7,'
        '"style_guidance":null,"subsampling_ratio":null,"target":{"column":"PINCP","threshold":50000.0},'
        '"template":"dictionary","template_file_sha256":null,"validation_ratio":0.1}'
    )
    expected = f"/scratch/me/ck-data/generated/income_dict_test_{sha(canonical.encode())[:8]}.json"
    assert generated_test_file(generation(inputs), "income_dict", "/scratch/me/", inputs, inputs / "s.yaml") == expected


def test_the_name_follows_the_files_content(inputs):
    before = generated_test_file(generation(inputs), "income_dict", "/s", inputs, inputs / "s.yaml")
    (inputs / "acs_schema.yaml").write_bytes(b"columns: [AGEP]\n")
    assert generated_test_file(generation(inputs), "income_dict", "/s", inputs, inputs / "s.yaml") != before


def test_an_unreadable_source_or_unknown_condition_is_refused(inputs):
    with pytest.raises(InputError, match="eval_condition 'income_narr' is not a condition of data.data_generation "
                                         r"\(its conditions: income_dict\)"):
        generated_test_file(generation(inputs), "income_narr", "/s", inputs, inputs / "s.yaml")
    (inputs / "acs.parquet").unlink()
    with pytest.raises(InputError, match="data.data_generation's source .*acs.parquet cannot be read"):
        generated_test_file(generation(inputs), "income_dict", "/s", inputs, inputs / "s.yaml")


def test_a_task_with_an_eval_condition_evaluates_on_its_generated_file(inputs):
    """Through the whole loader: the scratch directory from claude.local.md, the file name from
    the hash, and the run's own data for the other task."""
    experiment = inputs / "experiment"
    (experiment / "tasks").mkdir(parents=True)
    (experiment / "tasks" / "cap_task.py").write_text((ROOT / "examples/cap_1B_yaml/tasks/cap_task.py").read_text())
    (experiment / "acs_schema.yaml").write_bytes(b"columns: [AGEP, PINCP]\n")
    site = (ROOT / "examples/cap_1B_yaml/claude.local.md").read_text()
    (experiment / "claude.local.md").write_text(site + "\n## HPC Environment\n- **Scratch directory**: `/scratch/gpfs/LAB/me`\n")
    design = yaml.safe_load((ROOT / "examples/cap_1B_yaml/experiment_summary.yaml").read_text())
    design["experiment"]["dir"] = str(experiment)
    design["data"]["data_generation"] = generation(inputs)
    six = design["evaluation"]["tasks"][1]
    del six["dataset"]
    six["eval_condition"] = "income_dict"
    (experiment / "experiment_summary.yaml").write_text(yaml.safe_dump(design))
    expected = generated_test_file(generation(inputs), "income_dict", "/scratch/gpfs/LAB/me", experiment, experiment / "x")
    plan = build_plan(experiment)
    data = {(run.name, cell.task): cell.data_path for run in plan.runs for cell in run.cells}
    assert data[("Llama-3.2-1B-Instruct_base", "capitalization_6L")] == expected
    assert data[("r8", "capitalization")] == design["data"]["training"]["path"]


def test_user_in_the_source_path_is_whoever_renders(inputs, tmp_path, monkeypatch):
    """`$USER` in source or schema is the renderer's name, as in every path of the summary."""
    monkeypatch.setenv("USER", "ada")
    (inputs / "ada").mkdir()
    (inputs / "ada" / "acs.parquet").write_bytes(b"PAR1 a small table")
    written = generation(inputs)
    expected = generated_test_file(written, "income_dict", "/scratch/me", inputs, inputs / "experiment_summary.yaml")
    written["source"] = str(inputs / "$USER" / "acs.parquet")
    assert generated_test_file(written, "income_dict", "/scratch/me", inputs, inputs / "experiment_summary.yaml") == expected
