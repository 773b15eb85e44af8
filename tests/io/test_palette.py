"""Colour masks: palettes, their files, and decoding RGB PNGs to class ids."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segscore.errors import DatasetError, InputError
from segscore.io.arrays import read_array
from segscore.io.class_names import read_class_names
from segscore.io.palette import Palette, read_palette

TWO = Palette("two", colours=((0, 0, 0), (255, 0, 0), (0, 255, 0)), ids=(0, 1, 255))


def test_decode_maps_every_colour_vectorised() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, (64, 48))
    colours = np.array(TWO.colours, dtype=np.uint8)
    out = TWO.decode(colours[labels], "x.png")
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.array(TWO.ids)[labels])


def test_unknown_colour_names_file_colour_and_position() -> None:
    image = np.zeros((4, 5, 3), np.uint8)
    image[2, 3] = (1, 2, 3)
    image[3, 0] = (1, 2, 3)
    with pytest.raises(DatasetError) as info:
        TWO.decode(image, "masks/a.png")
    message = str(info.value)
    assert "'masks/a.png'" in message
    assert "(1, 2, 3)" in message
    assert "(row, col) (2, 3)" in message
    assert "2 pixel(s) of 1 unknown colour(s)" in message


def test_palette_checks() -> None:
    with pytest.raises(InputError, match="one class id, got"):
        Palette("p", colours=((0, 0, 0), (0, 0, 0)), ids=(0, 1))
    with pytest.raises(InputError, match=r"three integers in \[0, 255\], got \(0, 0, 256\)"):
        Palette("p", colours=((0, 0, 256),), ids=(0,))
    assert Palette("p", colours=((0, 0, 0), (0, 0, 0)), ids=(3, 3)).ids == (3, 3)


def test_rgb_png_decoded_with_palette_and_refused_without(tmp_path: Path) -> None:
    path = tmp_path / "m.png"
    labels = np.array([[0, 1], [2, 1]])
    Image.fromarray(np.array(TWO.colours, dtype=np.uint8)[labels]).save(path)
    np.testing.assert_array_equal(read_array(path, palette=TWO).array, [[0, 1], [255, 1]])
    with pytest.raises(DatasetError, match=r"got a RGB image .colour masks: pass a palette."):
        read_array(path)


def test_palette_png_and_grayscale_keep_their_values(tmp_path: Path) -> None:
    indices = np.array([[0, 1], [2, 1]], np.uint8)
    img = Image.fromarray(indices, mode="P")
    img.putpalette([0, 0, 0, 9, 9, 9, 7, 7, 7] + [0] * 759)
    img.save(tmp_path / "p.png")
    Image.fromarray(indices * 3).save(tmp_path / "g.png")
    np.testing.assert_array_equal(read_array(tmp_path / "p.png", palette=TWO).array, indices)
    np.testing.assert_array_equal(read_array(tmp_path / "g.png", palette=TWO).array, indices * 3)


def test_palette_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"0": [0, 0, 0], "1": [255, 0, 0]}))
    (tmp_path / "b.json").write_text(json.dumps([[0, 0, 0], [255, 0, 0]]))
    (tmp_path / "c.csv").write_text("id,r,g,b\n0,0,0,0\n1,255,0,0\n")
    for name in ("a.json", "b.json", "c.csv"):
        p = read_palette(tmp_path / name)
        assert (p.colours, p.ids, p.name) == (((0, 0, 0), (255, 0, 0)), (0, 1), name)
    (tmp_path / "bad.csv").write_text("0,0,0,0\n1,300,0,0\n")
    with pytest.raises(DatasetError, match=r"bad.csv.*line 2"):
        read_palette(tmp_path / "bad.csv")
    (tmp_path / "dup.json").write_text(json.dumps({"0": [1, 1, 1], "1": [1, 1, 1]}))
    with pytest.raises(DatasetError, match=r"dup.json.*one class id"):
        read_palette(tmp_path / "dup.json")
    with pytest.raises(DatasetError, match=r"missing\.json"):
        read_palette(tmp_path / "missing.json")


def test_class_name_files(tmp_path: Path) -> None:
    (tmp_path / "l.json").write_text(json.dumps(["bg", "road"]))
    (tmp_path / "m.json").write_text(json.dumps({"1": "road", "0": "bg"}))
    (tmp_path / "n.txt").write_text("bg\n\n# comment\nroad\n")
    for name in ("l.json", "m.json", "n.txt"):
        assert read_class_names(tmp_path / name) == ("bg", "road")
    (tmp_path / "gap.json").write_text(json.dumps({"0": "bg", "2": "road"}))
    with pytest.raises(DatasetError, match=r"gap.json.*missing \[1\]"):
        read_class_names(tmp_path / "gap.json")
    (tmp_path / "bad.json").write_text("[1, 2")
    with pytest.raises(DatasetError, match=r"bad\.json' must be valid JSON"):
        read_class_names(tmp_path / "bad.json")


def test_class_name_yaml(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    (tmp_path / "l.yaml").write_text("- bg\n- road\n")
    (tmp_path / "m.yml").write_text("1: road\n0: bg\n")
    assert read_class_names(tmp_path / "l.yaml") == ("bg", "road")
    assert read_class_names(tmp_path / "m.yml") == ("bg", "road")
