"""setup_finetune.yaml parser, and the paths setup_finetune.py (cruijff_kit c8e12c3) computes.

The expected paths below were written from setup_finetune.py's own code and checked
against the finetune.yaml it wrote for the fixtures (tests/fixtures/README.md).
"""

from __future__ import annotations

import dataclasses

import pytest

from extensions.errors import InputError
from extensions.finetune import (
    ALL_EPOCHS,
    NO_EPOCHS,
    checkpoint_dir,
    data_path,
    expand_user,
    read_finetune_setup,
    saved_epochs,
)
from extensions.notes import Warnings
from tests.conftest import ROOT

EXAMPLE = (ROOT / "examples/cap_1B_lora/r8_lr1e-5/setup_finetune.yaml").read_text()
# The October 2025 capitalization file of cruijff_kit's repository, as it was (no
# output_dir_base, no account, no prompt, quoted values).
REAL = """# Wandb Configuration
my_wandb_project: capitalization
my_wandb_run_name: oct1-prompt-1

# Directory Configuration
input_dir_base: /scratch/gpfs/MSALGANIK/niznik/GitHub/cruijff_kit/data/green/capitalization/
input_formatting: ''

# Dataset Configuration
dataset_label: words_5L_80P_1000
dataset_ext: '.json'

# System Prompt
system_prompt: 'Capitalize the given word'

# Training Parameters
batch_size: 1
epochs: 1
log_every_n_steps: 1
run_val_every_n_steps: 0

# Checkpoint Options
stash_adapter_weights: 'true'

# Environment Configuration
conda_env: cruijff

# Custom Recipe
custom_recipe: cruijff_kit.tools.torchtune.custom_recipes.lora_finetune_single_device_stable
"""


def parse(tmp_path, text: str, name: str = "setup_finetune.yaml", warnings: Warnings | None = None):
    path = tmp_path / name
    path.write_text(text)
    return read_finetune_setup(path, Warnings() if warnings is None else warnings)


def warned(tmp_path, text: str):
    warnings = Warnings()
    return parse(tmp_path, text, warnings=warnings), "\n".join(warnings)


def test_example(tmp_path):
    setup, warnings = warned(tmp_path, EXAMPLE)
    assert warnings == ""
    assert dataclasses.asdict(setup) == {
        "path": tmp_path / "setup_finetune.yaml",
        "run_name": "r8_lr1e-5",
        "experiment_name": "",
        "output_dir_base": "/scratch/gpfs/MSALGANIK/mjs3/ck-outputs/",
        "input_dir_base": "/scratch/gpfs/MSALGANIK/mjs3/data/capitalization/",
        "input_formatting": "",
        "dataset_label": "words_5L_80P_1000",
        "dataset_ext": ".json",
        "dataset_type": "instruct_dataset",
        "prompt": "Capitalize the given word: {input}\n",
        "system_prompt": "",
        "model": "Llama-3.2-1B-Instruct",
        "epochs": 2,
        "epochs_to_save": ALL_EPOCHS,
        "save_last_epoch_only": False,
        "conda_env": "cruijff",
        "account": "msalganik",
    }
    assert data_path(setup, "mjs3") == "/scratch/gpfs/MSALGANIK/mjs3/data/capitalization/words_5L_80P_1000.json"
    assert checkpoint_dir(setup.output_dir_base, setup.experiment_name, setup.run_name) == (
        "/scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r8_lr1e-5"
    )


def test_a_real_file_reads_with_nothing_required(tmp_path):
    setup, warnings = warned(tmp_path, REAL)
    assert warnings == ""
    assert (setup.run_name, setup.output_dir_base, setup.prompt, setup.account, setup.model) == (
        "oct1-prompt-1", None, None, None, None,
    )
    assert setup.system_prompt == "Capitalize the given word"
    assert data_path(setup, "niznik").endswith("/capitalization/words_5L_80P_1000.json")


def test_a_sanity_check_file_without_dirs_or_prompt(tmp_path):
    # predictable_or_not's README example (cruijff_kit, October 2025).
    text = """my_wandb_project: 'predictable_or_not_2025-10-27'
my_wandb_run_name: 'pp_output_only'
dataset_label: 'pp'              # Base name without extension
dataset_ext: '.json'             # Extension
train_on_input: 'false'          # or 'true' for input_and_output runs
batch_size: 1
epochs: 10
save_adapter_weights_only: 'true'
input_formatting: ''
system_prompt: ''
"""
    setup = parse(tmp_path, text)
    assert (setup.input_dir_base, setup.output_dir_base, setup.prompt, setup.conda_env) == (None, None, None, None)
    assert (setup.run_name, setup.dataset_label, setup.epochs, setup.system_prompt) == ("pp_output_only", "pp", 10, "")
    assert data_path(setup, "u") is None  # the tool's default input dir is a site path


