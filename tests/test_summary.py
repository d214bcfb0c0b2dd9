"""experiment_summary.md parser, on the example and on the ways real files vary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from extensions.errors import InputError
from extensions.summary import BASE, FINE_TUNED, read_summary
from tests.conftest import ROOT

EXAMPLE = (ROOT / "examples/cap_1B_lora/experiment_summary.md").read_text(encoding="utf-8")


def parse(tmp_path: Path, text: str, *, encoding: str = "utf-8", newline: str = "\n"):
    path = tmp_path / "experiment_summary.md"
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return read_summary(path)


def test_example_reads_every_part(tmp_path):
    summary = parse(tmp_path, EXAMPLE)
    assert summary.name == "Capitalization LoRA Rank Sweep (Llama-3.2-1B)"
    assert [(r.name, r.model, r.kind) for r in summary.runs] == [
        ("r8_lr1e-5", "Llama-3.2-1B-Instruct", FINE_TUNED),
        ("r16_lr1e-5", "Llama-3.2-1B-Instruct", FINE_TUNED),
        ("Llama-3.2-1B-Instruct_base", "Llama-3.2-1B-Instruct", BASE),
    ]
    assert summary.models == {
        "llama-3.2-1b-instruct": "/scratch/gpfs/MSALGANIK/pretrained-llms/Llama-3.2-1B-Instruct"
    }
    assert summary.dataset_path == "/scratch/gpfs/MSALGANIK/mjs3/data/capitalization/words_5L_80P_1000.json"
    assert [(t.name, t.script, t.dataset) for t in summary.tasks] == [
        ("capitalization", "cap_task.py", None),
        (
            "capitalization_6L",
            "cap_task.py",
            "/scratch/gpfs/MSALGANIK/mjs3/data/capitalization/words_6L_80P_1000.json",
        ),
    ]
    assert "every epoch" in summary.plan_text
    assert summary.matrix.header == ["run name", "capitalization", "capitalization_6l", "notes"]
    assert summary.matrix.rows[0][:3] == ["r8_lr1e-5", "✓ epoch 0,1", "✓ epoch 1"]
    assert summary.epochs == 2
    assert summary.prompt == "Capitalize the given word: {input}\n"
    assert summary.system_prompt == ""
    assert summary.eval_system_prompt == ""
    assert summary.per_eval_minutes == 20


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda t: t, id="as-written"),
        pytest.param(lambda t: re.sub(r"\*\*([^*]+)\*\*", r"\1", t), id="no-bold"),
        pytest.param(lambda t: t.replace("| ", "|   ").replace(" |", "   |"), id="extra-spaces"),
        pytest.param(lambda t: re.sub(r"^(\s*)- ", r"\1* ", t, flags=re.M), id="star-bullets"),
        pytest.param(lambda t: t.replace("## ", "##  "), id="heading-spaces"),
    ],
)
@pytest.mark.parametrize(
    "encoding,newline",
    [("utf-8", "\n"), ("utf-8", "\r\n"), ("utf-8-sig", "\n"), ("utf-8-sig", "\r\n")],
    ids=["lf", "crlf", "bom", "bom-crlf"],
)
def test_variants_read_the_same(tmp_path, variant, encoding, newline):
    expected = parse(tmp_path, EXAMPLE)
    got = parse(tmp_path, variant(EXAMPLE), encoding=encoding, newline=newline)
    for field in ("name", "runs", "models", "dataset_path", "tasks", "epochs", "prompt",
                  "system_prompt", "per_eval_minutes"):
        assert getattr(got, field) == getattr(expected, field), field
    assert got.matrix.rows == expected.matrix.rows


def test_columns_in_another_order_with_an_extra_column(tmp_path):
    text = EXAMPLE.replace(
        "| Run Name | Model | LoRA Rank | Learning Rate | Type | Est. Time |\n"
        "|----------|-------|-----------|---------------|------|-----------|\n"
        "| r8_lr1e-5 | Llama-3.2-1B-Instruct | 8 | 1e-5 | Fine-tuned | ~12 min |\n"
        "| r16_lr1e-5 | Llama-3.2-1B-Instruct | 16 | 1e-5 | Fine-tuned | ~12 min |\n"
        "| Llama-3.2-1B-Instruct_base | Llama-3.2-1B-Instruct | - | - | Control | - |",
        "| Type | Seed | **Run Name** | `Model` |\n"
        "|---|---|---|---|\n"
        "| Fine-tuned (LoRA) | 1 | `r8_lr1e-5` | Llama-3.2-1B-Instruct |\n"
        "| finetuned | 1 | r16_lr1e-5 | Llama-3.2-1B-Instruct |\n"
        "| Base model (control) | - | Llama-3.2-1B-Instruct_base | **Llama-3.2-1B-Instruct** |",
    )
    assert text != EXAMPLE
    got = parse(tmp_path, text)
    assert [(r.name, r.model, r.kind) for r in got.runs] == [(r.name, r.model, r.kind) for r in parse(tmp_path, EXAMPLE).runs]
    assert got.factors == ["Seed"]
    assert [r.factors for r in got.runs] == [{"Seed": "1"}, {"Seed": "1"}, {"Seed": "-"}]


@pytest.mark.parametrize(
    "written,expected",
    [
        (r'"Capitalize the given word: {input}\n"', "Capitalize the given word: {input}\n"),
        (r'"say \"hi\" to {input}" (quoted)', 'say "hi" to {input}'),
        (r'"Use `code` and **stars**: {input}"', "Use `code` and **stars**: {input}"),
        (r'"tab\there, unicode \u00e9, backslash \\"', "tab\there, unicode é, backslash \\"),
        (r'`"{input}"`', "{input}"),
        ("'it''s {input}'", "it's {input}"),
        ("{input}", "{input}"),
        ('"" (blank - must match training)', ""),
        ("(none)", ""),
    ],
)
def test_prompts_decode_like_yaml_double_quoted_strings(tmp_path, written, expected):
    text = EXAMPLE.replace(r'- **Prompt**: "Capitalize the given word: {input}\n"', f"- **Prompt**: {written}")
    assert parse(tmp_path, text).prompt == expected


def test_unterminated_prompt_names_the_file_and_the_fix(tmp_path):
    text = EXAMPLE.replace(r'- **Prompt**: "Capitalize the given word: {input}\n"', '- **Prompt**: "open {input}')
    with pytest.raises(InputError, match=r"experiment_summary.md: Training → prompt: .*no closing quote"):
        parse(tmp_path, text)


@pytest.mark.parametrize(
    "estimate,minutes",
    [("~20 minutes", 20), ("about 20-30 min", 30), ("~1.5 hours", 90), ("90 seconds", 1.5), ("unknown", None)],
)
def test_per_eval_time(tmp_path, estimate, minutes):
    text = EXAMPLE.replace("- **Per-eval time:** ~20 minutes", f"- **Per-eval time:** {estimate}")
    assert parse(tmp_path, text).per_eval_minutes == minutes


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="experiment_summary.md not found"):
        read_summary(tmp_path / "experiment_summary.md")


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("## All Runs", "## Runs overview", "no 'All Runs' table"),
        ("| Run Name | Model |", "| Name of run | Model |", "no 'Run Name' column"),
        ("| Type | Est. Time |", "| Kind | Est. Time |", "no 'Type' column"),
        ("### Evaluation Tasks", "### Tasks we run", "no 'Evaluation Tasks' table"),
        ("| Task Name | Script |", "| Task Name | Code |", "no 'Script' column"),
        ("| capitalization | `cap_task.py` |", "| capitalization |  |", "task 'capitalization' has no script path"),
        ("| Fine-tuned | ~12 min |", "| Pretrained | ~12 min |", "Type 'Pretrained'"),
    ],
)
def test_structure_errors_name_what_is_missing(tmp_path, old, new, message):
    assert old in EXAMPLE
    with pytest.raises(InputError, match=re.escape(message)) as error:
        parse(tmp_path, EXAMPLE.replace(old, new, 1))
    assert "experiment_summary.md" in str(error.value)
    assert "fix:" in str(error.value)
