"""Every input file is read as text the same way: bad bytes and unreadable files give an
error that names the file, never a traceback."""

from __future__ import annotations

import shutil

import pytest

from extensions.errors import InputError
from extensions.finetune import read_finetune_setup
from extensions.finetune_config import read_finetune_config
from extensions.finetune_job import read_finetune_job_name
from extensions.notes import Warnings
from extensions.site import read_site
from extensions.source import read_source
from extensions.summary import read_summary
from tests.conftest import ROOT

FIXTURE = ROOT / "tests/fixtures/nov2025"
READERS = {
    "experiment_summary.md": lambda p: read_summary(p, Warnings()),
    "claude.local.md": lambda p: read_site(p, Warnings()),
    "cap_r8_lr1e-5/setup_finetune.yaml": lambda p: read_finetune_setup(p, Warnings()),
    "cap_r8_lr1e-5/finetune.yaml": read_finetune_config,
    "cap_r8_lr1e-5/finetune.slurm": read_finetune_job_name,
}


@pytest.mark.parametrize("name", READERS)
def test_a_cp1252_byte_is_reported_with_its_offset_and_line(tmp_path, name):
    shutil.copytree(FIXTURE, tmp_path / "exp")
    path = tmp_path / "exp" / name
    data = path.read_bytes()
    at = data.index(b"\n", 10) + 1  # the start of the second or third line
    path.write_bytes(data[:at] + "# caf\u00e9\n".encode("cp1252") + data[at:])
    with pytest.raises(InputError) as error:
        READERS[name](path)
    message = str(error.value)
    line = data[:at].count(b"\n") + 1
    assert message.startswith(f"{path}: is not UTF-8 text: byte 0xe9 at byte offset {at + 5} (line {line})")
    assert "save the file as UTF-8" in message


def test_the_offset_counts_a_bom(tmp_path):
    path = tmp_path / "claude.local.md"
    path.write_bytes(b"\xef\xbb\xbfab\xff")
    with pytest.raises(InputError, match="byte 0xff at byte offset 5 "):
        read_source(path)


def test_line_ends_and_bom_are_not_content(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"\xef\xbb\xbfa\r\nb\rc\n")
    assert read_source(path) == "a\nb\nc\n"


def test_a_directory_in_place_of_a_file(tmp_path):
    with pytest.raises(InputError, match="cannot be read: Is a directory"):
        read_source(tmp_path)
