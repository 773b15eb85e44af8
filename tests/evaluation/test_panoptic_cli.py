"""`segscore evaluate --panoptic` on real files: against torchmetrics, exact outputs, bad input.

The files are ``(*S, 2)`` arrays (channel 0 class id, channel 1 instance id: torchmetrics'
layout). The reference is torchmetrics 1.9 ``PanopticQuality(things, stuffs,
return_sq_and_rq=True, return_per_class=True)``, updated case by case (its states pool the
cases), run here on the same arrays; a target class outside things and stuffs is its void,
predicted void needs ``allow_unknown_preds_category=True``. Like segscore it gives a class with
segments but no match SQ 0; a class without any segment is 0 there, NaN here, and left out of
the class means by both. MONAI ``PanopticQualityMetric`` (``--preset monai``) scores the things.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from tests.metrics._peers import F32, monai_metrics, torch, torchmetrics_segmentation
from tests.metrics.test_panoptic_input import (
    STUFFS,
    THINGS,
    VOID,
    panoptic_case,
    without_class_two,
)

from segscore.cli import main
from segscore.evaluation import evaluate_arrays
from segscore.evaluation.journal import JOURNAL_NAME
from segscore.metrics.instance.panoptic import panoptic_scores

CLASSES = (*THINGS, *STUFFS)  # torchmetrics' order: things, then stuffs


def _write_cases(root: Path, seed: int = 0, n: int = 4, void: bool = False) -> list[np.ndarray]:
    """Write n panoptic cases as root/pred/cK.npy and root/gt/cK.npy; return (pred, gt) stacks."""
    return _write(root, panoptic_case(seed, n_images=n, void=void))


def _write(root: Path, case: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    """Write the images of (pc, pi, tc, ti) as cases; return the (pred, gt) stacks."""
    pc, pi, tc, ti = case
    pred, gt = np.stack([pc, pi], axis=-1), np.stack([tc, ti], axis=-1)
    for role, stack in (("pred", pred), ("gt", gt)):
        (root / role).mkdir(parents=True, exist_ok=True)
        for k, array in enumerate(stack):
            np.save(root / role / f"c{k}.npy", array.astype(np.int32))
    return [pred, gt]


def _argv(root: Path, *extra: str, out: str = "out") -> list[str]:
    return [
        "evaluate", "--pred", str(root / "pred"), "--gt", str(root / "gt"),
        "--out", str(root / out), "--no-report", "--jobs", "1", "--panoptic",
        "--things", "1,2", "--stuffs", "0,3", *extra,
    ]  # fmt: skip


def _reference_torchmetrics(pred: np.ndarray, gt: np.ndarray, void: bool) -> np.ndarray:
    """(C, 3): pq, sq, rq per class (things, then stuffs), pooled over the cases (float32)."""
    torchmetrics_segmentation()
    from torchmetrics.detection import PanopticQuality

    metric = PanopticQuality(
        things=set(THINGS), stuffs=set(STUFFS), allow_unknown_preds_category=void,
        return_sq_and_rq=True, return_per_class=True,
    )  # fmt: skip
    for p, t in zip(pred, gt, strict=True):  # one update per case: its states add up
        metric.update(torch().from_numpy(p[None]), torch().from_numpy(t[None]))
    return metric.compute().reshape(-1, 3).numpy().astype(np.float64)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("void", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_per_class_values_equal_torchmetrics(tmp_path: Path, capsys, seed: int, void: bool) -> None:  # type: ignore[no-untyped-def]
    pred, gt = _write_cases(tmp_path, seed, void=void)
    extra = ["--ignore-index", str(VOID)] if void else []
    assert main(_argv(tmp_path, *extra, "--metrics", "pq,sq,rq")) == 0
    printed = capsys.readouterr().out
    assert "panoptic: things [1, 2] stuffs [0, 3]" in printed
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    ref = _reference_torchmetrics(pred, gt, void)
    means = PanopticScalar.compute(pred, gt, void)
    for column, metric in enumerate(("pq", "sq", "rq")):
        entry = summary["metrics"][metric]
        got = np.array([entry["per_class"][str(k)] for k in CLASSES], dtype=np.float64)
        np.testing.assert_allclose(got, ref[:, column], **F32)
        assert entry["aggregation"] == "pooled"  # Kirillov's PQ, as torchmetrics
        assert entry["value"] == entry["pooled"]
        # torchmetrics' scalars: the means over the classes that have segments (all of them)
        assert entry["value"] == pytest.approx(means[column], rel=1e-6)


class PanopticScalar:
    """torchmetrics' output without per-class rows: pq, sq, rq, means over classes with segments."""

    @staticmethod
    def compute(pred: np.ndarray, gt: np.ndarray, void: bool) -> np.ndarray:
        torchmetrics_segmentation()
        from torchmetrics.detection import PanopticQuality

        metric = PanopticQuality(
            things=set(THINGS), stuffs=set(STUFFS), allow_unknown_preds_category=void,
            return_sq_and_rq=True,
        )  # fmt: skip
        metric.update(torch().from_numpy(pred), torch().from_numpy(gt))
        return metric.compute().numpy().astype(np.float64)


