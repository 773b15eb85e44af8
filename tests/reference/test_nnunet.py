"""The ``nnunet`` preset against nnU-Net v2's own evaluation code (``nnunetv2==2.8.1``, PyPI).

What runs is ``nnunetv2/evaluation/evaluate_predictions.py`` as installed: its
``compute_metrics_on_folder`` reads every case of two folders of NIfTI files with nnU-Net's own
reader (``SimpleITKIO``), calls its ``compute_metrics`` per case (``region_or_label_to_mask``,
``compute_tp_fp_fn_tn``, the ignore mask ``seg_ref == ignore_label``, Dice and IoU NaN when
``tp + fp + fn == 0``), and averages: per label ``np.nanmean`` over cases (``mean``), then
``np.mean`` over the labels other than 0 (``foreground_mean``).

The module's import line of ``nnunetv2.imageio.reader_writer_registry`` pulls scikit-image and
tifffile, and that of ``nnunetv2.utilities.plans_handling.plans_handler`` pulls
dynamic-network-architectures, acvl_utils and the resampling code; only
``compute_metrics_on_folder2``/``_simple`` (the dataset.json/plans.json entry points) use them. So
the file is executed from its source without those two import statements (every other line as
installed; ``batchgenerators`` supplies its file helpers), and its ``multiprocessing`` is replaced
by a one-process pool with the same ``starmap`` (the spawn pool could not find a module built from
source, and would cost seconds per folder). The same folders are scored by segscore twice: from
counts (``segscore.score`` with ``get_preset("nnunet").overlap_kwargs(metric)``) and end to end
(``evaluate_folder(..., preset="nnunet")``).

Agreement: the counts are equal; Dice and IoU per case are the same float64 expressions, so equal
to the last bit; means differ at most by rounding (segscore sums exactly), within 1e-12 relative.
One difference (``test_class_empty_in_every_case``): a label that is empty in both masks of every
case has ``mean`` NaN in nnU-Net, whose ``foreground_mean`` (``np.mean``) is then NaN; segscore's
class mean skips the NaN class (docs/conventions.md).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import itertools
import pathlib
import types
from typing import Any

import numpy as np
import pytest

import segscore
from segscore.evaluation import evaluate_folder
from segscore.metrics.options import CountingOptions
from segscore.metrics.presets import get_preset

# nnU-Net's np.nanmean of a label empty in every case warns ("Mean of empty slice").
pytestmark = pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")

RTOL = 1e-12  # means: np.mean/np.nanmean against segscore's exactly rounded sums
# Import lines of evaluate_predictions.py that only its dataset.json/plans.json entry points need.
_UNUSED_IMPORTS = (
    "nnunetv2.imageio.reader_writer_registry",
    "nnunetv2.utilities.plans_handling.plans_handler",
)


class _OneProcessPool:
    """``multiprocessing.get_context(...).Pool(n)`` in this process: the same ``starmap``."""

    def Pool(self, processes: int) -> _OneProcessPool:
        return self

    def __enter__(self) -> _OneProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def starmap(self, fn: Any, iterable: Any) -> list[Any]:
        return list(itertools.starmap(fn, iterable))


@functools.cache
def _load_evaluate_predictions() -> types.ModuleType:
    spec = importlib.util.find_spec("nnunetv2")
    assert spec is not None
    assert spec.submodule_search_locations
    root = pathlib.Path(next(iter(spec.submodule_search_locations)))
    path = root / "evaluation" / "evaluate_predictions.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    dropped = [
        n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module in _UNUSED_IMPORTS
    ]
    assert len(dropped) == len(_UNUSED_IMPORTS), "evaluate_predictions.py changed its imports"
    tree.body = [n for n in tree.body if n not in dropped]
    module = types.ModuleType("_nnunet_evaluate_predictions")
    module.__file__ = str(path)
    exec(compile(tree, str(path), "exec"), module.__dict__)
    module.multiprocessing = types.SimpleNamespace(get_context=lambda method: _OneProcessPool())  # type: ignore[attr-defined]
    return module


@pytest.fixture(scope="module")
def nnunet() -> types.ModuleType:
    pytest.importorskip("nnunetv2", reason="nnunetv2 not installed (scripts/setup dev)")
    pytest.importorskip(
        "batchgenerators", reason="batchgenerators not installed (nnunetv2 needs it)"
    )
    pytest.importorskip("SimpleITK", reason="SimpleITK not installed (nnU-Net's NIfTI reader)")
    pytest.importorskip("torch", reason="torch not installed (nnunetv2.utilities.json_export)")
    return _load_evaluate_predictions()


@pytest.fixture(scope="module")
def sitk_io() -> Any:
    pytest.importorskip("nnunetv2", reason="nnunetv2 not installed (scripts/setup dev)")
    rw = pytest.importorskip("nnunetv2.imageio.simpleitk_reader_writer")
    return rw.SimpleITKIO()


def _write(folder: pathlib.Path, stack: np.ndarray) -> None:
    import SimpleITK as sitk

    folder.mkdir()
    for i, seg in enumerate(stack):
        sitk.WriteImage(
            sitk.GetImageFromArray(seg.astype(np.uint8)), str(folder / f"case_{i:03d}.nii.gz")
        )


def _nnunet_folder(
    nnunet: types.ModuleType,
    sitk_io: Any,
    tmp_path: pathlib.Path,
    pred: np.ndarray,
    target: np.ndarray,
    labels: list[int],
    ignore_label: int | None,
) -> dict[str, Any]:
    _write(tmp_path / "gt", target)
    _write(tmp_path / "pred", pred)
    result: dict[str, Any] = nnunet.compute_metrics_on_folder(
        str(tmp_path / "gt"),
        str(tmp_path / "pred"),
        None,  # no summary.json
        sitk_io,
        ".nii.gz",
        labels,
        ignore_label,
        num_processes=1,
    )
    return result


def _case_values(result: dict[str, Any], label: int, key: str) -> np.ndarray:
    return np.array([case["metrics"][label][key] for case in result["metric_per_case"]], float)


def _grid_case(
    shape: tuple[int, ...], num_classes: int, ignore: bool, seed: int
) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Six cases of blocky label maps:

    - case 0: class 1 empty in both masks (and the last class too);
    - case 1: class 1 empty in the target, present in the prediction;
    - case 2: class 1 present in the target, empty in the prediction;
    - case 3: the last class empty in the target only, class 1 in both;
    - case 4: every class but the background empty in both masks;
    - case 5: untouched.
    With an ignore label (``num_classes``, nnU-Net's rule: the highest label), the target has a
    band of it and the prediction predicts it on a few counted pixels.
    """
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, num_classes, (6, *((s + 1) // 2 for s in shape)))
    for axis in range(1, coarse.ndim):  # 2-pixel blocks
        coarse = coarse.repeat(2, axis=axis)
    target = coarse[tuple([slice(None), *(slice(0, s) for s in shape)])].copy()
    noise = rng.integers(0, num_classes, target.shape)
    pred = np.where(rng.random(target.shape) < 0.75, target, noise)
    last = num_classes - 1
    for k in {1, last}:  # case 0
        target[0][target[0] == k] = 0
        pred[0][pred[0] == k] = 0
    target[1][target[1] == 1] = 0
    pred[1].flat[:3] = 1
    pred[2][pred[2] == 1] = 0
    target[2].flat[-3:] = 1
    if last != 1:
        target[3][target[3] == last] = 0
        pred[3].flat[-2:] = last
        target[3].flat[:2] = 1
        pred[3].flat[:2] = 1
    target[4] = 0
    pred[4] = 0
    ignore_label = None
    if ignore:
        ignore_label = num_classes
        target[:, 3:5] = ignore_label  # away from the pixels set above
        pred[1:].flat[5::17] = ignore_label  # predicted ignore label on counted pixels
    return pred, target, ignore_label


SHAPES = {"2d": (9, 11), "3d": (5, 6, 7)}


@pytest.mark.parametrize("ignore", [False, True], ids=["no-ignore", "ignore"])
@pytest.mark.parametrize("num_classes", [2, 3, 5])
@pytest.mark.parametrize("dims", ["2d", "3d"])
def test_grid(
    nnunet: types.ModuleType,
    sitk_io: Any,
    tmp_path: pathlib.Path,
    dims: str,
    num_classes: int,
    ignore: bool,
) -> None:
    pred, target, ignore_label = _grid_case(SHAPES[dims], num_classes, ignore, seed=num_classes)
    labels = list(range(1, num_classes))  # nnU-Net's foreground_labels (no background, no ignore)
    ref = _nnunet_folder(nnunet, sitk_io, tmp_path, pred, target, labels, ignore_label)

    # the empty situations the grid claims, as nnU-Net sees them
    dice1 = _case_values(ref, 1, "Dice")
    assert np.isnan(dice1[0])  # both empty
    assert np.isnan(dice1[4])
    assert dice1[1] == 0.0  # target empty, prediction not
    assert dice1[2] == 0.0  # prediction empty, target not
    assert _case_values(ref, 1, "n_ref")[1] == 0
    assert _case_values(ref, 1, "n_pred")[2] == 0

    counts = segscore.confusion(pred, target, num_classes=num_classes, ignore_index=ignore_label)
    options = CountingOptions(num_classes=num_classes, ignore_index=ignore_label)
    folder = evaluate_folder(
        tmp_path / "pred",
        tmp_path / "gt",
        options=options,
        metrics=("dice", "iou"),
        preset="nnunet",
        jobs=1,
    )
    for metric, key in (("dice", "Dice"), ("iou", "IoU")):
        for got in (
            segscore.score(counts, metric, **get_preset("nnunet").overlap_kwargs(metric)),
            folder.scores[metric],
        ):
            assert got.class_ids == tuple(labels)
            for j, label in enumerate(labels):
                col = label  # column of the counts
                for field in ("tp", "fp", "fn", "tn"):
                    want = _case_values(ref, label, field.upper())
                    np.testing.assert_array_equal(getattr(counts, field)[:, col], want)
                np.testing.assert_array_equal(got.cells[:, j], _case_values(ref, label, key))
                mean = ref["mean"][label][key]
                np.testing.assert_allclose(got.per_class[j], mean, rtol=RTOL, atol=0)
            assert got.value == pytest.approx(ref["foreground_mean"][key], rel=RTOL, abs=0)

    if num_classes == 2 and not ignore:  # binary masks: the one column is the foreground
        binary = segscore.confusion(pred == 1, target == 1)
        for metric, key in (("dice", "Dice"), ("iou", "IoU")):
            got = segscore.score(binary, metric, **get_preset("nnunet").overlap_kwargs(metric))
            np.testing.assert_array_equal(got.cells[:, 0], _case_values(ref, 1, key))
            assert got.value == pytest.approx(ref["foreground_mean"][key], rel=RTOL, abs=0)


def test_background_in_the_label_list(
    nnunet: types.ModuleType, sitk_io: Any, tmp_path: pathlib.Path
) -> None:
    """``nnUNetv2_evaluate_simple -l 0 1 2``: label 0 gets a ``mean``, ``foreground_mean`` skips it
    (``if k == 0``), as ``include_background=False`` does."""
    pred, target, _ = _grid_case((8, 8), 3, False, seed=11)
    ref = _nnunet_folder(nnunet, sitk_io, tmp_path, pred, target, [0, 1, 2], None)
    counts = segscore.confusion(pred, target, num_classes=3)
    for metric, key in (("dice", "Dice"), ("iou", "IoU")):
        kwargs = get_preset("nnunet").overlap_kwargs(metric)
        got = segscore.score(counts, metric, **kwargs)
        assert got.value == pytest.approx(ref["foreground_mean"][key], rel=RTOL, abs=0)
        with_bg = segscore.score(counts, metric, **{**kwargs, "include_background": True})
        mean = [ref["mean"][k][key] for k in (0, 1, 2)]
        np.testing.assert_allclose(with_bg.per_class, mean, rtol=RTOL, atol=0)


def test_class_empty_in_every_case(
    nnunet: types.ModuleType, sitk_io: Any, tmp_path: pathlib.Path
) -> None:
    """The one difference: label 2 is empty in both masks of every case. nnU-Net: its ``mean`` is
    ``np.nanmean`` of NaNs = NaN, and ``foreground_mean = np.mean([...])`` is NaN. segscore: the
    class is NaN too (``per_class``, ``n_nan``), but the class mean skips it, so the value is the
    mean over the other labels; ``np.mean(score.per_class)`` gives nnU-Net's number."""
    pred, target, _ = _grid_case((8, 8), 3, False, seed=5)
    pred[pred == 2] = 0
    target[target == 2] = 0
    ref = _nnunet_folder(nnunet, sitk_io, tmp_path, pred, target, [1, 2], None)
    counts = segscore.confusion(pred, target, num_classes=3)
    got = segscore.score(counts, "dice", **get_preset("nnunet").overlap_kwargs("dice"))
    assert np.isnan(ref["mean"][2]["Dice"])
    assert np.isnan(ref["foreground_mean"]["Dice"])
    assert np.isnan(got.per_class[1])
    assert got.value == pytest.approx(ref["mean"][1]["Dice"], rel=RTOL, abs=0)
    assert np.isnan(np.mean(got.per_class))
