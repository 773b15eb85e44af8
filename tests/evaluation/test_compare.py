"""`compare_runs`: the checks, the direction of each metric, and what the record says."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from segscore.errors import DatasetError
from segscore.evaluation import compare_runs, evaluate_arrays, read_run, write_outputs
from segscore.evaluation.compare import SIGN_CONVENTION
from segscore.metrics.options import CountingOptions


def _squares(n: int = 5) -> np.ndarray:
    target = np.zeros((n, 12, 12), bool)
    for i in range(n):
        target[i, 2 : 6 + i, 3:8] = True
    return target


def _run(root: Path, name: str, pred: np.ndarray, target: np.ndarray, **kwargs: object) -> Path:
    kwargs.setdefault("metrics", ["iou", "hd95"])
    result = evaluate_arrays(pred, target, names=[f"c{i}" for i in range(len(target))], **kwargs)
    write_outputs(result, root / name, report=False)
    return root / name


def test_direction_comes_from_the_registry(tmp_path: Path) -> None:
    target = _squares(8)  # a verdict needs p < 0.05 too: 6 pairs or more
    far = np.roll(target, 3, axis=2)  # distances 3, IoU low
    near = np.roll(target, 1, axis=2)  # distances 1, IoU higher
    a, b = _run(tmp_path, "a", far, target), _run(tmp_path, "b", near, target)
    c = compare_runs(a, b, n_resamples=500, seed=1)
    iou, hd95 = c.metrics["iou"], c.metrics["hd95"]
    assert (iou.higher_is_better, hd95.higher_is_better) == (True, False)
    assert iou.result.mean_difference > 0
    assert hd95.result.mean_difference == pytest.approx(-2.0)  # B - A: 1 - 3 per case
    assert (iou.better, hd95.better) == ("B", "B")
    assert hd95.favours(-1.0) == "B"
    assert hd95.favours(1.0) == "A"
    assert iou.favours(0.0) is None
    record = c.as_record(top=2)
    assert record["sign"] == SIGN_CONVENTION
    assert record["metrics"]["hd95"]["mean_a"] == pytest.approx(3.0)
    assert record["metrics"]["hd95"]["mean_b"] == pytest.approx(1.0)
    assert len(record["metrics"]["iou"]["changed_most"]) == 2
    rows, columns = c.case_rows()
    assert columns == ["case", "metric", "a", "b", "difference", "favours"]
    assert [r["difference"] for r in rows if r["metric"] == "hd95"] == pytest.approx([-2.0] * 8)
    only = compare_runs(a, b, metrics="hd95", n_resamples=10)
    assert list(only.metrics) == ["hd95"]


def test_non_finite_pairs_are_left_out_and_counted(tmp_path: Path) -> None:
    target = _squares()
    pred = target.copy()
    pred[0] = False  # an empty prediction: HD95 infinite in A
    a, b = _run(tmp_path, "a", pred, target), _run(tmp_path, "b", target, target)
    m = compare_runs(a, b, n_resamples=50).metrics["hd95"]
    assert (m.result.n, m.result.n_nonfinite) == (4, 1)
    assert math.isinf(m.a[0])
    assert 0 not in m.changed_most(10)


def test_threshold_and_class_names_do_not_have_to_agree(tmp_path: Path) -> None:
    target = _squares()
    prob = np.where(target, 0.7, 0.2)
    a = _run(tmp_path, "a", prob, target, options=CountingOptions(threshold=0.6), metrics="iou")
    b = _run(tmp_path, "b", prob, target, options=CountingOptions(threshold=0.3), metrics="iou")
    c = compare_runs(a, b, n_resamples=10)
    assert c.checks["conventions"] == "equal"
    assert c.forced == ()
    labels = target.astype(np.uint8)
    named = [
        _run(
            tmp_path, f"n{i}", labels, labels, options=CountingOptions(num_classes=2, class_names=n)
        )
        for i, n in enumerate([("bg", "fg"), ("background", "foreground")])
    ]
    assert compare_runs(*named, n_resamples=10).checks["conventions"] == "equal"
    other = _run(tmp_path, "n3", labels, labels, options=CountingOptions(num_classes=3))
    with pytest.raises(DatasetError, match=r"got conventions.counting.num_classes = 2 in A and 3"):
        compare_runs(named[0], other)


def test_a_run_without_gt_hash_is_refused_unless_forced(tmp_path: Path) -> None:
    target = _squares()
    a, b = _run(tmp_path, "a", target, target), _run(tmp_path, "b", target, target)
    summary = json.loads((b / "summary.json").read_text())
    del summary["inputs"]["gt_hash"]  # as an earlier segscore wrote it
    (b / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(DatasetError, match=r"run B \('.*b'\) records no inputs.gt_hash"):
        compare_runs(a, b)
    forced = compare_runs(a, b, force=True, n_resamples=10)
    assert forced.checks["gt_hash"] == "unknown"
    assert "records no inputs.gt_hash" in forced.forced[0]


def test_runs_that_cannot_be_compared(tmp_path: Path) -> None:
    target = _squares()
    a = _run(tmp_path, "a", target, target)
    with pytest.raises(DatasetError, match=r"run B '.*nope': not found"):
        compare_runs(a, tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"run B '.*empty': holds no summary.json"):
        compare_runs(a, tmp_path / "empty")
    renamed = evaluate_arrays(target, target, names=[f"d{i}" for i in range(5)], metrics="iou")
    write_outputs(renamed, tmp_path / "renamed", report=False)
    with pytest.raises(DatasetError, match=r"no case is in both run A"):
        compare_runs(a, tmp_path / "renamed", force=True, metrics="iou")
    c = _run(tmp_path, "c", target, target, metrics="dice")
    with pytest.raises(DatasetError, match=r"have no metric in common \(iou, hd95 vs dice\)"):
        compare_runs(a, c)
    (a / "per_case.csv").write_text("case,iou\nc0,0.5\n")
    with pytest.raises(DatasetError, match=r"expected a column 'hd95'"):
        read_run(a)


@pytest.mark.parametrize(
    ("a", "b", "better"),
    [
        ([0.5], [0.63], None),  # one pair: no interval
        ([0.5, 0.4], [0.6, 0.6], None),  # two of one sign: the interval is [0.1, 0.2], p = 0.5
        ([0.5] * 5, [0.51] * 5, None),  # five equal gains: exact p = 1/16
        (list(np.linspace(0.3, 0.7, 12)), list(np.linspace(0.3, 0.7, 12) + 0.05), "B"),
        (list(np.linspace(0.3, 0.7, 12) + 0.05), list(np.linspace(0.3, 0.7, 12)), "A"),
    ],
)
def test_a_winner_needs_the_interval_and_the_rank_test(a, b, better) -> None:  # type: ignore[no-untyped-def]
    # Reviewed: "B better" from one case, or from two, on the percentile interval alone.
    from segscore.evaluation.compare import MetricComparison
    from segscore.metrics.bootstrap import paired_comparison

    result = paired_comparison(np.array(a), np.array(b), rng=0)
    m = MetricComparison("iou", True, "ratio", (), np.array(a), np.array(b), result)
    assert m.better == better


def test_a_run_written_before_the_new_conventions_still_compares(tmp_path: Path) -> None:
    # Reviewed: summaries written before `threshold_comparison` and `distance_include_background`
    # existed (schema 2 as well) were refused as having other conventions.
    target = _squares(8)
    a = _run(tmp_path, "a", np.roll(target, 1, axis=2), target)
    b = _run(tmp_path, "b", target, target)
    path = a / "summary.json"
    summary = json.loads(path.read_text())
    conventions = summary["conventions"]
    del conventions["distance_include_background"]
    del conventions["options"]["threshold_comparison"]
    for record in [conventions, *(m["conventions"] for m in summary["metrics"].values())]:
        record["counting"].pop("threshold_comparison")
    path.write_text(json.dumps(summary))
    c = compare_runs(a, b, n_resamples=200, seed=0)
    assert c.metrics["iou"].better == "B"
    # a real difference is still one (the threshold and its comparison are predictions: not)
    conventions["options"]["ignore_index"] = 7
    path.write_text(json.dumps(summary))
    with pytest.raises(DatasetError, match=r"conventions\.options\.ignore_index"):
        compare_runs(a, b, n_resamples=200, seed=0)
