import pytest

from segscore.errors import InputError
from segscore.train.config import TrainConfig


def test_round_trip_json():
    import json

    cfg = TrainConfig(data="synthetic", epochs=3, seed=7, threads=2)
    assert TrainConfig.from_dict(json.loads(cfg.to_json())) == cfg


def test_frozen():
    cfg = TrainConfig(data="synthetic")
    with pytest.raises(AttributeError):
        cfg.epochs = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "`epochs` must be an integer >= 1, got 0."),
        ({"seed": -1}, "`seed` must be a non-negative integer, got -1."),
        ({"val_fraction": 1.0}, r"`val_fraction` must be a number in \[0, 1\), got 1.0."),
        ({"threshold": 1.0}, r"`threshold` must be a number in \(0, 1\), got 1.0."),
        (
            {"layout": "multiclass"},
            "`num_classes` must be an integer >= 2 with layout 'multiclass'",
        ),
        ({"num_classes": 3}, "`num_classes` must be None with layout 'binary', got 3."),
        ({"arch": "vgg"}, "`arch` must be 'unet' or 'smp:<Architecture>', got 'vgg'."),
        ({"schedule": "step"}, "`schedule` must be one of 'cosine', 'constant', got 'step'."),
        ({"stem": "s2d"}, "`stem` must be one of 'conv', 'space_to_depth', got 's2d'."),
        (
            {"arch": "smp:Unet", "stem": "space_to_depth"},
            "`stem` must be 'conv' with arch 'smp:Unet' \\(a U-Net option\\), got 'space_to_depth'.",
        ),
    ],
)
def test_bad_values(kwargs, match):
    with pytest.raises(InputError, match=match):
        TrainConfig(data="synthetic", **kwargs)


def test_stem_recorded_and_old_configs_read_as_conv():
    cfg = TrainConfig(data="synthetic", stem="space_to_depth")
    assert cfg.to_dict()["stem"] == "space_to_depth"
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    old = TrainConfig(data="synthetic").to_dict()
    del old["stem"]  # a config.json written before the option existed
    assert TrainConfig.from_dict(old).stem == "conv"


def test_unknown_key():
    with pytest.raises(InputError, match="unknown"):
        TrainConfig.from_dict({"data": "synthetic", "momentum": 0.9})


def test_schedule_ends_at_zero_and_constant():
    cfg = TrainConfig(data="x", lr=0.1)
    lrs = [cfg.learning_rate(s, 40) for s in range(40)]
    assert max(lrs) == pytest.approx(0.1)
    assert lrs[-1] == pytest.approx(0.0, abs=1e-12)
    assert TrainConfig(data="x", lr=0.1, schedule="constant").learning_rate(39, 40) == 0.1


def test_threads_default_to_the_cores_and_are_recorded():
    from segscore.train.threads import default_threads

    cfg = TrainConfig(data="synthetic")
    assert cfg.threads == default_threads() >= 1
    assert TrainConfig.from_dict(cfg.to_dict()).threads == cfg.threads


def test_data_defaults_for_nuclei_and_explicit_options_win():
    assert (TrainConfig.for_data("nuclei").epochs, TrainConfig.for_data("nuclei").batch_size) == (
        60,
        4,
    )
    cfg = TrainConfig.for_data("nuclei", epochs=3, batch_size=2)
    assert (cfg.epochs, cfg.batch_size) == (3, 2)
    assert TrainConfig.for_data("some/folder") == TrainConfig(data="some/folder")


def test_instances_layout_accepted_without_classes():
    assert TrainConfig(data="some/folder", layout="instances").layout == "instances"
    with pytest.raises(InputError, match="`num_classes` must be None with layout 'instances'"):
        TrainConfig(data="some/folder", layout="instances", num_classes=3)
