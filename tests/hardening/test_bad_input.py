"""docs/bad-input.md, file by file: each bad file is one line naming it (exit 2), or with
``--keep-going`` a recorded failure while the other cases are scored; valid oddities just work."""

from __future__ import annotations

import csv
import gzip
import io
import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import segscore
from segscore.cli import main

from .conftest import binary_pair, evaluate_argv, png

GOOD = ("good0", "good1", "good2")


def _png_bytes(array: np.ndarray, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", **kwargs)
    return buffer.getvalue()


def _tiff_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="TIFF")
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A 100-byte PNG whose IHDR declares width x height 8-bit gray pixels (10^10 by default)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (width + 1) * 2, 9)[:64]
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _nifti_bytes(array: np.ndarray) -> bytes:
    nib = pytest.importorskip("nibabel")
    image = nib.Nifti1Image(array, np.eye(4))
    data: bytes = image.to_bytes()
    return data


def _npy_header(shape: tuple[int, ...], descr: str = "|u1") -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    header = header.ljust(117) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _npz_many(n: int) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{f"a{i}": np.zeros((16, 16), np.uint8) for i in range(n)})
    return buffer.getvalue()


MASK = (np.random.default_rng(7).random((16, 16)) < 0.5).astype(np.uint8) * 255
PROB = np.linspace(0, 1, 256, dtype=np.float32).reshape(16, 16)