def test_per_case_and_summary_hold_exact_values(tmp_path: Path) -> None:
    """Two 1x8 cases worked by hand: thing 1 (ids 7 and 3, 4), stuff 0 and 3, void 9."""
    pred = [
        np.array([[[0, 0], [1, 7], [1, 7], [1, 7], [0, 0], [3, 0], [3, 0], [9, 0]]]),
        np.array([[[0, 0], [0, 0], [1, 5], [1, 5], [0, 0], [0, 0], [0, 0], [0, 0]]]),
    ]
    gt = [
        np.array([[[0, 0], [1, 3], [1, 3], [0, 0], [0, 0], [1, 4], [3, 0], [3, 0]]]),
        np.array([[[0, 0], [0, 0], [1, 2], [1, 2], [1, 2], [0, 0], [9, 0], [9, 0]]]),
    ]
    for role, written in (("pred", pred), ("gt", gt)):
        (tmp_path / role).mkdir()
        for k, a in enumerate(written):
            np.save(tmp_path / role / f"c{k}.npy", a.astype(np.uint16))
    argv = [
        "evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"),
        "--out", str(tmp_path / "out"), "--no-report", "--jobs", "1", "--panoptic",
        "--things", "1", "--stuffs", "0,3", "--ignore-index", "9", "--metrics", "iou,pq,sq,rq",
    ]  # fmt: skip
    assert main(argv) == 0
    rows = _csv(tmp_path / "out" / "per_case.csv")
    got = [(r["case"], r["class"], r["iou"], r["pq"], r["sq"], r["rq"]) for r in rows]
    # c0, thing 1: pred 7 (3 px) vs target 3 (2 px): IoU 2/3 matched; target 4 missed (its
    # pixel is predicted stuff 3). Stuff 0: pred {0, 4}, target {0, 3, 4}: IoU 2/3. Stuff 3:
    # pred {5, 6}, target {6, 7} minus the predicted void 7: union {5, 6}, IoU 1/2, not > 1/2.
    # c1, thing 1: 2 of 3 pixels, IoU 2/3; stuff 0: pred {0,1,4,5,6,7} minus void {6,7}:
    # target {0,1,5}, IoU 3/4; stuff 3: nothing on either side (NaN).
    assert got == [
        ("c0", "0", "0.6666666666666666", "0.6666666666666666", "0.6666666666666666", "1.0"),
        ("c0", "1", "0.5", "0.4444444444444444", "0.6666666666666666", "0.6666666666666666"),
        ("c0", "2", "NaN", "NaN", "NaN", "NaN"),
        ("c0", "3", "0.5", "0.0", "0.0", "0.0"),  # segments, no match: SQ 0 (panopticapi)
        ("c1", "0", "0.75", "0.75", "0.75", "1.0"),
        ("c1", "1", "0.6666666666666666", "0.6666666666666666", "0.6666666666666666", "1.0"),
        ("c1", "2", "NaN", "NaN", "NaN", "NaN"),
        ("c1", "3", "NaN", "NaN", "NaN", "NaN"),
    ]
    # pixel counts of the class maps: void pixels of either side left out
    assert [(r["tp"], r["fp"], r["fn"]) for r in rows if r["case"] == "c0"] == [
        ("2", "0", "1"), ("2", "1", "1"), ("0", "0", "0"), ("1", "1", "0"),
    ]  # fmt: skip
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    pq = summary["metrics"]["pq"]
    # pooled per class: thing 1: IoU sum 2/3 + 2/3, tp 2, fp 0, fn 1 -> (4/3) / 2.5
    # stuff 0: (2/3 + 3/4) / 2; stuff 3: 0 / (0 + 1/2 + 1/2) = 0
    thing = (2 / 3 + 2 / 3) / 2.5
    stuff0 = (2 / 3 + 3 / 4) / 2
    assert pq["per_class"] == {"1": thing, "0": stuff0, "3": 0.0}
    assert pq["value"] == pytest.approx((thing + stuff0) / 3, rel=1e-15)
    assert pq["class_groups"]["things"] == {"classes": [1], "mean": thing, "n_valid": 1, "n_nan": 0}
    assert pq["class_groups"]["stuffs"]["mean"] == pytest.approx(stuff0 / 2, rel=1e-15)
    assert pq["class_groups"]["all"]["mean"] == pq["value"]
    sq = summary["metrics"]["sq"]  # stuff 3 has segments but no match: 0, in the mean
    assert sq["per_class"] == {"1": 2 / 3, "0": stuff0, "3": 0.0}
    assert sq["value"] == pytest.approx((2 / 3 + stuff0) / 3, rel=1e-15)
    assert sq["conventions"]["empty"]["zero_division"] == 0.0
    assert pq["kind"] == "instance"
    assert pq["aggregation"] == "pooled"
    instance = pq["conventions"]["instance"]
    assert instance["matching"] == "same class, IoU > 1/2 (unique)"
    assert (instance["threshold"], instance["comparison"], instance["criterion"]) == (
        "1/2", ">", "iou",
    )  # fmt: skip
    assert (instance["things"], instance["stuffs"], instance["void"]) == ([1], [0, 3], 9)
    assert pq["conventions"]["preset"] is None
    shared = summary["conventions"]
    assert shared["panoptic"]["layout"].startswith("(*S, 2) arrays")
    assert shared["options"]["num_classes"] == 4
    assert shared["options"]["ignore_index"] == 9
    assert shared["instances"] is None
    assert summary["metrics"]["iou"]["aggregation"] == "images_then_classes"
    assert not (tmp_path / "out" / "per_object.csv").exists()


