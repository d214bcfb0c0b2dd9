"""setup_finetune.yaml parser."""

from __future__ import annotations

import dataclasses

import pytest

from extensions.errors import InputError
from extensions.finetune import read_finetune_setup
from tests.conftest import ROOT

EXAMPLE = (ROOT / "examples/cap_1B_lora/r8_lr1e-5/setup_finetune.yaml").read_text()


def parse(tmp_path, text: str, name: str = "setup_finetune.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return read_finetune_setup(path)


def test_example(tmp_path):
    setup = parse(tmp_path, EXAMPLE)
    assert setup.data_path == "/scratch/gpfs/MSALGANIK/mjs3/data/capitalization/words_5L_80P_1000.json"
    assert setup.prompt == "Capitalize the given word: {input}\n"
    assert setup.system_prompt == ""
    assert setup.model == "Llama-3.2-1B-Instruct"
    assert (setup.epochs, setup.conda_env, setup.account) == (2, "cruijff", "msalganik")
    assert setup.checkpoint("r8_lr1e-5", 1) == "/scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r8_lr1e-5/epoch_1"


@pytest.mark.parametrize(
    "base,ext,expected",
    [
        ("/data/cap/", ".json", "/data/cap/words.json"),
        ("/data/cap", ".json", "/data/cap/words.json"),
        ("/data/cap/", "jsonl", "/data/cap/words.jsonl"),
        ("/data/cap", "", "/data/cap/words"),
    ],
)
def test_data_path_with_or_without_slashes(tmp_path, base, ext, expected):
    text = EXAMPLE.replace("input_dir_base: /scratch/gpfs/MSALGANIK/mjs3/data/capitalization/", f"input_dir_base: {base}")
    text = text.replace("dataset_label: words_5L_80P_1000", "dataset_label: words")
    text = text.replace("dataset_ext: .json", f"dataset_ext: '{ext}'")
    assert parse(tmp_path, text).data_path == expected


@pytest.mark.parametrize("output_dir_base", ["/ck/", "/ck", "/ck//"])
def test_checkpoint_path_has_no_double_slash(tmp_path, output_dir_base):
    text = EXAMPLE.replace("output_dir_base: /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/", f"output_dir_base: {output_dir_base}")
    assert parse(tmp_path, text).checkpoint("r1", 0) == "/ck/ck-out-r1/epoch_0"


def test_optional_keys_default(tmp_path):
    text = "\n".join(
        line for line in EXAMPLE.splitlines()
        if not line.startswith(("system_prompt", "conda_env", "account", "epochs", "dataset_ext"))
    )
    setup = parse(tmp_path, text)
    assert (setup.system_prompt, setup.conda_env, setup.account, setup.epochs) == ("", None, None, None)


def test_crlf_and_bom(tmp_path):
    plain = parse(tmp_path, EXAMPLE, "plain.yaml")
    path = tmp_path / "setup_finetune.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.replace("\n", "\r\n").encode())
    assert dataclasses.replace(read_finetune_setup(path), path=plain.path) == plain


def test_syntax_error_names_file_and_line(tmp_path):
    text = EXAMPLE.replace("lora_rank: 8", "lora_rank: [8")
    with pytest.raises(InputError, match=r"setup_finetune.yaml: not valid YAML at line \d+") as error:
        parse(tmp_path, text)
    assert "fix:" in str(error.value)


@pytest.mark.parametrize("key", ["input_dir_base", "dataset_label", "output_dir_base", "prompt"])
def test_missing_required_key(tmp_path, key):
    text = "\n".join(line for line in EXAMPLE.splitlines() if not line.startswith(key + ":"))
    with pytest.raises(InputError, match=f"missing {key}"):
        parse(tmp_path, text)


@pytest.mark.parametrize("value", ["123", "true", "no"])
def test_a_prompt_that_yaml_made_a_number_or_boolean_is_refused(tmp_path, value):
    text = EXAMPLE.replace("system_prompt: ''", f"system_prompt: {value}")
    with pytest.raises(InputError, match="system_prompt is .* not text"):
        parse(tmp_path, text)


def test_missing_file_says_how_to_fix(tmp_path):
    with pytest.raises(InputError, match="setup_finetune.yaml not found"):
        read_finetune_setup(tmp_path / "r1" / "setup_finetune.yaml")