# name -> (role of the bad file, file name, bytes, fragment of the message)
BAD: dict[str, tuple[str, str, Callable[[], bytes], str]] = {
    "truncated PNG": (
        "gt",
        "bad.png",
        lambda: _png_bytes(MASK)[: len(_png_bytes(MASK)) // 2],
        "truncated",
    ),
    "corrupt PNG": (
        "gt",
        "bad.png",
        lambda: _png_bytes(MASK)[:33] + b"\x00garbage" * 20,
        "cannot be decoded as an image",
    ),
    "not an image": ("pred", "bad.png", lambda: b"GIF89a not a png at all", "not a PNG"),
    "truncated TIFF": ("pred", "bad.tif", lambda: _tiff_bytes(PROB)[:300], "truncated"),
    "truncated NIfTI": (
        "gt",
        "bad.nii",
        lambda: _nifti_bytes(np.zeros((16, 16), np.uint8))[:400],
        "truncated or corrupt",
    ),
    "corrupt NIfTI header": ("gt", "bad.nii", lambda: b"\x01" * 400, "not a NIfTI"),
    "corrupt .nii.gz": (
        "gt",
        "bad.nii.gz",
        lambda: b"\x1f\x8b\x08\x00" + b"\xff" * 100,
        "cannot be decompressed",
    ),
    "NIfTI .gz bomb": (
        "gt",
        "bad.nii.gz",
        lambda: gzip.compress(
            _nifti_bytes(np.zeros((16, 16), np.uint8))[:40]
            + struct.pack("<8h", 3, 30000, 30000, 30000, 1, 1, 1, 1)
            + _nifti_bytes(np.zeros((16, 16), np.uint8))[56:]
        ),
        "more than the limit",
    ),
    "zero-byte file": ("pred", "bad.png", lambda: b"", "empty (0 bytes)"),
    "RGB label map": (
        "gt",
        "bad.png",
        lambda: _png_bytes(np.stack([MASK] * 3, axis=-1)),
        "got a RGB image",
    ),
    "RGBA label map": (
        "gt",
        "bad.png",
        lambda: _png_bytes(np.stack([MASK] * 4, axis=-1)),
        "got a RGBA image",
    ),
    "float ground truth not 0/1": (
        "gt",
        "bad.tif",
        lambda: _tiff_bytes(np.full((16, 16), 0.5, np.float32)),
        "binary mask with values {0, 1} or {0, 255}, got values [0.5]",
    ),
    "label values in a binary mask": (
        "gt",
        "bad.png",
        lambda: _png_bytes((MASK // 255 * 2).astype(np.uint8)),  # {0, 2}
        "got values [0, 2]",
    ),
    "NaN probabilities": (
        "pred",
        "bad.tif",
        lambda: _tiff_bytes(np.where(MASK > 0, np.nan, 0.25).astype(np.float32)),
        f"{int((MASK > 0).sum())} NaN or infinite values",
    ),
    "probabilities above 1": (
        "pred",
        "bad.tif",
        lambda: _tiff_bytes(PROB * 2),
        "probabilities in [0, 1]",
    ),
    "shape mismatch": ("gt", "bad.png", lambda: _png_bytes(MASK[:15]), "(15, 16)"),
    "PNG decompression bomb": ("gt", "bad.png", png_bomb, "declares 10000000000 pixels"),
    "RGB PNG bomb": (
        "gt",
        "bad.png",
        lambda: png_bomb()[:24] + bytes([8, 2]) + png_bomb()[26:],
        "more than the limit of",
    ),
    "TIFF bomb": (
        "pred",
        "bad.tif",
        lambda: (
            _tiff_bytes(PROB)
            .replace(struct.pack("<HHII", 256, 4, 1, 16), struct.pack("<HHII", 256, 4, 1, 200_000))
            .replace(struct.pack("<HHII", 257, 4, 1, 16), struct.pack("<HHII", 257, 4, 1, 200_000))
        ),
        "more than the limit",
    ),
    ".npy of objects (pickle)": (
        "pred",
        "bad.npy",
        lambda: _npy_bytes(np.array([{"x": 1}], dtype=object)),
        "dtype '|O'",
    ),
    ".npy of strings": ("pred", "bad.npy", lambda: _npy_bytes(np.array(["a", "b"])), "'<U1'"),
    ".npy with a huge declared shape": (
        "pred",
        "bad.npy",
        lambda: _npy_header((100_000, 100_000, 100_000)) + b"\0" * 64,
        "declares 1000000000000000 pixels",
    ),
    ".npy truncated": (
        "pred",
        "bad.npy",
        lambda: _npy_header((16, 16)) + b"\0" * 100,
        "truncated or corrupt",
    ),
    ".npy header that is code": (
        "pred",
        "bad.npy",
        lambda: _npy_header((16, 16)).replace(b"{'descr'", b"__import__('os')#"),
        "cannot be read as .npy",
    ),
    ".npz with many members": ("pred", "bad.npz", lambda: _npz_many(500), "got 500"),
    ".npz not a zip": ("pred", "bad.npz", lambda: b"PK\x03\x04" + b"\0" * 64, ".npz"),
}


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    for i, name in enumerate(GOOD):
        binary_pair(tmp_path, f"{name}.png", seed=i)
    return tmp_path


def _put_bad(root: Path, role: str, name: str, data: bytes) -> None:
    (root / role / name).write_bytes(data)
    other = "gt" if role == "pred" else "pred"
    if other == "gt":
        png(root / "gt" / "bad.png", MASK)
    else:
        png(root / "pred" / "bad.png", MASK)


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    assert "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("case", list(BAD))
def test_bad_file_is_one_line_naming_it(folders: Path, case: str, capsys) -> None:  # type: ignore[no-untyped-def]
    role, name, make, fragment = BAD[case]
    _put_bad(folders, role, name, make())
    assert main(evaluate_argv(folders)) == 2
    line = _error_line(capsys)
    assert name in line, line
    assert fragment in line, line
    assert "\n" not in line
    assert not (folders / "out").exists()


@pytest.mark.parametrize("case", list(BAD))
def test_bad_file_with_keep_going_is_recorded_and_others_scored(folders: Path, case: str) -> None:
    role, name, make, fragment = BAD[case]
    _put_bad(folders, role, name, make())
    assert main(evaluate_argv(folders, "--keep-going")) == 0
    with (folders / "out" / "per_case.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["case"] for r in rows if not r["error"]] == list(GOOD)
    (failed,) = [r for r in rows if r["error"]]
    assert failed["case"] == "bad"
    assert name in failed["error"]
    assert fragment in failed["error"]
    summary = json.loads((folders / "out" / "summary.json").read_text(encoding="utf-8"))
    assert [f["case"] for f in summary["failed"]] == ["bad"]
    assert summary["inputs"]["n_cases"] == 3


def test_symlink_loop_is_a_named_failure(folders: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (folders / "pred" / "loop.png").symlink_to("loop2.png")
    (folders / "pred" / "loop2.png").symlink_to("loop.png")
    png(folders / "gt" / "loop.png", MASK)
    assert main(evaluate_argv(folders)) == 2
    line = _error_line(capsys)
    assert "loop.png" in line
    assert "symbolic links" in line
    assert main(evaluate_argv(folders, "--keep-going")) == 0
    summary = json.loads((folders / "out" / "summary.json").read_text(encoding="utf-8"))
    assert [f["case"] for f in summary["failed"]] == ["loop"]
    assert summary["unmatched"]["pred"] == ["loop2"]


def test_dangling_symlink_is_a_named_failure(folders: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (folders / "gt" / "gone.png").symlink_to(folders / "nowhere.png")
    png(folders / "pred" / "gone.png", MASK)
    assert main(evaluate_argv(folders)) == 2
    assert "gone.png" in _error_line(capsys)


def test_two_files_with_one_stem_are_refused(folders: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    png(folders / "gt" / "good0.tif", MASK)
    for extra in ([], ["--keep-going"]):
        assert main(evaluate_argv(folders, *extra)) == 2
        line = _error_line(capsys)
        assert "'good0.png' and 'good0.tif'" in line


def test_unreadable_folder_is_one_line(folders: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads every folder")
    (folders / "gt").chmod(0)
    try:
        assert main(evaluate_argv(folders)) == 2
        assert "cannot be listed" in _error_line(capsys)
    finally:
        (folders / "gt").chmod(0o755)


def test_max_pixels_also_guards_the_pyspng_fast_path(folders: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pyspng")
    # 16x16 8-bit gray non-interlaced PNGs: the pyspng path; the limit is read from IHDR first.
    assert main(evaluate_argv(folders, "--max-pixels", "255")) == 2
    line = _error_line(capsys)
    assert "declares 256 pixels, more than the limit of 255" in line
    assert "--max-pixels" in line
    assert main(evaluate_argv(folders, "--max-pixels", "256")) == 0


def test_max_pixels_guards_npy_stacks(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    np.save(tmp_path / "p.npy", np.zeros((4, 8, 8), np.uint8))
    np.save(tmp_path / "g.npy", np.zeros((4, 8, 8), np.uint8))
    argv = ["evaluate", "--pred", str(tmp_path / "p.npy"), "--gt", str(tmp_path / "g.npy")]
    argv += ["--out", str(tmp_path / "out"), "--no-report"]
    assert main([*argv, "--max-pixels", "255"]) == 2
    assert "declares 256 pixels" in _error_line(capsys)
    assert main([*argv, "--max-pixels", "256"]) == 0


def test_pillow_bomb_message_is_ours_not_pillows(folders: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    png(folders / "gt" / "big.tif", np.zeros((20, 20), np.uint8))
    png(folders / "pred" / "big.tif", np.zeros((20, 20), np.uint8))
    assert main(evaluate_argv(folders, "--max-pixels", "399")) == 2
    line = _error_line(capsys)
    assert "big.tif" in line
    assert "declares 400 pixels, more than the limit of 399" in line


# --- Valid oddities: they work, and the counts are exact. --------------------------------------


def _counts(root: Path) -> dict[str, list[int]]:
    with (root / "out" / "per_case.csv").open(encoding="utf-8") as handle:
        return {
            f"{r['case']}/{r['class']}": [int(r[k]) for k in ("tp", "fp", "fn", "tn")]
            for r in csv.DictReader(handle)
        }


def test_palette_pngs_are_read_as_their_indices(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    pred, target = rng.integers(0, 3, (2, 16, 16)).astype(np.uint8)
    for role, labels in (("pred", pred), ("gt", target)):
        img = Image.fromarray(labels, mode="P")
        img.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0, 0, 0] * 253)  # not gray levels
        (tmp_path / role).mkdir()
        img.save(tmp_path / role / "p.png")
    assert main(evaluate_argv(tmp_path, "--num-classes", "3")) == 0
    c = segscore.confusion(pred[None], target[None], num_classes=3)
    got = _counts(tmp_path)
    for k in range(3):
        assert got[f"p/{k}"] == [int(getattr(c, f)[0, k]) for f in ("tp", "fp", "fn", "tn")]


def test_sixteen_bit_label_maps_keep_their_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    pred, target = rng.integers(0, 300, (2, 16, 16)).astype(np.uint16)
    png(tmp_path / "pred" / "m.png", pred)
    png(tmp_path / "gt" / "m.png", target)
    assert main(evaluate_argv(tmp_path, "--num-classes", "300")) == 0
    c = segscore.confusion(pred[None], target[None], num_classes=300)
    got = _counts(tmp_path)
    assert got["m/299"] == [int(getattr(c, f)[0, 299]) for f in ("tp", "fp", "fn", "tn")]
    assert sum(v[0] for v in got.values()) == int(c.tp.sum())


def test_names_with_spaces_and_non_ascii_work(tmp_path: Path) -> None:
    names = ["case 1.png", "été à Zürich.png", "東京 03.png", "emoji 🐱.png"]
    for i, name in enumerate(names):
        binary_pair(tmp_path, name, seed=i)
    assert main(evaluate_argv(tmp_path, "--metrics", "iou,hd95")) == 0
    with (tmp_path / "out" / "per_case.csv").open(encoding="utf-8") as handle:
        cases = [r["case"] for r in csv.DictReader(handle)]
    assert sorted(cases) == sorted(n[:-4] for n in names)