def test_a_stack_file_equals_a_folder_and_the_library(tmp_path: Path) -> None:
    pred, gt = _write_cases(tmp_path, 3, n=3, void=True)
    np.save(tmp_path / "pred.npy", pred)
    np.save(tmp_path / "gt.npy", gt)
    common = ["--no-report", "--jobs", "1", "--panoptic", "--things", "1,2", "--stuffs", "0,3"]
    common += ["--ignore-index", "255", "--metrics", "dice,pq,sq,rq", "--bootstrap", "40"]
    assert main(["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"),
                 "--out", str(tmp_path / "folder"), *common]) == 0  # fmt: skip
    assert main(["evaluate", "--pred", str(tmp_path / "pred.npy"), "--gt",
                 str(tmp_path / "gt.npy"), "--out", str(tmp_path / "stack"), *common]) == 0  # fmt: skip
    a = json.loads((tmp_path / "folder" / "summary.json").read_text())
    b = json.loads((tmp_path / "stack" / "summary.json").read_text())
    for metric in ("dice", "pq", "sq", "rq"):
        for key in ("value", "per_class", "ci95", "ci95_pooled", "class_groups", "mean"):
            assert a["metrics"][metric].get(key) == b["metrics"][metric].get(key), (metric, key)
    folder_rows = _csv(tmp_path / "folder" / "per_case.csv")
    stack_rows = _csv(tmp_path / "stack" / "per_case.csv")
    assert [r["pq"] for r in folder_rows] == [r["pq"] for r in stack_rows]
    s = panoptic_scores(
        pred[..., 0], pred[..., 1], gt[..., 0], gt[..., 1], things=THINGS, stuffs=STUFFS,
        void=VOID,
    )  # fmt: skip
    assert a["metrics"]["pq"]["value"] == s["pq"].value
    assert a["metrics"]["pq"]["ci95"] == a["metrics"]["pq"]["ci95_pooled"]  # the value's rule
    low, high = a["metrics"]["pq"]["ci95"]
    assert low <= s["pq"].value <= high
    r = evaluate_arrays(
        pred, gt, metrics="dice,pq,sq,rq", panoptic=True, things=[1, 2], stuffs=[0, 3],
        options=_options(),
    )  # fmt: skip
    assert r.summary["metrics"]["pq"]["value"] == s["pq"].value
    assert r.summary["metrics"]["dice"]["value"] == a["metrics"]["dice"]["value"]


