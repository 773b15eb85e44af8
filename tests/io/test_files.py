"""read_bytes: a file's bytes as Path.read_bytes gives them, and its errors."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from segscore.io import files
from segscore.io.files import read_bytes


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 70_000, (1 << 20) + 3])
def test_the_bytes_are_those_of_path_read_bytes(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f.png"
    path.write_bytes(os.urandom(size))
    assert read_bytes(path) == path.read_bytes()
    assert read_bytes(str(path)) == path.read_bytes()


@pytest.mark.parametrize("reported", [0, 5, 99, 101, 10_000])
def test_a_size_that_changed_since_fstat_still_gives_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reported: int
) -> None:
    # The file grew or shrank between fstat and read: it is read to its end all the same.
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(100)))
    monkeypatch.setattr(files.os, "fstat", lambda fd: SimpleNamespace(st_size=reported))
    assert read_bytes(path) == bytes(range(100))


def test_errors_are_those_of_open(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_bytes(tmp_path / "missing.png")
    with pytest.raises(IsADirectoryError):
        read_bytes(tmp_path)


def test_no_descriptor_is_left_open(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for _ in range(50):
        read_bytes(path)
        with pytest.raises(IsADirectoryError):
            read_bytes(tmp_path)
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before
