"""finetune.yaml parser, on files written by cruijff_kit's own setup_finetune.py."""

from __future__ import annotations

import pytest

from extensions.errors import InputError
from extensions.finetune import saved_epochs
from extensions.finetune_config import FinetuneConfig, read_finetune_config
from tests.conftest import ROOT

FIXTURES = ROOT / "tests/fixtures"


def test_json_run_grouped_under_its_experiment():
    path = FIXTURES / "nov2025/cap_r8_lr1e-5/finetune.yaml"
    assert read_finetune_config(path) == FinetuneConfig(
        path=path,
        run_name="r8_lr1e-5",
        # output_dir_base was left out, so the tool's default, not the summary's directory.
        output_dir="/scratch/gpfs/MSALGANIK/mjs3/cap_rank_sweep_2025-11-12/ck-out-r8_lr1e-5",
        epochs=3,
        epochs_to_save=(0, 2),  # written as the text '0,2'
        save_last_epoch_only=False,
        dataset_path="/scratch/gpfs/MSALGANIK/mjs3/GitHub/cruijff_kit/data/green/capitalization/words_5L_80P_1000.json",
    )


def test_parquet_run_saving_its_last_epoch_only():
    path = FIXTURES / "oct2025/prompt2_bs4/finetune.yaml"
    config = read_finetune_config(path)
    assert config == FinetuneConfig(
        path=path,
        run_name="oct1-prompt-2",
        output_dir="/scratch/gpfs/MSALGANIK/niznik/ck-out-oct1-prompt-2",
        epochs=2,
        epochs_to_save="all",
        save_last_epoch_only=True,
        dataset_path="/scratch/gpfs/MSALGANIK/niznik/GitHub/cruijff_kit/data/green/capitalization/words_5L_80P_1000_parquet",
    )
    assert saved_epochs(config, config.epochs) == {1}


def test_no_file_is_none(tmp_path):
    assert read_finetune_config(tmp_path / "finetune.yaml") is None


def test_a_hand_written_config_with_references_and_defaults(tmp_path):
    path = tmp_path / "finetune.yaml"
    path.write_text(
        "my_wandb_run_name: r1\nbase: /ck\n"
        "checkpointer:\n  output_dir: ${base}/ck-out-${my_wandb_run_name}/\n"
        "input_dir: /data/$USER/\n"
        "dataset:\n  _component_: torchtune.datasets.chat_dataset\n  data_files: ${input_dir}/words/train.json\n"
    )
    config = read_finetune_config(path)
    assert (config.output_dir, config.dataset_path) == ("/ck/ck-out-r1", "/data/$USER/words")
    assert (config.epochs, config.epochs_to_save, config.save_last_epoch_only) == (None, None, None)
    assert saved_epochs(config, 2) == {0, 1}  # the recipe's defaults


@pytest.mark.parametrize(
    "text,message",
    [
        ("output_dir: ${nowhere}/x\n", "output_dir '${nowhere}/x' refers to a value this file does not hold"),
        ("output_dir: 12\n", "output_dir is 12, not a path"),
        ("epochs: '2'\n", "epochs is '2'"),
        ("epochs_to_save: 'some'\n", "epochs_to_save is 'some'"),
        ("- a list\n", "is not a mapping of settings"),
    ],
)
def test_bad_values_name_the_file(tmp_path, text, message):
    path = tmp_path / "finetune.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        read_finetune_config(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)
