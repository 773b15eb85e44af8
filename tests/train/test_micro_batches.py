"""Micro-batches: data-parallel steps on CPU threads, and the per-image soft Dice of the loss."""

import numpy as np
import pytest
import torch
from torch import nn

from segscore.data import make_synthetic
from segscore.data.dataset import SegmentationDataset
from segscore.errors import InputError
from segscore.model.unet import UNet
from segscore.train.checkpoint import load_checkpoint
from segscore.train.config import TrainConfig
from segscore.train.loop import (
    _average_buffers,
    _micro_batch_runner,
    _replicas,
    _split_step,
    fit,
    segmentation_loss,
)

TINY = {"base_channels": 4, "depth": 2, "batch_size": 4, "soft_dice": "per_image"}


@pytest.fixture(scope="module")
def data():
    return make_synthetic(10, 32, seed=0).split(0.2, rng=0)


def _states_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# The loss's soft Dice against MONAI's DiceLoss (an independent implementation). -----------


@pytest.mark.parametrize("soft_dice", ["pooled", "per_image"])
def test_binary_loss_equals_bce_plus_monai_dice(soft_dice):
    DiceLoss = pytest.importorskip("monai.losses").DiceLoss

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 1, 9, 11, generator=g) * 3
    target = (torch.rand(3, 9, 11, generator=g) < 0.3).long()
    target[2] = 0  # an image without foreground
    ones = torch.ones(3, 9, 11)
    dice = DiceLoss(sigmoid=True, batch=soft_dice == "pooled", smooth_nr=1.0, smooth_dr=1.0)
    bce = nn.functional.binary_cross_entropy_with_logits(logits[:, 0], target.float())
    want = float(bce + dice(logits, target[:, None].float()))
    got = float(segmentation_loss(logits, target, ones, soft_dice=soft_dice))
    assert got == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("soft_dice", ["pooled", "per_image"])
def test_multiclass_loss_equals_ce_plus_monai_dice(soft_dice):
    DiceLoss = pytest.importorskip("monai.losses").DiceLoss

    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 4, 7, 6, generator=g) * 2
    target = torch.randint(0, 3, (2, 7, 6), generator=g)  # class 3 is absent everywhere
    ones = torch.ones(2, 7, 6)
    dice = DiceLoss(
        softmax=True,
        to_onehot_y=True,
        batch=soft_dice == "pooled",
        smooth_nr=1.0,
        smooth_dr=1.0,
    )
    ce = nn.functional.cross_entropy(logits, target)
    want = float(ce + dice(logits, target[:, None]))
    got = float(segmentation_loss(logits, target, ones, soft_dice=soft_dice))
    assert got == pytest.approx(want, rel=1e-5)


def test_per_image_dice_weighs_small_object_images():
    """A missed 1-pixel object: nearly free pooled, half the Dice term per image."""
    logits = torch.full((2, 1, 8, 8), -12.0)
    logits[0, 0, :, :4] = 12.0
    target = torch.zeros(2, 8, 8, dtype=torch.int64)
    target[0, :, :4] = 1
    target[1, 3, 3] = 1
    ones = torch.ones(2, 8, 8)
    pooled = float(segmentation_loss(logits, target, ones, soft_dice="pooled"))
    per_image = float(segmentation_loss(logits, target, ones, soft_dice="per_image"))
    # per image: image 1 has dice (0 + 1) / (0 + 1 + 1) = 0.5, image 0 about 1: term ~ 0.25
    assert per_image - pooled == pytest.approx(0.25 - 1 / 66, abs=2e-3)


# Micro-batches. ---------------------------------------------------------------------------


