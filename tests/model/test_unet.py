import pytest
import torch

from segscore.errors import InputError
from segscore.model import UNet, build_model, count_parameters


@pytest.mark.parametrize(("h", "w"), [(32, 32), (37, 53), (64, 48), (5, 3), (1, 1)])
@pytest.mark.parametrize("padding", ["reflect", "zeros"])
def test_output_shape_any_size(h, w, padding):
    net = UNet(1, 1, base_channels=4, depth=3, padding=padding).eval()
    with torch.inference_mode():
        out = net(torch.rand(2, 1, h, w))
    assert out.shape == (2, 1, h, w)
    assert torch.isfinite(out).all()


def test_multiclass_softmax_and_rgb():
    net = UNet(3, 4, base_channels=4, depth=2).eval()
    with torch.inference_mode():
        probs = net.activation(net(torch.rand(1, 3, 37, 53)))
    assert probs.shape == (1, 4, 37, 53)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(1, 37, 53))


def test_binary_sigmoid_range():
    net = UNet(1, 1, base_channels=4, depth=2).eval()
    with torch.inference_mode():
        probs = net.activation(net(torch.rand(1, 1, 16, 16)))
    assert float(probs.min()) >= 0.0
    assert float(probs.max()) <= 1.0


def test_one_backward_pass_reaches_every_parameter():
    torch.manual_seed(0)
    net = UNet(1, 1, base_channels=4, depth=2)
    loss = net(torch.rand(2, 1, 37, 53)).square().mean()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())


def test_stages_shapes_and_crop():
    net = UNet(1, 1, base_channels=4, depth=3).eval()
    with torch.inference_mode():
        stages = dict(net.stages(torch.rand(1, 1, 37, 53)))
    assert stages["padded"].shape == (1, 1, 40, 56)
    assert stages["encoder 1"].shape == (1, 4, 40, 56)
    assert stages["bottleneck"].shape == (1, 32, 5, 7)
    assert stages["decoder 1"].shape == (1, 4, 40, 56)
    assert stages["logits"].shape == (1, 1, 37, 53)


def test_parameter_count_and_spec_round_trip():
    net = UNet(1, 1, base_channels=8, depth=3)
    assert count_parameters(net) == 121033
    again = build_model(net.spec())
    assert count_parameters(again) == count_parameters(net)
    assert again.spec() == net.spec()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base_channels": 0}, "`base_channels` must be an integer >= 1, got 0."),
        ({"depth": 0}, "`depth` must be an integer >= 1, got 0."),
        ({"padding": "edge"}, "`padding` must be one of 'reflect', 'zeros', got 'edge'."),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        UNet(1, 1, **kwargs)


def test_wrong_channels():
    with pytest.raises(InputError, match=r"`x` must have shape \(N, 1, H, W\), got \(1, 3, 8, 8\)"):
        UNet(1, 1, base_channels=2, depth=1)(torch.zeros(1, 3, 8, 8))


def test_build_model_unknown_arch():
    with pytest.raises(InputError, match="`arch` must be 'unet' or 'smp:<Architecture>'"):
        build_model({"arch": "resnet"})


def test_smp_missing_names_the_extra():
    # segmentation-models-pytorch is installed without its dependencies here: its import fails.
    with pytest.raises(InputError, match=r"segmentation-models-pytorch.*\"smp\" extra"):
        build_model(
            {"arch": "smp:Unet", "encoder": "resnet18", "in_channels": 1, "out_channels": 1}
        )
