from __future__ import annotations

import numpy as np
import pytest

from segscore.data import SegmentationDataset, make_synthetic
from segscore.errors import InputError


def _tiny(n: int) -> SegmentationDataset:
    return SegmentationDataset(
        images=[np.full((1, 2, 2), i / n, np.float32) for i in range(n)],
        masks=[np.full((2, 2), i % 2, np.int64) for i in range(n)],
        names=[f"c{i}" for i in range(n)],
        num_classes=None,
        source="tiny",
    )


def test_len_channels_subset() -> None:
    ds = _tiny(5)
    assert len(ds) == 5
    assert ds.in_channels == 1
    sub = ds.subset(np.array([4, 1]))
    assert sub.names == ["c4", "c1"]
    assert sub.images[0] is ds.images[4]
    assert (sub.num_classes, sub.ignore_index, sub.source) == (None, None, "tiny")


def test_split_deterministic_and_disjoint() -> None:
    ds = _tiny(50)
    train, val = ds.split(0.2, rng=7)
    train2, val2 = ds.split(0.2, rng=np.random.default_rng(7))
    assert (train.names, val.names) == (train2.names, val2.names)
    assert len(val) == 10
    assert len(train) == 40
    assert set(train.names).isdisjoint(val.names)
    assert set(train.names) | set(val.names) == set(ds.names)
    assert train.names == sorted(train.names, key=ds.names.index)  # original order kept
    assert ds.split(0.2, rng=8)[1].names != val.names


@pytest.mark.parametrize(("n", "fraction", "n_val"), [(2, 0.01, 1), (5, 0.0, 0), (3, 0.99, 2)])
def test_split_counts(n: int, fraction: float, n_val: int) -> None:
    assert len(_tiny(n).split(fraction, rng=0)[1]) == n_val


@pytest.mark.parametrize("fraction", [-0.1, 1.0, float("nan")])
def test_split_bad_fraction(fraction: float) -> None:
    with pytest.raises(InputError, match="`val_fraction` must be a number in"):
        _tiny(4).split(fraction, rng=0)


def test_validation_errors() -> None:
    image, mask = np.zeros((1, 2, 2), np.float32), np.zeros((2, 2), np.int64)
    with pytest.raises(InputError, match="same length, got 1, 2 and 1"):
        SegmentationDataset([image], [mask, mask], ["a"], None)
    with pytest.raises(InputError, match=r"unique, got repeated names \['a'\]"):
        SegmentationDataset([image, image], [mask, mask], ["a", "a"], None)
    with pytest.raises(InputError, match=r"case 'a'.*\(1, 2, 2\) and \(3, 3\)"):
        SegmentationDataset([image], [np.zeros((3, 3), np.int64)], ["a"], None)


def test_frozen() -> None:
    ds = make_synthetic(2, 16)
    with pytest.raises(AttributeError):
        ds.num_classes = 3  # type: ignore[misc]


def test_instances_carried_by_subset_and_split() -> None:
    ds = _tiny(6)
    ids = [m * (i + 1) for i, m in enumerate(ds.masks)]  # one object per foreground image
    with_ids = SegmentationDataset(ds.images, ds.masks, ds.names, None, instances=ids)
    sub = with_ids.subset([3, 1])
    assert sub.instances is not None
    assert sub.instances[0] is ids[3]
    assert sub.instances[1] is ids[1]
    train, val = with_ids.split(0.5, rng=0)
    for part in (train, val):
        assert part.instances is not None
        for name, labels in zip(part.names, part.instances, strict=True):
            assert labels is ids[ds.names.index(name)]
    assert ds.subset([0]).instances is None


def test_instances_validation_errors() -> None:
    image, mask = np.zeros((1, 2, 2), np.float32), np.array([[0, 1], [1, 1]])
    ids = np.array([[0, 2], [2, 5]])
    SegmentationDataset([image], [mask], ["a"], None, instances=[ids])  # fine
    with pytest.raises(InputError, match="one label map per case, got 2 for 1 cases"):
        SegmentationDataset([image], [mask], ["a"], None, instances=[ids, ids])
    with pytest.raises(InputError, match=r"instances of case 'a' must cover .* got shape \(1, 2\)"):
        SegmentationDataset([image], [mask], ["a"], None, instances=[ids[:1]])
    with pytest.raises(InputError, match=r"instances of case 'a' must cover .* got other pixels"):
        SegmentationDataset([image], [mask], ["a"], None, instances=[ids * (ids != 5)])
    with pytest.raises(InputError, match="`instances` must be None for a dataset with classes"):
        SegmentationDataset([image], [mask], ["a"], 3, instances=[ids])