@pytest.mark.parametrize("padded", [False, True])
def test_split_step_gradient_equals_whole_batch(padded):
    """Without batch norm, the micro-batches' loss parts and gradients sum to the whole batch's.

    Padded: images of other sizes and ignored pixels give the micro-batches different numbers
    of valid pixels; each part still counts over the whole batch's.
    """
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 1, 1))
    x = torch.randn(5, 1, 12, 12)
    y = (torch.rand(5, 12, 12) < 0.4).long()
    v = torch.ones(5, 12, 12)
    if padded:
        v[0, :, 7:] = 0  # a narrower image, zero-padded
        v[1, 9:] = 0
        v[3, 2, 2:6] = 0  # ignored pixels
    params = list(net.parameters())
    whole = segmentation_loss(net(x), y, v, soft_dice="per_image")
    whole_value = float(whole.detach())
    want = torch.autograd.grad(whole, params)
    for k in (2, 3, 5):
        replicas = _replicas(net, k)
        logits, loss, ran = _split_step(replicas, params, x, y, v, None)
        assert ran == k
        assert float(loss) == pytest.approx(whole_value, rel=1e-6)
        with torch.no_grad():
            assert torch.allclose(logits, net(x), atol=1e-6)
        for p, g in zip(params, want, strict=True):
            assert torch.allclose(p.grad, g, rtol=1e-5, atol=1e-7)
        for p in params:
            p.grad = None


def test_split_step_leaves_unused_parameters_without_gradient():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Conv2d(1, 1, 1)
            self.unused = nn.Conv2d(1, 1, 1)

        def forward(self, x):
            return self.used(x)

    net = Net()
    params = list(net.parameters())
    x, y, v = torch.randn(4, 1, 5, 5), torch.zeros(4, 5, 5, dtype=torch.int64), torch.ones(4, 5, 5)
    _split_step(_replicas(net, 2), params, x, y, v, None)
    assert net.used.weight.grad is not None
    assert net.unused.weight.grad is None  # as backward() leaves it: Adam skips it


def test_short_last_batch_keeps_replicas_in_step():
    """A batch with fewer images than replicas: the idle replicas take the trained statistics."""
    torch.manual_seed(0)
    net = UNet(base_channels=2, depth=1).train()
    single = UNet(base_channels=2, depth=1).train()
    single.load_state_dict(net.state_dict())
    replicas = _replicas(net, 3)
    params = list(net.parameters())
    x, y, v = torch.randn(1, 1, 8, 8), torch.zeros(1, 8, 8, dtype=torch.int64), torch.ones(1, 8, 8)
    _, _, ran = _split_step(replicas, params, x, y, v, None)
    assert ran == 1
    _average_buffers(replicas, ran)
    single(x)  # the same image through one network: the statistics one replica should have
    for twin in replicas:
        for (name, got), want in zip(twin.named_buffers(), single.buffers(), strict=True):
            assert torch.equal(got, want), name


def test_replicas_share_parameters_and_average_buffers():
    net = UNet(base_channels=2, depth=1)
    replicas = _replicas(net, 3)
    for twin in replicas[1:]:
        assert all(a is b for a, b in zip(net.parameters(), twin.parameters(), strict=True))
        assert all(a is not b for a, b in zip(net.buffers(), twin.buffers(), strict=True))
    for i, twin in enumerate(replicas):
        for b in twin.buffers():
            if b.is_floating_point():
                b.fill_(float(i))
    _average_buffers(replicas, 3)
    for twin in replicas:
        for b in twin.buffers():
            if b.is_floating_point():
                assert torch.equal(b, torch.full_like(b, 1.0))  # mean of 0, 1, 2


def test_micro_batch_runner_restores_threads():
    before = torch.get_num_threads()
    cfg = TrainConfig(data="synthetic", micro_batches=2, threads=2, soft_dice="per_image")
    with _micro_batch_runner(cfg) as pool:
        assert pool is not None
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with _micro_batch_runner(cfg.replace(micro_batches=1, soft_dice="pooled")) as pool:
        assert pool is None


