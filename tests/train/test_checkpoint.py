import os

import pytest
import torch

from segscore.errors import CheckpointError
from segscore.model import UNet
from segscore.train.checkpoint import FORMAT, load_checkpoint, load_weights, save_checkpoint


def _payload(net):
    return {"model_spec": net.spec(), "model_state": net.state_dict(), "epoch": 1}


def test_round_trip_weights_only(tmp_path):
    net = UNet(1, 1, base_channels=4, depth=2)
    path = save_checkpoint(tmp_path / "c.pt", _payload(net))
    raw = torch.load(path, weights_only=True)  # plain tensors and containers only
    assert raw["format"] == FORMAT
    other = UNet(1, 1, base_channels=4, depth=2)
    load_weights(other, load_checkpoint(path)["model_state"], path=path)
    for k, v in net.state_dict().items():
        assert torch.equal(v, other.state_dict()[k])
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left


def test_round_trip_space_to_depth_rebuilds_from_the_spec(tmp_path):
    from segscore.model import build_model

    net = UNet(1, 2, base_channels=4, depth=2, stem="space_to_depth").eval()
    path = save_checkpoint(tmp_path / "c.pt", _payload(net))
    ckpt = load_checkpoint(path)
    assert ckpt["model_spec"]["stem"] == "space_to_depth"
    other = build_model(ckpt["model_spec"]).eval()  # as `segscore predict` loads a run
    load_weights(other, ckpt["model_state"], path=path)
    x = torch.rand(1, 1, 37, 53)
    with torch.inference_mode():
        assert torch.equal(other(x), net(x))
    with pytest.raises(CheckpointError, match=r"c.pt' does not fit the model UNet: 4 unexpected"):
        load_weights(UNet(1, 2, base_channels=4, depth=2), ckpt["model_state"], path=path)


def test_atomic_replace_keeps_old_file_on_failure(tmp_path):
    net = UNet(1, 1, base_channels=2, depth=1)
    path = save_checkpoint(tmp_path / "c.pt", _payload(net))
    before = path.read_bytes()
    with pytest.raises(Exception):  # noqa: B017, PT011 - torch.save of an object it cannot pickle
        save_checkpoint(path, {"bad": lambda: 0})
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["c.pt"]


class Payload:
    def __reduce__(self):
        return (print, ("code ran",))


def test_pickled_code_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "x": Payload()}, path)
    with pytest.raises(
        CheckpointError, match=r"evil.pt. cannot be loaded safely: it carries pickled code.*GLOBAL"
    ):
        load_checkpoint(path)


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match=r"junk\.pt' is not a readable torch file"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="must be a segscore checkpoint"):
        load_checkpoint(tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_other_architecture_names_file_and_mismatch(tmp_path):
    small = UNet(1, 1, base_channels=4, depth=2)
    path = save_checkpoint(tmp_path / "small.pt", _payload(small))
    with pytest.raises(CheckpointError, match=r"small.pt' does not fit the model UNet: .*shape"):
        load_weights(
            UNet(1, 1, base_channels=8, depth=2), load_checkpoint(path)["model_state"], path=path
        )
    with pytest.raises(CheckpointError, match="missing tensors"):
        load_weights(
            UNet(1, 1, base_channels=4, depth=3), load_checkpoint(path)["model_state"], path=path
        )
