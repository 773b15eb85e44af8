"""The built-in label sets: sizes, names at known positions, colours."""

from __future__ import annotations

import pytest

from segscore.data.label_sets import LABEL_SETS, get_label_set
from segscore.errors import InputError


def test_sizes_and_ignore_label() -> None:
    sizes = {name: get_label_set(name).num_classes for name in LABEL_SETS}
    assert sizes == {"voc": 21, "cityscapes": 19, "ade20k": 150}
    assert {get_label_set(n).ignore_index for n in LABEL_SETS} == {255}


@pytest.mark.parametrize(
    ("name", "position", "expected"),
    [
        ("voc", 0, "background"),
        ("voc", 1, "aeroplane"),
        ("voc", 15, "person"),
        ("voc", 20, "tvmonitor"),
        ("cityscapes", 0, "road"),
        ("cityscapes", 6, "traffic light"),
        ("cityscapes", 13, "car"),
        ("cityscapes", 18, "bicycle"),
        ("ade20k", 0, "wall"),
        ("ade20k", 7, "bed"),  # mmseg spells it 'bed ' (a stray space)
        ("ade20k", 12, "person"),
        ("ade20k", 149, "flag"),
    ],
)
def test_names_at_known_positions(name: str, position: int, expected: str) -> None:
    assert get_label_set(name).class_names[position] == expected


def test_names_are_unique_and_stripped() -> None:
    for name in LABEL_SETS:
        names = get_label_set(name).class_names
        assert len(set(names)) == len(names)
        assert all(n == n.strip() and n for n in names)


def test_colours_one_per_class() -> None:
    voc = get_label_set("voc")
    assert voc.colours[:3] == ((0, 0, 0), (128, 0, 0), (0, 128, 0))
    assert voc.ignore_colours == ((224, 224, 192),)  # the VOC boundary colour (label 255)
    cityscapes = get_label_set("cityscapes")
    assert cityscapes.colours[0] == (128, 64, 128)
    assert cityscapes.colours[-1] == (119, 11, 32)
    assert len(set(cityscapes.colours + cityscapes.ignore_colours)) == 29
    assert len(get_label_set("ade20k").colours) == 150


def test_unknown_name() -> None:
    with pytest.raises(InputError, match=r"`--class-names` must be one of 'voc'.*got 'coco'"):
        get_label_set("coco", argument="--class-names")
