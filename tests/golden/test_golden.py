"""Golden files: the stored counts and scores of small cases (regenerate only with
scripts/regen_golden.py, and review the diff). Counts must match exactly, floats to 1e-12."""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
import pytest

import segscore

HERE = pathlib.Path(__file__).parent
NAMES = sorted(
    p.stem for p in (HERE / "cases").glob("*.npz") if not p.stem.startswith("boundary_")
)  # the boundary cases: test_golden_boundary.py


def _load(name: str):
    with np.load(HERE / "cases" / f"{name}.npz", allow_pickle=False) as data:
        pred, target, options = data["pred"], data["target"], json.loads(str(data["options"]))
    expected = json.loads((HERE / "expected" / f"{name}.json").read_text())
    return pred, target, options, expected


def _nan(value):
    """JSON null -> NaN, recursively."""
    if isinstance(value, list):
        return [_nan(v) for v in value]
    return math.nan if value is None else value


def _assert_floats(got, expected, where: str) -> None:
    want = np.asarray(_nan(expected), dtype=np.float64)
    np.testing.assert_allclose(
        np.asarray(got, dtype=np.float64), want, rtol=1e-12, atol=0, err_msg=where
    )


def test_the_golden_set_is_complete():
    assert NAMES == [
        "binary_2d",
        "binary_3d_probabilities",
        "empty",
        "multiclass_2d_ignore",
        "multiclass_3d",
        "multilabel_2d",
    ]
    for name in NAMES:
        assert (HERE / "expected" / f"{name}.json").is_file()
        assert (HERE / "cases" / f"{name}.npz").stat().st_size < 100_000


@pytest.mark.parametrize("name", NAMES)
def test_golden(name):
    pred, target, options, expected = _load(name)
    assert expected["options"] == options
    counts = segscore.confusion(pred, target, **options)
    for field in ("tp", "fp", "fn", "tn"):
        assert getattr(counts, field).tolist() == expected["counts"][field], field
    for weight, values in expected["generalized_dice"].items():
        _assert_floats(segscore.generalized_dice(counts, weight=weight), values, weight)
    overlap = [m for m, spec in segscore.METRICS.items() if spec.kind == "overlap"]
    assert len(expected["scores"]) == len(overlap) * len(segscore.AGGREGATIONS) * 2
    for key, want in expected["scores"].items():
        metric, aggregation, policy = key.split("/")
        empty = {"nan": math.nan, "one": 1.0}[policy]
        s = segscore.score(counts, metric, aggregation=aggregation, empty=empty)
        _assert_floats(s.value, want["value"], key)
        _assert_floats(s.per_image, want["per_image"], key)
        _assert_floats(s.per_class, want["per_class"], key)
        assert (s.n_valid, s.n_excluded) == (want["n_valid"], want["n_excluded"]), key


def test_golden_values_agree_with_hand_computation():
    """A few stored numbers checked by hand, so that a wrong regeneration cannot pass unseen."""
    _, _, _, empty = _load("empty")
    iou = empty["scores"]["iou/per_image_per_class/nan"]
    assert iou["per_image"] == [None, 0.0, 0.0]  # both empty, target empty, prediction empty
    assert (iou["n_valid"], iou["n_excluded"]) == (2, 1)
    assert empty["scores"]["iou/per_image_per_class/one"]["value"] == pytest.approx(1 / 3)
    _, _, _, binary = _load("binary_2d")
    # image 0: target rows 2-7 x cols 3-8 (36 px), prediction rows 3-8 x cols 3-9 (42 px), overlap 30
    assert binary["counts"]["tp"][0] == [30]
    assert binary["scores"]["dice/per_image_per_class/nan"]["per_image"][0] == pytest.approx(
        60 / 78, rel=1e-15
    )
