"""An input file's text, read the way people save files, or an error that names the file."""

from __future__ import annotations

import codecs
import errno
import os
from pathlib import Path

from .errors import InputError


def read_source(path: Path | str) -> str:
    """The text of an input file: UTF-8, a BOM and Windows or old Mac line ends not content.

    Undecodable bytes are reported with their offset and line, because the usual cause is a
    file saved in Latin-1 or cp1252 by an editor, and the offset lets the user find the
    character (often a curly quote or an accented letter in a prompt).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        refuse_link_loop(Path(path))
        raise InputError(
            path,
            f"cannot be read: {error.strerror or error}",
            "let your user read it (`chmod u+r FILE` as its owner, or `chmod a+r FILE`)",
        ) from None
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = bom + error.start
        line = data.count(b"\n", 0, offset) + 1
        raise InputError(
            path,
            f"is not UTF-8 text: byte 0x{data[offset]:02x} at byte offset {offset} (line {line}) "
            f"cannot be decoded",
            "save the file as UTF-8 (for example `iconv -f cp1252 -t utf-8 FILE > NEW`)",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def refuse_link_loop(path: Path) -> None:
    """Refuse a path that passes through a loop of symbolic links (a link to itself, or two
    to each other), naming the link: Python's pathlib reports one as a RuntimeError, and a
    test like `is_file()` as a file that is not there."""
    if not _loops(path):
        return
    link = next(p for p in (*reversed(path.parents), path) if _loops(p))
    raise InputError(
        link,
        "is a symbolic link in a loop (it leads back to itself): nothing under it can be reached",
        "replace it with the directory it stands for (remove the link, then `mkdir` it or link it to the real "
        "directory), then run the same copier command again",
    )


def _loops(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as error:
        return error.errno == errno.ELOOP
    return False
