import pytest
import torch

from segscore.errors import InputError
from segscore.model import UNet, build_model, count_parameters
from segscore.model.unet import FULL_RESOLUTION_CHANNELS


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


@pytest.mark.parametrize(("h", "w"), [(32, 32), (37, 53), (64, 48), (5, 3), (1, 1), (17, 1)])
@pytest.mark.parametrize("padding", ["reflect", "zeros"])
@pytest.mark.parametrize("depth", [1, 3])
def test_space_to_depth_output_shape_any_size(h, w, padding, depth):
    net = UNet(1, 1, base_channels=4, depth=depth, padding=padding, stem="space_to_depth").eval()
    assert net.multiple == 2 ** (depth + 1)
    with torch.inference_mode():
        out = net(torch.rand(2, 1, h, w))
    assert out.shape == (2, 1, h, w)
    assert torch.isfinite(out).all()


def test_space_to_depth_multiclass_rgb_channels_last():
    net = UNet(3, 4, base_channels=4, depth=2, stem="space_to_depth").eval()
    x = torch.rand(2, 3, 37, 53)
    with torch.inference_mode():
        plain = net(x)
        fast = net.to(memory_format=torch.channels_last)(
            x.contiguous(memory_format=torch.channels_last)
        )
        probs = net.activation(plain)
    assert plain.shape == (2, 4, 37, 53)
    torch.testing.assert_close(fast, plain)  # the layout the training loop uses
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(2, 37, 53))


def test_space_to_depth_backward_reaches_every_parameter():
    torch.manual_seed(0)
    net = UNet(2, 1, base_channels=4, depth=2, stem="space_to_depth")
    loss = net(torch.rand(2, 2, 37, 53)).square().mean()
    loss.backward()
    names = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert names == []  # every parameter gets a finite, non-zero gradient
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


def test_space_to_depth_output_depends_on_every_input_pixel_of_its_block():
    # The folded input keeps all four pixels of each 2x2 block: changing any one of them changes
    # the logits there (a stride-2 subsampling would lose three of the four).
    torch.manual_seed(0)
    net = UNet(1, 1, base_channels=4, depth=1, stem="space_to_depth").eval()
    x = torch.rand(1, 1, 8, 8)
    with torch.inference_mode():
        base = net(x)
        for r, c in ((4, 4), (4, 5), (5, 4), (5, 5)):
            y = x.clone()
            y[0, 0, r, c] += 1.0
            assert not torch.equal(net(y)[0, 0, r, c], base[0, 0, r, c])


def test_space_to_depth_stages_shapes_and_crop():
    net = UNet(1, 1, base_channels=4, depth=3, stem="space_to_depth").eval()
    x = torch.rand(1, 1, 37, 53)
    with torch.inference_mode():
        stages = dict(net.stages(x))
        logits = net(x)
    assert list(stages)[:3] == ["input", "padded", "folded"]
    assert stages["padded"].shape == (1, 1, 48, 64)  # multiple of 2**(3 + 1)
    assert stages["folded"].shape == (1, 4, 24, 32)
    assert stages["encoder 1"].shape == (1, 4, 24, 32)
    assert stages["bottleneck"].shape == (1, 32, 3, 4)
    assert stages["decoder 1"].shape == (1, 4, 24, 32)
    assert stages["full resolution"].shape == (1, 2 * FULL_RESOLUTION_CHANNELS, 48, 64)
    assert stages["logits"].shape == (1, 1, 37, 53)
    assert torch.equal(stages["logits"], logits)


def test_space_to_depth_spec_round_trip_and_conv_spec_unchanged():
    conv = UNet(1, 1, base_channels=8, depth=3)
    assert "stem" not in conv.spec()  # the record checkpoints held before the option existed
    assert build_model(conv.spec()).stem == "conv"
    net = UNet(1, 1, base_channels=8, depth=3, stem="space_to_depth")
    assert net.spec()["stem"] == "space_to_depth"
    assert count_parameters(net) == 121485  # the demo's network
    again = build_model(net.spec())
    assert again.spec() == net.spec()
    again.load_state_dict(net.state_dict())  # same tensors, same names
    x = torch.rand(1, 1, 40, 24)
    with torch.inference_mode():
        torch.testing.assert_close(again.eval()(x), net.eval()(x))
    with pytest.raises(RuntimeError):
        conv.load_state_dict(net.state_dict())  # the stems are not interchangeable


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stem": "pixel"}, "`stem` must be one of 'conv', 'space_to_depth', got 'pixel'."),
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
