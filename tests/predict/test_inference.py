import numpy as np
import pytest

from segscore.data import make_synthetic
from segscore.errors import CheckpointError, InputError
from segscore.model import UNet
from segscore.predict.inference import load_run, predict_probabilities
from segscore.train.checkpoint import save_checkpoint
from segscore.train.config import TrainConfig
from segscore.train.loop import fit


def test_mixed_sizes_and_batching():
    net = UNet(1, 1, base_channels=2, depth=2).eval()
    images = [np.zeros((1, 37, 53), np.float32)] * 3 + [np.ones((1, 16, 16), np.float32)]
    probs = predict_probabilities(net, images, batch_size=2)
    assert [p.shape for p in probs] == [(1, 37, 53)] * 3 + [(1, 16, 16)]
    assert all(p.dtype == np.float32 for p in probs)
    alone = predict_probabilities(net, images[3:])
    np.testing.assert_array_equal(alone[0], probs[3])


def test_load_run_round_trip(tmp_path):
    ds = make_synthetic(4, 32, seed=0)
    cfg = TrainConfig(data="synthetic", epochs=1, base_channels=4, depth=2, threads=1)
    result = fit(cfg, ds, ds.subset([]), checkpoint_path=tmp_path / "checkpoint.pt")
    loaded = load_run(tmp_path)
    a = predict_probabilities(result.model, ds.images)
    b = predict_probabilities(loaded.model, ds.images)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert loaded.threshold == 0.5
    assert loaded.in_channels == 1


def test_load_run_errors(tmp_path):
    with pytest.raises(InputError, match="must be an existing run folder or checkpoint file"):
        load_run(tmp_path / "nope")
    with pytest.raises(InputError, match=r"must be a run folder with checkpoint\.pt"):
        load_run(tmp_path)
    net = UNet(1, 1, base_channels=4, depth=2)
    spec = {
        **net.spec(),
        "base_channels": 8,
    }  # the recorded architecture does not match the weights
    save_checkpoint(
        tmp_path / "checkpoint.pt",
        {"model_spec": spec, "model_state": net.state_dict(), "epoch": 1},
    )
    with pytest.raises(CheckpointError, match=r"checkpoint.pt' does not fit the model UNet"):
        load_run(tmp_path)
