"""Listing a folder of masks: the files of each stem, as Paths equal to folder / name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segscore.io.pairs import list_mask_files


def _files(folder: Path, names: list[str]) -> None:
    folder.mkdir()
    for name in names:
        np.save(folder / "x.npy", np.zeros((2, 2), bool))
        (folder / "x.npy").rename(folder / name)


def test_every_mask_file_is_listed_by_stem_as_its_path(tmp_path: Path) -> None:
    names = ["a.npy", "b c.npy", "ünï.npy", "d.PNG", ".hidden.npy", "notes.txt", "e_pred.npy"]
    _files(tmp_path / "f", names)
    (tmp_path / "f" / "sub.png").mkdir()  # a folder with a mask suffix is not a file
    found = list_mask_files(tmp_path / "f", role="prediction", suffix="_pred")
    assert sorted(found) == ["a", "b c", "d", "e", "ünï"]
    for stem, path in found.items():
        assert isinstance(path, Path)
        assert path.parent == tmp_path / "f"
        assert path.stem.removesuffix("_pred") == stem
        assert path.is_file()


def test_a_file_missing_from_the_second_listing_is_still_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The paths come from Path.iterdir (cheaper); a file it does not report (created between
    # the two listings) is made from the scandir entry.
    _files(tmp_path / "f", ["a.npy", "b.npy"])
    real = Path.iterdir
    monkeypatch.setattr(Path, "iterdir", lambda self: (p for p in real(self) if p.name != "b.npy"))
    found = list_mask_files(tmp_path / "f", role="prediction")
    assert found == {"a": tmp_path / "f" / "a.npy", "b": tmp_path / "f" / "b.npy"}


def test_a_folder_that_cannot_be_listed_twice_still_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _files(tmp_path / "f", ["a.npy"])

    def gone(self: Path) -> None:
        raise FileNotFoundError(str(self))

    monkeypatch.setattr(Path, "iterdir", gone)
    assert list_mask_files(tmp_path / "f", role="prediction") == {"a": tmp_path / "f" / "a.npy"}