def _options():  # type: ignore[no-untyped-def]
    from segscore.metrics.options import CountingOptions

    return CountingOptions(num_classes=4, ignore_index=VOID)


def test_per_image_aggregation_and_presets(tmp_path: Path) -> None:
    pred, gt = _write_cases(tmp_path, 5, n=3)
    args = (pred[..., 0], pred[..., 1], gt[..., 0], gt[..., 1])
    assert main(_argv(tmp_path, "--aggregation", "images_then_classes", out="per_image")) == 0
    got = json.loads((tmp_path / "per_image" / "summary.json").read_text())["metrics"]["pq"]
    want = panoptic_scores(*args, things=THINGS, stuffs=STUFFS, aggregation="images_then_classes")
    assert got["value"] == want["pq"].value
    assert got["aggregation"] == "images_then_classes"
    assert got["pooled"] == panoptic_scores(*args, things=THINGS, stuffs=STUFFS)["pq"].value
    assert main(_argv(tmp_path, "--preset", "torchmetrics", out="tm")) == 0
    tm = json.loads((tmp_path / "tm" / "summary.json").read_text())["metrics"]["sq"]
    assert tm["conventions"]["preset"] == "torchmetrics"
    assert tm["aggregation"] == "pooled"
    ref = _reference_torchmetrics(pred, gt, False)
    got_sq = [tm["per_class"][str(k)] for k in CLASSES]
    np.testing.assert_allclose(got_sq, ref[:, 1], **F32)  # its empty policy: 0, not NaN


