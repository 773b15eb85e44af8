"""`--threshold-from RUN`: the threshold chosen on a validation run, applied to a test run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segscore.cli import main
from segscore.evaluation.thresholds import SWEEP_THRESHOLDS, sweep_counts, threshold_from_run
from segscore.sample import sample_masks


def _probabilities(root: Path, split: str, seed: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    _, target, names = sample_masks(6, 24, seed=seed)
    prob = np.clip(target * 0.45 + rng.random(target.shape) * 0.6, 0, 1).astype(np.float32)
    for folder in ("prob", "gt"):
        (root / split / folder).mkdir(parents=True)
    for p, t, n in zip(prob, target, names, strict=True):
        Image.fromarray(p, mode="F").save(root / split / "prob" / f"{n}.tif")
        Image.fromarray(t.astype(np.uint8) * 255).save(root / split / "gt" / f"{n}.png")
    return root / split / "prob", root / split / "gt"


def _evaluate(pred: Path, gt: Path, out: Path, *flags: str) -> int:
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--out", str(out), "--jobs", "1"]
    return main([*argv, *flags])


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    assert "\n" not in err
    return err


def test_the_validation_threshold_gives_the_counts_of_that_threshold(  # type: ignore[no-untyped-def]
    tmp_path: Path, capsys
) -> None:
    val = _probabilities(tmp_path, "val", 1)
    test = _probabilities(tmp_path, "test", 2)
    assert _evaluate(*val, tmp_path / "val_run") == 0
    printed = capsys.readouterr().out
    assert "so its score is optimistic" in printed
    assert "--threshold-from VALIDATION_RUN" in printed
    report = (tmp_path / "val_run" / "report.html").read_text(encoding="utf-8")
    assert "so its score is optimistic" in report
    assert "--threshold-from VALIDATION_RUN" in report
    best = json.loads((tmp_path / "val_run" / "summary.json").read_text())["threshold_sweep"]
    chosen = best["best_threshold"]
    assert chosen != 0.5  # else the test could not tell the two thresholds apart
    assert _evaluate(*test, tmp_path / "from", "--threshold-from", str(tmp_path / "val_run")) == 0
    printed = capsys.readouterr().out
    assert f"threshold {chosen:g} chosen on" in printed
    assert f"conventions: mode=binary threshold={chosen} " in printed  # probabilities: applied
    assert _evaluate(*test, tmp_path / "given", "--threshold", str(chosen)) == 0
    rows = [(tmp_path / o / "per_case.csv").read_text() for o in ("from", "given")]
    assert rows[0] == rows[1]
    summary = json.loads((tmp_path / "from" / "summary.json").read_text())
    assert summary["conventions"]["options"]["threshold"] == chosen
    source = summary["conventions"]["threshold_source"]
    assert source["threshold"] == chosen
    assert source["chosen_on"] == str(tmp_path / "val_run" / "summary.json")
    assert source["inputs_hash_there"].startswith("sha256:")
    given = json.loads((tmp_path / "given" / "summary.json").read_text())
    assert given["conventions"]["threshold_source"] is None
    # The summary.json file itself can be named too.
    assert threshold_from_run(tmp_path / "val_run" / "summary.json").threshold == chosen
    assert summary["warnings"] == []


def test_a_threshold_chosen_on_the_same_cases_is_flagged(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # Reviewed: --threshold-from the run being scored was taken without a word, although it
    # defeats the option's purpose (a held-out threshold).
    val = _probabilities(tmp_path, "val", 1)
    assert _evaluate(*val, tmp_path / "val_run") == 0
    capsys.readouterr()
    assert _evaluate(*val, tmp_path / "again", "--threshold-from", str(tmp_path / "val_run")) == 0
    assert "warning: the threshold was chosen on these very cases" in capsys.readouterr().err
    summary = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert len(summary["warnings"]) == 1
    assert "not a held-out score" in summary["warnings"][0]


def test_a_run_without_a_threshold_is_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    test = _probabilities(tmp_path, "test", 2)
    masks = tmp_path / "masks"
    masks.mkdir()
    for f in test[1].iterdir():
        (masks / f.name).write_bytes(f.read_bytes())
    assert _evaluate(masks, test[1], tmp_path / "mask_run", "--no-report") == 0
    capsys.readouterr()
    out = tmp_path / "out"
    argv = ["--threshold-from", str(tmp_path / "mask_run")]
    assert _evaluate(*test, out, *argv) == 2
    err = _error(capsys)
    assert err.startswith("error: `--threshold-from` must name an evaluation of probability maps")
    assert repr(str(tmp_path / "mask_run" / "summary.json")) in err
    assert not out.exists()
    assert _evaluate(*test, out, "--threshold-from", str(tmp_path / "nowhere")) == 2
    assert repr(str(tmp_path / "nowhere" / "summary.json")) in _error(capsys)
    run = tmp_path / "train_run"
    run.mkdir()
    (run / "config.json").write_text('{"threshold": 0.4}')
    assert _evaluate(*test, out, "--threshold-from", str(run)) == 2
    assert "config.json records the threshold it was given" in _error(capsys)
    assert _evaluate(*test, out, *argv, "--threshold", "0.4") == 2
    assert "`--threshold` must not be combined with `--threshold-from`" in _error(capsys)
    assert not out.exists()


def test_sweep_counts_match_thresholding_each_value() -> None:
    rng = np.random.default_rng(0)
    prob = rng.random((7, 9)).astype(np.float32)
    prob[0, :3] = [0.5, 0.01, 0.99]  # on the grid: p >= t is foreground
    target = rng.random((7, 9)) > 0.5
    got = sweep_counts(prob, target)
    for k, t in enumerate(SWEEP_THRESHOLDS):
        fg = prob >= np.float32(t)
        want = [
            (fg & target).sum(),
            (fg & ~target).sum(),
            (~fg & target).sum(),
            (~fg & ~target).sum(),
        ]
        assert got[k].tolist() == want


def test_probabilities_scored_at_another_threshold_than_predict_used(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    # Reviewed: `predict --save-probs` at 0.3, then `evaluate --pred PRED/probs` scored at 0.5
    # with no word, another IoU than the predicted masks'.
    prob, gt = _probabilities(tmp_path, "val", 1)
    (prob.parent / "predict.json").write_text(json.dumps({"threshold": 0.3}))
    assert _evaluate(prob, gt, tmp_path / "at_05", "--no-report") == 0
    err = capsys.readouterr().err
    assert "records threshold 0.3 for these predictions" in err
    assert "pass --threshold 0.3 to score the masks as predicted" in err
    summary = json.loads((tmp_path / "at_05" / "summary.json").read_text())
    assert len(summary["warnings"]) == 1
    assert _evaluate(prob, gt, tmp_path / "at_03", "--no-report", "--threshold", "0.3") == 0
    assert "warning" not in capsys.readouterr().err


def test_the_threshold_comes_with_the_rule_it_was_chosen_under(tmp_path: Path) -> None:
    # Reviewed: a threshold tuned under '>' was applied under '>=' with no word.
    val = _probabilities(tmp_path, "val", 1)
    test = _probabilities(tmp_path, "test", 2)
    assert _evaluate(*val, tmp_path / "val_run", "--no-report", "--threshold-comparison", ">") == 0
    assert (
        _evaluate(
            *test, tmp_path / "from", "--no-report", "--threshold-from", str(tmp_path / "val_run")
        )
        == 0
    )
    summary = json.loads((tmp_path / "from" / "summary.json").read_text())
    assert summary["conventions"]["options"]["threshold_comparison"] == ">"
    assert summary["conventions"]["threshold_source"]["threshold_comparison"] == ">"
    # an explicit rule wins
    argv = ["--no-report", "--threshold-from", str(tmp_path / "val_run")]
    assert _evaluate(*test, tmp_path / "own", *argv, "--threshold-comparison", ">=") == 0
    own = json.loads((tmp_path / "own" / "summary.json").read_text())
    assert own["conventions"]["options"]["threshold_comparison"] == ">="