def test_micro_batches_same_bits_for_any_thread_count(tmp_path, data):
    train, val = data
    runs = []
    for threads in (1, 2):
        cfg = TrainConfig(
            data="synthetic", epochs=2, seed=4, micro_batches=2, threads=threads, **TINY
        )
        path = tmp_path / f"t{threads}.pt"
        runs.append((fit(cfg, train, val, checkpoint_path=path), load_checkpoint(path)))
    (a, ca), (b, cb) = runs
    assert [r.as_dict() for r in a.history] == [r.as_dict() for r in b.history]
    assert _states_equal(ca["model_state"], cb["model_state"])
    assert ca["model_state"].keys() == UNet(base_channels=4, depth=2).state_dict().keys()


def test_micro_batches_train_and_differ_from_whole_batches(data):
    train, val = data
    base = TrainConfig(data="synthetic", epochs=2, seed=4, threads=1, **TINY)
    whole = fit(base, train, val).history
    split = fit(base.replace(micro_batches=2), train, val).history
    # each micro-batch has its own batch-norm statistics: another run, not the same bits
    assert whole[0].train_loss != split[0].train_loss
    assert np.isfinite([r.train_loss for r in split]).all()
    assert 0 <= split[-1].val_iou <= 1


def test_resume_with_micro_batches_equals_uninterrupted(tmp_path, data):
    train, val = data
    cfg = TrainConfig(data="synthetic", epochs=3, seed=5, micro_batches=2, threads=2, **TINY)
    fit(cfg, train, val, checkpoint_path=tmp_path / "full.pt")

    class Stop(Exception):
        pass

    def stop(record, seconds):
        raise Stop

    part = tmp_path / "part.pt"
    with pytest.raises(Stop):
        fit(cfg, train, val, checkpoint_path=part, on_epoch=stop)
    fit(cfg, train, val, checkpoint_path=part, resume=load_checkpoint(part))
    a, b = load_checkpoint(tmp_path / "full.pt"), load_checkpoint(part)
    assert a["history"] == b["history"]
    assert _states_equal(a["model_state"], b["model_state"])


def test_micro_batches_with_mixed_sizes_and_short_last_batch():
    rng = np.random.default_rng(0)
    sizes = [(20, 24), (17, 31), (20, 24), (9, 9), (16, 16)]
    images = [rng.random((1, *s), dtype=np.float32) for s in sizes]
    masks = [(rng.random(s) < 0.3).astype(np.int64) for s in sizes]
    ds = SegmentationDataset(images, masks, list("abcde"), num_classes=None, ignore_index=None)
    # 5 images in batches of 4: the last batch has one image, fewer than the micro-batches
    cfg = TrainConfig(data="x", epochs=2, micro_batches=3, threads=2, **TINY)
    result = fit(cfg, ds, ds)
    assert np.isfinite([r.train_loss for r in result.history]).all()
    assert 0 <= result.history[-1].val_iou <= 1


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("micro_batches", 0, "`micro_batches` must be an integer >= 1, got 0."),
        ("micro_batches", 1.5, "`micro_batches` must be an integer >= 1, got 1.5."),
        ("soft_dice", "image", "`soft_dice` must be one of 'pooled', 'per_image', got 'image'."),
        (
            "micro_batches",
            9,
            "`micro_batches` must be at most `batch_size` (8), got 9.",
        ),
    ],
)
def test_config_rejects_bad_values(option, value, message):
    base = {"soft_dice": "per_image"} if option == "micro_batches" else {}
    with pytest.raises(InputError) as info:
        TrainConfig(data="synthetic", **{**base, option: value})
    assert str(info.value) == message


def test_config_rejects_what_micro_batches_cannot_split():
    with pytest.raises(InputError) as info:
        TrainConfig(data="synthetic", micro_batches=2)
    assert str(info.value) == (
        "`soft_dice` must be 'per_image' with `micro_batches` >= 2 (a Dice pooled over the batch "
        "does not split into micro-batches), got 'pooled'; set `micro_batches` to 1 for a pooled "
        "Dice."
    )
    with pytest.raises(InputError, match=r"^`micro_batches` must be 1 with arch 'smp:Unet'"):
        TrainConfig(data="x", arch="smp:Unet", micro_batches=2, soft_dice="per_image")