@pytest.mark.parametrize(
    "lines,expected",
    [
        ("input_formatting: ''", "/in/words.json"),
        ("input_formatting: raw", "/in/raw/words.json"),
        ("", "/in/raw/words.json"),  # absent: setup_finetune.py's default is 'raw'
        ("input_formatting: ''\ndataset_ext: '.parquet'", "/in/words"),  # a folder of split files
        ("input_formatting: v2\ndataset_ext: '.parquet'", "/in/v2/words"),
        ("input_formatting: ''\ndataset_type: chat_dataset", "/in/words"),  # train.json inside
        ("input_formatting: ''\ndataset_ext: '.jsonl'", "/in/words.jsonl"),
    ],
)
def test_data_path(tmp_path, lines, expected):
    text = f"input_dir_base: /in/\ndataset_label: words\n{lines}\n"
    if "dataset_ext" not in lines:
        text += "dataset_ext: .json\n"
    assert data_path(parse(tmp_path, text), "u") == expected


@pytest.mark.parametrize(
    "base,expected",
    [("/data/cap/", "/data/cap/words.json"), ("/data/cap", "/data/cap/words.json"), ("/data/$USER/", "/data/mjs3/words.json")],
)
def test_data_path_joins_and_user(tmp_path, base, expected):
    text = f"input_dir_base: {base}\ninput_formatting: ''\ndataset_label: words\ndataset_ext: .json\n"
    assert data_path(parse(tmp_path, text), "mjs3") == expected


def test_a_base_without_slash_before_a_formatting_folder_is_joined_as_the_tool_does_with_a_warning(tmp_path):
    setup, warnings = warned(tmp_path, "input_dir_base: /data/cap\ninput_formatting: raw\ndataset_label: w\ndataset_ext: .json\n")
    assert data_path(setup, "u") == "/data/capraw/w.json"
    assert "input_dir_base '/data/cap' has no trailing '/'" in warnings


@pytest.mark.parametrize(
    "base,experiment,run,expected",
    [
        ("/ck/", "", "r1", "/ck/ck-out-r1"),
        ("/ck", "", "r1", "/ck/ck-out-r1"),
        ("/ck//", "", "r1", "/ck/ck-out-r1"),
        ("/ck/", "cap_2025-11-12", "r1", "/ck/cap_2025-11-12/ck-out-r1"),
        ("/ck", "cap/", "r1", "/ck/cap/ck-out-r1"),
        ("/scratch/$USER/", "", "r1", "/scratch/$USER/ck-out-r1"),  # expand_user does the rest
    ],
)
def test_checkpoint_dir(base, experiment, run, expected):
    assert checkpoint_dir(base, experiment, run) == expected


@pytest.mark.parametrize(
    "path,expected",
    [("/s/$USER/x", "/s/mjs3/x"), ("/s/${USER}/x", "/s/mjs3/x"), ("/s/$USERx", "/s/mjs3x"), ("/s/x", "/s/x")],
)
def test_expand_user(path, expected):
    assert expand_user(path, "mjs3") == expected


@pytest.mark.parametrize(
    "lines,epochs,expected",
    [
        ("", 3, {0, 1, 2}),
        ("epochs_to_save: all", 3, {0, 1, 2}),
        ("epochs_to_save: 'ALL'", 3, {0, 1, 2}),
        ("epochs_to_save: none", 3, set()),
        ("epochs_to_save: '0,2'", 3, {0, 2}),
        ("epochs_to_save: 0, 2  # two of them", 3, {0, 2}),
        ("epochs_to_save: [1, 2]", 3, {1, 2}),
        ("epochs_to_save: 1", 3, {1}),
        ("epochs_to_save: '0,5'", 3, {0}),  # 5 is never reached
        ("save_last_epoch_only: 'true'", 3, {2}),
        ("save_last_epoch_only: 'false'", 3, {0, 1, 2}),
        ("save_last_epoch_only: 'true'\nepochs_to_save: '0'", 3, {2}),  # wins, as in the recipe
    ],
)
def test_saved_epochs(tmp_path, lines, epochs, expected):
    assert saved_epochs(parse(tmp_path, f"epochs: {epochs}\n{lines}\n"), epochs) == expected


