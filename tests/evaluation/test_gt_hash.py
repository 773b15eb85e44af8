"""``inputs.gt_hash``: a hash of the ground truth alone, equal for two runs of the same ground truth."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segscore.cli import main
from segscore.evaluation import evaluate_folder
from segscore.evaluation.folder import evaluate_arrays, runner_options
from segscore.evaluation.journal import JOURNAL_NAME, Journal
from segscore.evaluation.runner import iter_results
from segscore.evaluation.settings import make_settings
from segscore.io.pairs import match_cases
from segscore.sample import sample_masks


def _write(folder: Path, masks: np.ndarray, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for mask, name in zip(masks, names, strict=True):
        Image.fromarray(mask.astype(np.uint8) * 255).save(folder / f"{name}.png")


def _reference(folder: Path) -> str:
    """sha256 over name + NUL + sha256(file bytes) per file, sorted by name: written apart."""
    whole = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        whole.update(
            path.stem.encode() + b"\0" + hashlib.sha256(path.read_bytes()).hexdigest().encode()
        )
    return "sha256:" + whole.hexdigest()


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path, Path]:
    pred, target, names = sample_masks(20, 32, seed=3)
    _write(tmp_path / "gt", target, names)
    _write(tmp_path / "a", pred, names)
    _write(tmp_path / "b", pred | target, names)
    return tmp_path / "a", tmp_path / "b", tmp_path / "gt"


@pytest.mark.parametrize("jobs", [1, 2])
def test_gt_hash_is_the_ground_truth_alone(two_runs, jobs: int) -> None:  # type: ignore[no-untyped-def]
    a, b, gt = two_runs
    # 20 cases: with 2 jobs the results come back packed in batches of 16.
    ra = evaluate_folder(a, gt, jobs=jobs).summary["inputs"]
    rb = evaluate_folder(b, gt, jobs=jobs).summary["inputs"]
    assert ra["gt_hash"] == rb["gt_hash"] == _reference(gt)
    assert ra["hash"] != rb["hash"]
    assert ra["gt_hash"] != ra["hash"]


def test_gt_hash_changes_with_one_ground_truth_byte_or_name(two_runs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _, gt = two_runs
    before = evaluate_folder(a, gt, jobs=1).summary["inputs"]["gt_hash"]
    first = sorted(gt.iterdir())[0]
    mask = np.asarray(Image.open(first)).copy()
    mask[0, 0] = 255 - mask[0, 0]
    Image.fromarray(mask).save(first)
    changed = evaluate_folder(a, gt, jobs=1).summary["inputs"]["gt_hash"]
    assert changed not in (before, "")
    assert changed == _reference(gt)


def test_resume_keeps_the_gt_hash_and_rescores_entries_without_it(two_runs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _, gt = two_runs
    want = evaluate_folder(a, gt, jobs=1).summary["inputs"]["gt_hash"]
    out = tmp_path / "out"
    cases = list(match_cases(a, gt).cases)
    options = runner_options(make_settings())  # what evaluate_folder journals by default
    # A journal of the first 5 cases, as an earlier segscore wrote it: no target digest.
    journal = Journal.open(out, options, cases, resume=False)
    for result in iter_results(cases[:5], options):
        journal.record(result)
    journal.close()
    lines = (out / JOURNAL_NAME).read_text().splitlines()
    batch = json.loads(lines[1])
    for entry in batch["cases"][:2]:
        del entry["target_digest"]
    (out / JOURNAL_NAME).write_text("\n".join([lines[0], json.dumps(batch)]) + "\n")
    resumed = evaluate_folder(a, gt, jobs=1, journal_dir=out, resume=True)
    assert resumed.summary["inputs"]["gt_hash"] == want
    assert "resuming: 3 case(s) from the journal, 17 to score (2 changed or gone)" in resumed.notes


def test_stacks_and_arrays_hash_the_ground_truth_alone(tmp_path: Path) -> None:
    pred, target, names = sample_masks(4, 16, seed=1)
    np.save(tmp_path / "gt.npy", target)
    for run, p in (("a", pred), ("b", pred | target)):
        (tmp_path / run).mkdir()
        np.save(tmp_path / run / "pred.npy", p)  # stack cases are named after the stem: pred[i]
        argv = ["evaluate", "--pred", str(tmp_path / run / "pred.npy"), "--gt"]
        argv += [str(tmp_path / "gt.npy"), "--out", str(tmp_path / f"o{run}"), "--no-report"]
        assert main(argv) == 0
    sa, sb = (json.loads((tmp_path / o / "summary.json").read_text()) for o in ("oa", "ob"))
    assert sa["inputs"]["gt_hash"] == sb["inputs"]["gt_hash"]
    assert sa["inputs"]["hash"] != sb["inputs"]["hash"]
    ha = evaluate_arrays(pred, target, names=names).summary["inputs"]
    hb = evaluate_arrays(pred | target, target, names=names).summary["inputs"]
    hc = evaluate_arrays(pred, ~target, names=names).summary["inputs"]
    assert ha["gt_hash"] == hb["gt_hash"] != hc["gt_hash"]
    assert ha["hash"] != hb["hash"]
