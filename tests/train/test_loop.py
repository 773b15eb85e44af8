import math

import numpy as np
import pytest
import torch

from segscore.data import make_synthetic
from segscore.data.dataset import SegmentationDataset
from segscore.errors import CheckpointError
from segscore.train.checkpoint import load_checkpoint
from segscore.train.config import TrainConfig
from segscore.train.loop import fit, segmentation_loss

TINY = {"base_channels": 4, "depth": 2, "batch_size": 4, "threads": 1}


@pytest.fixture(scope="module")
def data():
    return make_synthetic(10, 32, seed=0).split(0.2, rng=0)


def _states_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_deterministic_same_seed(tmp_path, data):
    train, val = data
    cfg = TrainConfig(data="synthetic", epochs=2, seed=3, **TINY)
    r1 = fit(cfg, train, val, checkpoint_path=tmp_path / "a.pt")
    r2 = fit(cfg, train, val, checkpoint_path=tmp_path / "b.pt")
    assert [r.as_dict() for r in r1.history] == [r.as_dict() for r in r2.history]
    a, b = load_checkpoint(tmp_path / "a.pt"), load_checkpoint(tmp_path / "b.pt")
    assert _states_equal(a["model_state"], b["model_state"])
    assert torch.are_deterministic_algorithms_enabled() is False  # restored after training


def test_different_seed_differs(data):
    train, val = data
    r1 = fit(TrainConfig(data="synthetic", epochs=1, seed=0, **TINY), train, val)
    r2 = fit(TrainConfig(data="synthetic", epochs=1, seed=1, **TINY), train, val)
    assert r1.history[0].train_loss != r2.history[0].train_loss


def test_no_global_rng_leak(data):
    train, val = data
    torch.manual_seed(123)
    before = torch.get_rng_state()
    fit(TrainConfig(data="synthetic", epochs=1, **TINY), train, val)
    assert torch.equal(torch.get_rng_state(), before)


def test_resume_equals_uninterrupted(tmp_path, data):
    train, val = data
    full = TrainConfig(data="synthetic", epochs=3, seed=5, **TINY)
    fit(full, train, val, checkpoint_path=tmp_path / "full.pt")
    part = tmp_path / "part.pt"

    # Train the first epoch of the same 3-epoch run, as if interrupted after it.
    class Stop(Exception):
        pass

    def stop_after_first(record, seconds):
        raise Stop

    with pytest.raises(Stop):
        fit(full, train, val, checkpoint_path=part, on_epoch=stop_after_first)
    assert load_checkpoint(part)["epoch"] == 1
    resumed = fit(full, train, val, checkpoint_path=part, resume=load_checkpoint(part))
    a, b = load_checkpoint(tmp_path / "full.pt"), load_checkpoint(part)
    assert a["history"] == b["history"]
    assert [r.as_dict() for r in resumed.history] == b["history"]
    assert _states_equal(a["model_state"], b["model_state"])
    assert a["epoch"] == b["epoch"] == 3


def test_resume_other_architecture(tmp_path, data):
    train, val = data
    fit(
        TrainConfig(data="synthetic", epochs=1, **TINY),
        train,
        val,
        checkpoint_path=tmp_path / "c.pt",
    )
    wider = TrainConfig(data="synthetic", epochs=2, **{**TINY, "base_channels": 8})
    with pytest.raises(CheckpointError, match="was saved for the model"):
        fit(wider, train, val, resume=load_checkpoint(tmp_path / "c.pt"))


def test_loss_falls_when_overfitting():
    ds = make_synthetic(4, 32, seed=2)
    cfg = TrainConfig(
        data="synthetic",
        epochs=25,
        lr=1e-2,
        schedule="constant",
        augment=False,
        val_fraction=0,
        **{**TINY, "base_channels": 8},
    )
    empty = ds.subset([])
    hist = fit(cfg, ds, empty).history
    assert hist[-1].train_loss < 0.5 * hist[0].train_loss
    assert hist[-1].train_iou > hist[0].train_iou
    assert math.isnan(hist[-1].val_iou)


def test_multiclass_with_ignore_and_mixed_sizes():
    rng = np.random.default_rng(0)
    images = [rng.random((1, 20, 24), dtype=np.float32), rng.random((1, 17, 31), dtype=np.float32)]
    masks = [rng.integers(0, 3, (20, 24)), rng.integers(0, 3, (17, 31))]
    masks[0][0, :5] = 255
    ds = SegmentationDataset(images, masks, ["a", "b"], num_classes=3, ignore_index=255)
    cfg = TrainConfig(
        data="x", layout="multiclass", num_classes=3, ignore_index=255, epochs=1, **TINY
    )
    hist = fit(cfg, ds, ds).history
    assert 0 <= hist[0].train_accuracy <= 1
    assert 0 <= hist[0].val_iou <= 1


def test_binary_with_ignore_label():
    ds = make_synthetic(2, 32, seed=0)
    masks = [m.copy() for m in ds.masks]
    masks[0][:4] = 255
    ds2 = SegmentationDataset(ds.images, masks, ds.names, num_classes=None, ignore_index=255)
    hist = fit(TrainConfig(data="x", epochs=1, **TINY), ds2, ds2).history
    assert 0 <= hist[0].val_iou <= 1


def test_loss_perfect_and_ignored_pixels():
    logits = torch.tensor([[[[20.0, -20.0, 20.0]]]])
    target = torch.tensor([[[1, 0, 0]]])
    valid = torch.tensor([[[1.0, 1.0, 0.0]]])  # the wrong pixel is ignored
    assert float(segmentation_loss(logits, target, valid)) == pytest.approx(0.0, abs=1e-6)
    assert float(segmentation_loss(logits, target, torch.ones(1, 1, 3))) > 1.0
    multi = torch.tensor([[[[9.0]], [[-9.0]], [[-9.0]]]])
    assert float(segmentation_loss(multi, torch.tensor([[[0]]]), torch.ones(1, 1, 1))) < 1e-3