def test_epochs_to_save_values(tmp_path):
    assert parse(tmp_path, "epochs_to_save: None\n").epochs_to_save == NO_EPOCHS
    assert parse(tmp_path, "epochs_to_save: ' 0, 2 '\n").epochs_to_save == (0, 2)


def test_saving_settings_that_surprise_are_warned_about(tmp_path):
    _, warnings = warned(tmp_path, "epochs: 3\nepochs_to_save: '0,5'\nsave_last_epoch_only: true\n")
    assert "save_last_epoch_only is True, read as true" in warnings
    assert "before 2025-11-19 took only the text 'true'" in warnings
    assert "save_last_epoch_only and epochs_to_save are both set" in warnings
    assert "epochs_to_save lists 5, outside 0..2 for epochs: 3: never saved" in warnings


def test_quoted_true_is_not_warned_about(tmp_path):
    setup, warnings = warned(tmp_path, "save_last_epoch_only: 'true'   # keep disk use down\n")
    assert setup.save_last_epoch_only is True
    assert warnings == ""


@pytest.mark.parametrize(
    "line,message",
    [
        ("epochs_to_save: 'some'", "epochs_to_save is 'some'"),
        ("epochs_to_save: ''", "epochs_to_save is ''"),
        ("epochs_to_save: true", "epochs_to_save is True"),
        ("save_last_epoch_only: 'maybe'", "save_last_epoch_only is 'maybe'"),
        ("epochs: two", "epochs is 'two'"),
        ("epochs: 0", "epochs is 0"),
        ("epochs: 100000", "epochs is 100000, more than the limit of 10000"),
        ("my_wandb_run_name: 2025", "my_wandb_run_name is 2025 (int), not text"),
        ("experiment_name: 2025-11-12", "experiment_name is datetime.date(2025, 11, 12) (date), not text"),
        ("system_prompt: no", "system_prompt is False (bool), not text"),
        ("output_dir_base: ''", "output_dir_base is empty"),
        ("input_formatting:", "input_formatting is empty (null)"),
        ("dataset_ext: json", "dataset_ext is 'json', without its leading dot"),
        ("dataset_type: sft_dataset", "dataset_type is 'sft_dataset', which setup_finetune.py refuses"),
    ],
)
def test_wrong_values_name_file_key_value_and_fix(tmp_path, line, message):
    with pytest.raises(InputError) as error:
        parse(tmp_path, line + "\n")
    assert str(error.value).startswith(str(tmp_path / "setup_finetune.yaml") + ": ")
    assert message in str(error.value)
    assert "fix:" in str(error.value)


def test_a_300_character_run_name_is_refused_with_its_limit(tmp_path):
    with pytest.raises(InputError, match=r"my_wandb_run_name .* is 300 characters long, more than the limit of 100"):
        parse(tmp_path, f"my_wandb_run_name: {'r' * 300}\n")


def test_an_empty_run_name_is_absent(tmp_path):
    # setup_finetune.py draws a random name for '' as for an absent key.
    assert parse(tmp_path, "my_wandb_run_name: ''\n").run_name is None


def test_null_and_absent_system_prompt(tmp_path):
    assert parse(tmp_path, "system_prompt:\n").system_prompt == ""
    assert parse(tmp_path, "epochs: 1\n").system_prompt is None


def test_crlf_and_bom(tmp_path):
    plain = parse(tmp_path, EXAMPLE, "plain.yaml")
    path = tmp_path / "setup_finetune.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.replace("\n", "\r\n").encode())
    assert dataclasses.replace(read_finetune_setup(path, Warnings()), path=plain.path) == plain


def test_syntax_error_names_file_and_line(tmp_path):
    text = EXAMPLE.replace("lora_rank: 8", "lora_rank: [8")
    with pytest.raises(InputError, match=r"setup_finetune.yaml: not valid YAML at line \d+") as error:
        parse(tmp_path, text)
    assert "fix:" in str(error.value)


def test_missing_file_says_how_to_fix(tmp_path):
    with pytest.raises(InputError) as error:
        read_finetune_setup(tmp_path / "r1" / "setup_finetune.yaml", Warnings())
    assert "setup_finetune.yaml not found" in str(error.value)
    assert "write Base or Control in its Type column" in str(error.value)
