"""Object metrics in folder evaluation: `evaluate --instances labels|components`, per_object.csv.

References: StarDist 0.9.2's ``matching_dataset`` (run on the same arrays) for the object scores,
scipy's ``ndimage.label`` for the components, and a brute force over full-size masks (one per
object) for every row of ``per_object.csv``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.metrics._instances import batch
from tests.metrics._peers import stardist_matching

from segscore.cli import main
from segscore.evaluation import evaluate_arrays, evaluate_folder
from segscore.evaluation.outputs import write_outputs


def _write(folder: Path, arrays: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, a in enumerate(arrays):
        Image.fromarray(a.astype(np.uint16)).save(folder / f"case{i:02d}.png")


def _relabel(a: np.ndarray) -> np.ndarray:
    """Ids that fit 16-bit PNGs (1..n per image), keeping the objects."""
    out = np.zeros_like(a)
    for i, img in enumerate(a):
        ids, inv = np.unique(img, return_inverse=True)
        new = np.arange(ids.size) * 7 + (0 if ids[0] else 1)
        new[ids == 0] = 0
        out[i] = new[inv].reshape(img.shape)
    return out


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    pred, target = batch(11, n_images=5, shape=(48, 56), n=10)
    pred, target = _relabel(pred), _relabel(target)
    pred[3] = 0  # a case without predicted objects
    root = tmp_path_factory.mktemp("objects")
    _write(root / "pred", pred)
    _write(root / "gt", target)
    return root / "pred", root / "gt", pred, target


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("aggregation", ["pooled", "images_then_classes"])
def test_labels_equal_stardist(folders, aggregation) -> None:  # type: ignore[no-untyped-def]
    sm = stardist_matching()
    if sm is None:
        pytest.skip("stardist is not installed")
    pred_dir, gt_dir, pred, target = folders
    result = evaluate_folder(
        pred_dir,
        gt_dir,
        metrics="f1@0.5,precision@0.7,recall@0.5,pq",
        instances="labels",
        aggregation=aggregation,
        empty=0.0,  # StarDist gives 0 in every empty case
        jobs=1,
    )
    by_image = aggregation != "pooled"
    for name, key, t in (
        ("f1@0.5", "f1", 0.5),
        ("precision@0.7", "precision", 0.7),
        ("recall@0.5", "recall", 0.5),
        ("pq", "panoptic_quality", 0.5),
    ):
        ref = sm.matching_dataset(list(target), list(pred), thresh=t, by_image=by_image)
        assert result.scores[name].value == pytest.approx(getattr(ref, key), rel=2e-6), name
    assert result.summary["conventions"]["instances"] == {
        "mode": "labels",
        "connectivity": None,
        "matching": "optimal",
        "criterion": "iou",
        "comparison": ">=",
        "pair_distances": [],
        "max_detections": 100,
    }


def test_per_object_rows_equal_brute_force(folders, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, pred, target = folders
    result = evaluate_folder(pred_dir, gt_dir, metrics="iou,f1@0.5", instances="labels", jobs=1)
    write_outputs(result, tmp_path, report=False)
    rows = _read_csv(tmp_path / "per_object.csv")
    assert {r["case"] for r in rows} == {f"case{i:02d}" for i in range(5)}
    for i in range(5):
        p, t = pred[i], target[i]
        for role, own, other in (("target", t, p), ("prediction", p, t)):
            got = {
                int(r["id"]): r for r in rows if r["case"] == f"case{i:02d}" and r["object"] == role
            }
            ids = [int(k) for k in np.unique(own) if k]
            assert sorted(got) == ids
            for k in ids:
                mask = own == k
                row = got[k]
                assert int(row["size"]) == int(mask.sum())
                partners = [int(j) for j in np.unique(other[mask]) if j]
                assert int(row["n_overlapping"]) == len(partners)
                ious = {
                    j: (mask & (other == j)).sum() / (mask | (other == j)).sum() for j in partners
                }
                best = max(ious.values(), default=0.0)
                assert float(row["best_iou"]) == pytest.approx(best, abs=1e-15)
                if row["status"] == "matched":
                    j = int(row["partner"])
                    assert ious[j] >= 0.5  # optimal matching, IoU >= 0.5 is one-to-one here
                    assert float(row["iou"]) == pytest.approx(ious[j], abs=1e-15)
                    inter = (mask & (other == j)).sum()
                    dice = 2 * inter / (mask.sum() + (other == j).sum())
                    assert float(row["dice"]) == pytest.approx(dice, abs=1e-15)
                else:
                    assert row["status"] == ("missed" if role == "target" else "false_positive")
                    # IoU > 0.5 is one-to-one: an unmatched object has no partner above it
                    assert best <= 0.5
                    assert row["partner"] == ""
                    assert row["iou"] == ""
    matched = [r for r in rows if r["object"] == "target" and r["status"] == "matched"]
    tp = sum(1 for r in rows if r["object"] == "prediction" and r["status"] == "matched")
    assert len(matched) == tp
    per_case = _read_csv(tmp_path / "per_case.csv")
    assert [r["f1@0.5"] for r in per_case][3] == "0.0"  # the case without predicted objects


def test_components_equal_scipy_labels(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(3)
    target = (rng.random((4, 40, 40)) < 0.35).astype(np.uint8) * 255
    pred = np.roll(target, 1, axis=2)
    _write(tmp_path / "pred", pred.astype(np.uint8))
    _write(tmp_path / "gt", target.astype(np.uint8))
    for connectivity, structure in (("face", None), ("full", np.ones((3, 3)))):
        result = evaluate_folder(
            tmp_path / "pred",
            tmp_path / "gt",
            metrics="iou,tp@0.5,fp@0.5,fn@0.5",
            instances="components",
            connectivity=connectivity,
            jobs=1,
        )
        for i in range(4):
            table = result.evaluation.objects[i]
            assert table.n_target == ndimage.label(target[i], structure=structure)[1]
            assert table.n_pred == ndimage.label(pred[i], structure=structure)[1]
        ref = evaluate_arrays(
            ndimage.label(pred[0], structure=structure)[0],
            ndimage.label(target[0], structure=structure)[0],
            metrics="tp@0.5",
            instances="labels",
        )
        assert result.scores["tp@0.5"].per_image[0] == ref.scores["tp@0.5"].value
        # pixel metrics score the masks themselves
        pixel = evaluate_arrays(pred, target, metrics="iou")
        assert result.scores["iou"].value == pixel.scores["iou"].value


def test_jobs_resume_and_stack_agree(folders, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, pred, target = folders
    common = {"metrics": "iou,f1@0.5,dsb@0.5:0.95,aji,pq", "instances": "labels"}
    one = evaluate_folder(pred_dir, gt_dir, jobs=1, **common)
    two = evaluate_folder(pred_dir, gt_dir, jobs=2, **common)
    journaled = evaluate_folder(pred_dir, gt_dir, jobs=1, journal_dir=tmp_path / "j", **common)
    resumed = evaluate_folder(
        pred_dir, gt_dir, jobs=1, journal_dir=tmp_path / "j", resume=True, **common
    )
    np.save(tmp_path / "p.npy", pred)
    np.save(tmp_path / "t.npy", target)
    stacked = evaluate_folder(tmp_path / "p.npy", tmp_path / "t.npy", **common)
    arrays = evaluate_arrays(pred, target, **common)
    for other in (two, journaled, resumed, stacked, arrays):
        for m, s in one.scores.items():
            np.testing.assert_array_equal(s.per_image, other.scores[m].per_image)
            assert s.value == other.scores[m].value or (
                np.isnan(s.value) and np.isnan(other.scores[m].value)
            )
    assert any("resuming" in n for n in resumed.notes)


def test_cli_writes_per_object_and_summary(folders, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, _, _ = folders
    out = tmp_path / "out"
    code = main(
        ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(out),
         "--instances", "labels", "--metrics", "iou,f1@0.5,aji", "--no-report", "--jobs", "1"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "objects: labels, matching=optimal iou >= threshold" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"]["f1@0.5"]["kind"] == "instance"
    assert summary["metrics"]["f1@0.5"]["conventions"]["instance"]["thresholds"] == ["1/2"]
    assert isinstance(summary["metrics"]["f1@0.5"]["pooled"], float)
    assert (out / "per_object.csv").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--instances", "blobs"], "`--instances` must be one of 'labels', 'components', got 'blobs'"),
        (["--metrics", "iou,pq"], "`--instances` must be 'labels' or 'components' to score object metrics (pq)"),
        (["--instances", "labels", "--num-classes", "5"], "`--num-classes` must be 2 or unset with `--instances`"),
        (["--instances", "labels", "--matching", "best"], "`--matching` must be one of"),
        (["--instances", "components", "--connectivity", "8"], "`--connectivity` must be one of 'face', 'full', got '8'"),
        (["--instances", "labels", "--matching", "unique", "--metrics", "f1@0.5"], "`matching='unique'` needs a threshold"),
        (["--instances", "labels", "--metrics", "f1@1.5"], "must give f1 a matching threshold in (0, 1], got 'f1@1.5'"),
    ],
)  # fmt: skip
def test_cli_bad_options_exit_2_before_reading(  # type: ignore[no-untyped-def]
    folders, tmp_path, capsys, extra, message
) -> None:
    pred_dir, gt_dir, _, _ = folders
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier work")
    code = main(
        ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(out), *extra]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert message in err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_cli_float_ids_name_the_file(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    pred = np.zeros((1, 8, 8), np.float32)
    pred[0, 2:5, 2:5] = 1.5
    target = np.zeros((1, 8, 8), np.int32)
    target[0, 2:5, 2:5] = 4
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    np.save(tmp_path / "p" / "a.npy", pred[0])
    np.save(tmp_path / "g" / "a.npy", target[0])
    code = main(
        ["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(tmp_path / "g"), "--out",
         str(tmp_path / "out"), "--instances", "labels"]
    )  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "a.npy" in err, err
    assert "integer instance ids" in err


def test_cli_says_what_pixel_iou_hides(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Touching nuclei merged by the prediction: pixel IoU high, object F1 low, said in words."""
    target = np.zeros((1, 32, 64), np.int32)
    pred = np.zeros_like(target)
    for k in range(4):  # four rows of three touching squares, each row predicted as one object
        for j in range(3):
            target[0, 4:14, 2 + 15 * k + 4 * j : 6 + 15 * k + 4 * j] = 3 * k + j + 1
        pred[0, 4:14, 2 + 15 * k : 14 + 15 * k] = k + 1
    target[0, 20:28, 4:12] = 50  # and one nucleus found
    pred[0, 20:28, 4:12] = 9
    np.save(tmp_path / "p.npy", pred)
    np.save(tmp_path / "t.npy", target)
    code = main(["score", "--pred", str(tmp_path / "p.npy"), "--gt", str(tmp_path / "t.npy"),
                 "--instances", "labels", "--metrics", "iou,f1@0.5"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert (
        "pixel IoU 1.000 but object f1@0.5 0.111 (4 predicted object(s) merging 12 target "
        "objects) - object scores show what pixel IoU hides." in out
    )


def test_bootstrap_intervals_for_every_metric_with_case_values(folders) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, _, _ = folders
    r = evaluate_folder(
        pred_dir, gt_dir, metrics="iou,hd95,f1@0.5,aji", instances="labels", bootstrap=300, jobs=1
    )
    for name in ("iou", "hd95", "f1@0.5", "aji"):
        entry = r.summary["metrics"][name]
        low, high = entry["ci95"]
        assert low <= entry["value"] <= high, name
    for name in ("f1@0.5", "aji"):  # object metrics: the pooled value's interval too
        low, high = r.summary["metrics"][name]["ci95_pooled"]
        assert low <= r.summary["metrics"][name]["pooled"] <= high
    assert r.summary["metrics"]["hd95"]["ci95_pooled"] is None


def test_object_distances_per_matched_pair(folders, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """--object-distances: each matched pair's HD95 and ASSD, as the boundary engine gives them
    on the two objects' full-size masks (and the same through the journal and for stacks)."""
    import segscore

    pred_dir, gt_dir, pred, target = folders
    out = tmp_path / "out"
    code = main(
        ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(out),
         "--instances", "labels", "--object-distances", "hd95,assd", "--spacing", "0.5,1.0",
         "--no-report", "--jobs", "1"]
    )  # fmt: skip
    assert code == 0
    rows = _read_csv(out / "per_object.csv")
    assert list(rows[0])[8:10] == ["hd95", "assd"]
    checked = 0
    for row in rows:
        if row["object"] != "target" or row["status"] != "matched":
            assert row["hd95"] == "" or row["status"] == "matched"
            continue
        i = int(row["case"][4:])
        a, b = int(row["partner"]), int(row["id"])
        full = segscore.distance_metrics(
            pred[i] == a, target[i] == b, ["hd95", "assd"], spacing=(0.5, 1.0)
        )
        assert float(row["hd95"]) == full.values["hd95"][0, 0]
        assert float(row["assd"]) == full.values["assd"][0, 0]
        checked += 1
    assert checked > 10
    summary = json.loads((out / "summary.json").read_text())
    assert summary["conventions"]["instances"]["pair_distances"] == ["hd95", "assd"]
    np.save(tmp_path / "p.npy", pred)
    np.save(tmp_path / "t.npy", target)
    stacked = evaluate_folder(
        tmp_path / "p.npy", tmp_path / "t.npy", metrics="f1@0.5", instances="labels",
        object_distances="hd95,assd", spacing=(0.5, 1.0),
    )  # fmt: skip
    rows_stacked, _ = stacked.object_rows()
    assert [r["hd95"] for r in rows_stacked] == [
        "" if r["hd95"] == "" else float(r["hd95"]) for r in rows
    ]


def test_object_distances_bad_input(folders, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, _, _ = folders
    base = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(tmp_path / "o")]
    assert main([*base, "--object-distances", "hd95"]) == 2
    assert "`--object-distances` needs `--instances`" in capsys.readouterr().err
    assert main([*base, "--instances", "labels", "--object-distances", "asd"]) == 2
    assert "`--object-distances` must name symmetric boundary metrics" in capsys.readouterr().err
    assert main([*base, "--instances", "labels", "--object-distances", "iou"]) == 2
    assert "got 'iou'" in capsys.readouterr().err


def test_coco_from_probability_maps(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """COCO AP of components of probability maps, each object scored by its mean probability:
    the folder run equals coco_scores on the same objects and scores (pycocotools-checked)."""
    import segscore
    from segscore.metrics.instance import coco_scores, object_scores

    rng = np.random.default_rng(9)
    target = (rng.random((4, 40, 40)) < 0.3).astype(np.uint8)
    prob = np.clip(np.roll(target, 1, axis=2) * 0.7 + rng.random(target.shape) * 0.4, 0, 1)
    prob = prob.astype(np.float32)
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    for i in range(4):
        np.save(tmp_path / "p" / f"c{i}.npy", prob[i])
        np.save(tmp_path / "g" / f"c{i}.npy", target[i])
    names = "iou,ap,ap@0.5,ar100"
    r = evaluate_folder(
        tmp_path / "p", tmp_path / "g", metrics=names, instances="components", jobs=1,
        max_detections=100,
    )  # fmt: skip
    labels_p = segscore.label_components(prob >= 0.5)
    labels_t = segscore.label_components(target)
    scores = object_scores(prob, labels_p)
    ref = coco_scores(labels_p, labels_t, scores, ["ap", "ap@0.5", "ar100"], max_detections=100)
    resumed = evaluate_folder(
        tmp_path / "p", tmp_path / "g", metrics=names, instances="components", jobs=1,
        journal_dir=tmp_path / "j",
    )  # fmt: skip
    resumed = evaluate_folder(
        tmp_path / "p", tmp_path / "g", metrics=names, instances="components", jobs=1,
        journal_dir=tmp_path / "j", resume=True,
    )  # fmt: skip
    for name in ("ap", "ap@0.5", "ar100"):
        assert r.scores[name].value == ref[name].value
        assert resumed.scores[name].value == ref[name].value  # scores kept by the journal
        assert r.summary["metrics"][name]["kind"] == "instance"
    # masks carry no scores: refused with a message naming the cause
    code = main(
        ["evaluate", "--pred", str(tmp_path / "g"), "--gt", str(tmp_path / "g"), "--out",
         str(tmp_path / "o"), "--instances", "components", "--metrics", "ap"]
    )  # fmt: skip
    assert code == 2
    assert "need detection scores, but the predictions are masks" in capsys.readouterr().err
    code = main(
        ["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(tmp_path / "g"), "--out",
         str(tmp_path / "o"), "--instances", "labels", "--metrics", "ap"]
    )  # fmt: skip
    assert code == 2
    assert "COCO metrics (ap) need detection scores" in capsys.readouterr().err


def test_object_presets_in_folder_evaluation(folders, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """--preset stardist: StarDist's pooled, empty-is-0 numbers without any other flag; an object
    option that contradicts a preset is refused; pixel metrics of an object-only preset keep
    segscore's conventions and say so (no preset in their record)."""
    sm = stardist_matching()
    if sm is None:
        pytest.skip("stardist is not installed")
    pred_dir, gt_dir, pred, target = folders
    r = evaluate_folder(
        pred_dir, gt_dir, metrics="iou,f1@0.5,pq", instances="labels", preset="stardist", jobs=1
    )
    ref = sm.matching_dataset(list(target), list(pred), thresh=0.5)  # pooled by default
    assert r.scores["f1@0.5"].value == pytest.approx(ref.f1, rel=2e-6)
    assert r.scores["pq"].value == pytest.approx(ref.panoptic_quality, rel=2e-6)
    assert r.scores["f1@0.5"].conventions.preset == "stardist"
    assert r.scores["iou"].conventions.preset is None
    out = tmp_path / "o"
    code = main(
        ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(out),
         "--instances", "labels", "--preset", "monai", "--matching", "optimal"]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "`--matching` must agree with `--preset monai` (matching 'unique')" in err
    assert not out.exists()


def test_lesion_metrics_in_folder_evaluation(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """lesion_dice/lesion_hd95 per case equal lesion_scores (checked against the BraTS 2023
    procedure and panoptica) on the same volumes; through the journal too; refused with an
    ignore label."""
    from segscore.metrics.instance import lesion_scores

    rng = np.random.default_rng(1)
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    preds, targets = [], []
    z, y, x = np.ogrid[:24, :32, :32]
    for i in range(3):
        t = np.zeros((24, 32, 32), np.uint8)
        p = np.zeros_like(t)
        for k in range(4):
            c = rng.integers(5, 20, 3)
            ball = (z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= int(rng.integers(9, 25))
            t[ball] = 1
            if k < 3:
                p[np.roll(ball, 1, axis=2)] = 1
        preds.append(p)
        targets.append(t)
        np.save(tmp_path / "p" / f"c{i}.npy", p)
        np.save(tmp_path / "g" / f"c{i}.npy", t)
    names = ["lesion_dice", "lesion_hd95", "lesion_fn"]
    common = {"metrics": ["dice", *names], "instances": "components", "spacing": (2.0, 1.0, 1.0)}
    r = evaluate_folder(
        tmp_path / "p", tmp_path / "g", jobs=1, journal_dir=tmp_path / "o", **common
    )
    again = evaluate_folder(
        tmp_path / "p", tmp_path / "g", jobs=1, journal_dir=tmp_path / "o", resume=True, **common
    )
    for i in range(3):
        ref = lesion_scores(
            preds[i] > 0, targets[i] > 0, names, spacing=(2.0, 1.0, 1.0), spatial_dims=3
        )
        for name in names:
            assert r.scores[name].per_image[i] == ref[name].value, name
            assert again.scores[name].per_image[i] == ref[name].value, name
    assert r.summary["metrics"]["lesion_dice"]["pooled"] is None
    code = main(
        ["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(tmp_path / "g"), "--out",
         str(tmp_path / "x"), "--instances", "components", "--metrics", "lesion_dice",
         "--num-classes", "2", "--ignore-index", "9"]
    )  # fmt: skip
    assert code == 2
    assert "lesion metrics (lesion_dice) have no ignore label" in capsys.readouterr().err