def _reference_monai(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(2, 3): pq, sq, rq of things 1 and 2 by MONAI ``PanopticQualityMetric(num_classes=2)``,
    ``reduction='mean_batch'`` (its class 0 is the background: stuffs 0 and 3 become 0); its 1e-6
    smoothing and float32 sums: 1e-5."""
    m = monai_metrics()

    def b2hw(a: np.ndarray):  # type: ignore[no-untyped-def]
        classes = np.where(np.isin(a[..., 0], THINGS), a[..., 0], 0)
        return torch().from_numpy(np.stack([a[..., 1], classes], axis=1).astype(np.int64))

    metric = m.PanopticQualityMetric(num_classes=2, metric_name=["pq", "sq", "rq"])
    for p, t in zip(pred, gt, strict=True):
        metric(b2hw(p[None]), b2hw(t[None]))
    return np.stack([v.numpy() for v in metric.aggregate()], axis=1).astype(np.float64)


@pytest.mark.parametrize("variant", ["missed", "absent"])
def test_presets_reproduce_the_class_means_of_their_library(tmp_path: Path, variant: str) -> None:
    """Class 2 never predicted (SQ 0, in every mean) or nowhere: segscore's default and
    ``--preset torchmetrics`` give torchmetrics' three means (a class without any segment left
    out, NaN here); ``--preset monai`` gives MONAI's per-class values (0 without a segment) and
    their mean over the things."""
    pred, gt = _write(tmp_path, without_class_two(panoptic_case(6, n_images=3), variant))
    means = PanopticScalar.compute(pred, gt, False)
    ref = _reference_torchmetrics(pred, gt, False)
    summaries = {}
    for preset in (None, "torchmetrics", "monai"):
        extra = [] if preset is None else ["--preset", preset]
        assert main(_argv(tmp_path, *extra, "--metrics", "pq,sq,rq", out=str(preset))) == 0
        summaries[preset] = json.loads((tmp_path / str(preset) / "summary.json").read_text())
    absent = variant == "absent"
    for preset in (None, "torchmetrics"):
        for column, metric in enumerate(("pq", "sq", "rq")):
            entry = summaries[preset]["metrics"][metric]
            assert entry["value"] == pytest.approx(means[column], rel=1e-6), (preset, metric)
            got = [float(entry["per_class"][str(k)]) for k in CLASSES]  # NaN: "NaN"
            assert math.isnan(got[1]) if absent else got[1] == 0.0  # class 2
            np.testing.assert_allclose(np.nan_to_num(got), ref[:, column], **F32)
            assert entry["class_groups"]["all"]["n_nan"] == int(absent)
    monai = _reference_monai(pred, gt)
    for column, metric in enumerate(("pq", "sq", "rq")):
        entry = summaries["monai"]["metrics"][metric]
        got = [entry["per_class"][str(k)] for k in THINGS]
        np.testing.assert_allclose(got, monai[:, column], rtol=1e-5, atol=1e-5)
        things = entry["class_groups"]["things"]
        assert things["mean"] == pytest.approx(float(monai[:, column].mean()), rel=1e-5, abs=1e-5)
        assert things["n_nan"] == 0


def test_resume_gives_the_outputs_of_an_uninterrupted_run(
    tmp_path: Path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    from segscore.evaluation import runner

    _write_cases(tmp_path, 7, n=6, void=True)
    extra = ["--ignore-index", "255"]
    assert main(_argv(tmp_path, *extra, out="ref")) == 0
    scored: list[str] = []
    real = runner.score_case

    def score_case(case, options):  # type: ignore[no-untyped-def]
        if len(scored) == 4:
            raise KeyboardInterrupt
        scored.append(case.name)
        return real(case, options)

    monkeypatch.setattr(runner, "score_case", score_case)
    assert main(_argv(tmp_path, *extra)) == 130
    assert (tmp_path / "out" / JOURNAL_NAME).exists()
    monkeypatch.undo()
    capsys.readouterr()
    assert main([*_argv(tmp_path, *extra), "--resume"]) == 0
    assert "resuming: 4 case(s) from the journal, 2 to score" in capsys.readouterr().err
    for name in ("per_case.csv",):
        assert (tmp_path / "out" / name).read_text() == (tmp_path / "ref" / name).read_text()
    a = json.loads((tmp_path / "out" / "summary.json").read_text())["metrics"]
    b = json.loads((tmp_path / "ref" / "summary.json").read_text())["metrics"]
    assert a == b


def test_the_report_draws_the_class_maps(tmp_path: Path) -> None:
    _write_cases(tmp_path, 2, n=2)
    argv = [a for a in _argv(tmp_path, "--metrics", "iou,pq") if a != "--no-report"]
    assert main(argv) == 0
    html = (tmp_path / "out" / "report.html").read_text()
    for name in ("c0", "c1"):  # each case drawn once: its class maps, 2-D
        assert f'<span class="case-name" title="{name}">{name}</span>' in html
    assert "slice" not in html  # not as a volume of two slices (H, W, 2)


def _bad(tmp_path: Path, pred: np.ndarray, gt: np.ndarray, name: str = "c0") -> None:
    for role, array in (("pred", pred), ("gt", gt)):
        (tmp_path / role).mkdir(exist_ok=True)
        np.save(tmp_path / role / f"{name}.npy", array)


def _pair(shape=(4, 4)) -> tuple[np.ndarray, np.ndarray]:
    cls = np.zeros((*shape, 2), np.int64)
    cls[1:3, 1:3] = (1, 5)
    return cls.copy(), cls.copy()


def _error(capsys) -> str:  # type: ignore[no-untyped-def]
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("error: "), err
    return err.strip()


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda p, t: (p[..., :1], t[..., :1]), "must be a panoptic array of shape (*S, 2)"),
        (lambda p, t: (p, np.concatenate([t, t[..., :1]], -1)), "has shape (4, 4, 2) but"),
        (lambda p, t: (p.astype(np.float32), t), "must hold integer class and instance ids"),
        (lambda p, t: (p, np.where(t == 5, -1, t)), "must hold class and instance ids >= 0"),
        (lambda p, t: (p, np.where(t == 0, 7, t)), "has classes [7] that are neither"),
        (
            lambda p, t: (np.concatenate([p, np.array([[[2, 5]] * 4])], 0), t),
            "must give each instance id of thing pixels one class per image",
        ),
    ],
    ids=["one-channel", "shapes", "float", "negative", "undeclared", "id-in-two-classes"],
)
def test_bad_files_are_one_line_naming_the_file(tmp_path: Path, capsys, edit, words: str) -> None:  # type: ignore[no-untyped-def]
    p, t = _pair()
    p, t = edit(p, t)
    if p.shape[0] != t.shape[0]:  # the id-in-two-classes case: the target grows alike
        t = np.concatenate([t, np.zeros((1, 4, 2), t.dtype)], 0)
    _bad(tmp_path, p, t)
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("earlier run")
    assert main(_argv(tmp_path, "--things", "1,2")) == 2
    err = _error(capsys)
    assert words in err, err
    assert "c0.npy" in err
    assert (out / "summary.json").read_text() == "earlier run"  # nothing written, nothing lost
    assert sorted(x.name for x in out.iterdir()) == ["summary.json"]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--preset", "stardist"], "`--preset stardist` must agree with `--panoptic`"),
        (["--preset", "panoptica"], "`--preset panoptica` must agree with `--panoptic`"),
        (["--matching", "optimal"], "`--matching` must be 'unique' or unset with `--panoptic`"),
        (["--comparison", ">="], "`--comparison` must be '>' or unset with `--panoptic`"),
        (["--instances", "labels"], "`--instances` must not be set with `--panoptic`"),
        (["--stuffs", "1,3"], "`--things` and `--stuffs` must not share class ids, got [1]"),
        (["--ignore-index", "3"], "`--ignore-index` must lie outside [0, 4)"),
        (["--metrics", "iou,f1@0.5"], "`--metrics` must hold the object metrics pq, sq, rq"),
        (["--things", "1,x"], "`--things` must be comma-separated class ids >= 0"),
        (["--no-include-background"], "`--include-background` must be unset with `--panoptic`"),
        (["--num-classes", "3"], "`--num-classes` must be greater than every thing and stuff"),
        (
            ["--preset", "torchmetrics", "--aggregation", "images_then_classes"],
            "`--aggregation` must agree with `--preset torchmetrics`",
        ),
    ],
)
def test_bad_options_fail_before_any_file_is_read(tmp_path: Path, capsys, extra, words) -> None:  # type: ignore[no-untyped-def]
    # no input folders at all: the options are refused before the files are looked at
    assert main(_argv(tmp_path, *extra)) == 2
    err = _error(capsys)
    assert words in err, err
    assert not (tmp_path / "out").exists()


def test_things_without_panoptic_and_panoptic_without_classes(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    argv = ["evaluate", "--pred", "p", "--gt", "g", "--out", str(tmp_path / "o")]
    assert main([*argv, "--things", "1"]) == 2
    assert "`--things` must come with `--panoptic`, got '1' without it." in _error(capsys)
    assert main([*argv, "--panoptic"]) == 2
    assert "`--things` or `--stuffs` must name classes with `--panoptic`" in _error(capsys)


def test_a_void_prediction_is_left_out_of_the_pixel_counts(tmp_path: Path) -> None:
    p, t = _pair()
    p[0, :] = (255, 0)  # the model leaves the first row open
    _bad(tmp_path, p, t)
    assert main(_argv(tmp_path, "--things", "1", "--stuffs", "0", "--ignore-index", "255")) == 0
    rows = _csv(tmp_path / "out" / "per_case.csv")
    assert [(r["class"], r["tp"], r["fp"], r["fn"], r["tn"]) for r in rows] == [
        ("0", "8", "0", "0", "4"),  # 16 pixels, 4 of them void in the prediction
        ("1", "4", "0", "0", "8"),
    ]
    assert [r["pq"] for r in rows] == ["1.0", "1.0"]
    assert not math.isnan(float(rows[0]["iou"]))


def test_worker_processes_and_compare_give_the_same_numbers(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """20 cases: batches of 16 go to two worker processes (the counts travel pickled)."""
    _write_cases(tmp_path, 11, n=20, void=True)
    extra = ["--ignore-index", "255", "--metrics", "iou,pq,sq,rq"]
    assert main(_argv(tmp_path, *extra, out="one")) == 0
    argv = _argv(tmp_path, *extra, out="two")
    argv[argv.index("--jobs") + 1] = "2"
    assert main(argv) == 0
    one = tmp_path / "one"
    two = tmp_path / "two"
    assert (one / "per_case.csv").read_text() == (two / "per_case.csv").read_text()
    a = json.loads((one / "summary.json").read_text())
    b = json.loads((two / "summary.json").read_text())
    assert a["metrics"] == b["metrics"]
    capsys.readouterr()
    assert main(["compare", str(one), str(two), "--metric", "pq"]) == 0
    assert "pq" in capsys.readouterr().out


def _segments_to_panoptic(labels: np.ndarray) -> np.ndarray:
    """Segment labels 0..7 -> (class, instance): 0 stuff 0, 1 stuff 3, 2 void, 3..7 things."""
    classes = np.select(
        [labels == 0, labels == 1, labels == 2, labels % 2 == 1], [0, 3, VOID, 1], default=2
    )
    instances = np.where(labels >= 3, labels, 0)
    return np.stack([classes, instances], axis=-1).astype(np.int32)


@given(
    data=st.data(),
    n=st.integers(1, 3),
    shape=st.tuples(st.integers(1, 6), st.integers(1, 6)),
)
def test_files_score_as_the_library_scores_the_arrays(data, n: int, shape) -> None:  # type: ignore[no-untyped-def]
    """Any cases (void, empty classes, all-void images): the CLI's numbers are the library's."""
    labels = st.integers(0, 7)
    stacks = [
        _segments_to_panoptic(data.draw(arrays(np.int64, (n, *shape), elements=labels)))
        for _ in range(2)
    ]
    pred, gt = stacks
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for role, stack in (("pred", pred), ("gt", gt)):
            (root / role).mkdir()
            for k, array in enumerate(stack):
                np.save(root / role / f"c{k}.npy", array)
        code = main(_argv(root, "--ignore-index", str(VOID), "--metrics", "pq,sq,rq"))
        assert code == 0
        summary = json.loads((root / "out" / "summary.json").read_text())
        rows = _csv(root / "out" / "per_case.csv")
    args = (pred[..., 0], pred[..., 1], gt[..., 0], gt[..., 1])
    want = panoptic_scores(*args, things=THINGS, stuffs=STUFFS, void=VOID)
    for metric, s in want.items():
        got = summary["metrics"][metric]
        assert _same(got["value"], s.value)
        assert all(
            _same(got["per_class"][str(k)], v)
            for k, v in zip(s.class_ids, s.per_class.tolist(), strict=True)
        )
        cells = {(r["case"], int(r["class"])): float(r[metric]) for r in rows}
        for i in range(n):
            for j, k in enumerate(s.class_ids):
                assert _same(cells[(f"c{i}", k)], float(s.cells[i, j]))


def _same(a: object, b: float) -> bool:
    a = math.nan if a == "NaN" else float(a)  # type: ignore[arg-type]
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_keep_going_records_a_bad_case_and_scores_the_others(tmp_path: Path) -> None:
    pred, gt = _write_cases(tmp_path, 9, n=3)
    bad = gt[0].copy()
    bad[0, 0] = (5, 0)  # class 5: neither thing nor stuff
    np.save(tmp_path / "gt" / "c0.npy", bad)
    assert main(_argv(tmp_path, "--keep-going", "--metrics", "pq")) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["inputs"]["n_cases"] == 2
    assert summary["inputs"]["n_failed"] == 1
    assert summary["failed"][0]["case"] == "c0"
    assert "has classes [5] that are neither" in summary["failed"][0]["error"]
    args = (pred[1:, ..., 0], pred[1:, ..., 1], gt[1:, ..., 0], gt[1:, ..., 1])
    want = panoptic_scores(*args, things=THINGS, stuffs=STUFFS)["pq"].value
    assert summary["metrics"]["pq"]["value"] == want
    rows = _csv(tmp_path / "out" / "per_case.csv")
    assert [r["status"] for r in rows if r["case"] == "c0"] == ["failed"]


def test_a_label_set_names_the_classes(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Cityscapes: stuffs 0-10, things 11-18, void 255 (the set's ignore label)."""
    classes = np.full((8, 8), 10)
    classes[4:, :3] = 13
    classes[7, 7] = 255
    instances = np.where(classes == 13, 1000, 0)
    _bad(tmp_path, np.stack([classes, instances], -1), np.stack([classes, instances], -1))
    argv = _argv(tmp_path, "--things", "11,12,13,14,15,16,17,18", "--stuffs", "0:11")
    argv[argv.index("0:11")] = ",".join(map(str, range(11)))
    assert main([*argv, "--class-names", "cityscapes", "--metrics", "pq"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(all(w in line for w in (" car ", " thing ", "1.0000")) for line in lines)
    pq = json.loads((tmp_path / "out" / "summary.json").read_text())["metrics"]["pq"]
    assert pq["class_names"]["13"] == "car"
    assert pq["per_class"]["13"] == 1.0
    assert pq["conventions"]["instance"]["void"] == 255
