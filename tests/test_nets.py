"""The dual network family: shapes for every kind of observation, and rebuilding from a description."""
import pytest
import torch

from pathzero.nets import DualNet, NetConfig, ResidualBlock, trunk_kind


@pytest.mark.parametrize("obs_shape,dtype,kind", [
    ((4, 84, 84), torch.uint8, "atari"),  # stacked Atari frames
    ((4, 10, 10), torch.bool, "planes"),  # MinAtar Breakout
    ((4,), torch.float32, "mlp"),  # CartPole
    ((3, 6, 7), torch.float32, "planes"),  # Connect Four planes
])
def test_dualnet_shapes(obs_shape, dtype, kind):
    assert trunk_kind(obs_shape) == kind
    net = DualNet(obs_shape, 5, NetConfig(channels=8, hidden=32, blocks=2))
    obs = torch.zeros(3, *obs_shape, dtype=dtype)
    out = net(obs)
    assert out.logits.shape == (3, 5)
    assert out.value.shape == (3,)
    assert torch.isfinite(out.logits).all() and torch.isfinite(out.value).all()


def test_default_atari_net_has_a_residual_trunk():
    net = DualNet((4, 84, 84), 6)
    assert any(isinstance(m, ResidualBlock) for m in net.modules())


def test_board_net_with_batch_norm_and_tanh_value():
    net = DualNet((2, 3, 3), 9, NetConfig(channels=16, blocks=2, hidden=32, norm="batch", value_hidden=16,
                                          value_tanh=True))
    out = net(torch.randn(8, 2, 3, 3) * 10)
    assert out.value.abs().max() <= 1.0
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())


def test_residual_block_keeps_shape_and_passes_identity_when_zeroed():
    block = ResidualBlock(8)
    for p in block.parameters():
        torch.nn.init.zeros_(p)
    x = torch.rand(2, 8, 5, 5)
    torch.testing.assert_close(block(x), x)  # relu(x + 0) = x for x >= 0


def test_describe_round_trip():
    net = DualNet((4, 10, 10), 3, NetConfig(channels=16, hidden=64))
    clone = DualNet.from_description(net.describe())
    clone.load_state_dict(net.state_dict())
    x = torch.randint(0, 2, (2, 4, 10, 10)).bool()
    torch.testing.assert_close(net(x).logits, clone(x).logits)


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="norm"):
        NetConfig(norm="layer")
    with pytest.raises(ValueError, match="observations"):
        DualNet((2, 3), 4)


def test_heads_start_orthogonal_with_small_logits_and_the_value_init_chosen():
    from pathzero.nets.pathnet import GridConfig, PathNet

    torch.manual_seed(0)
    heads = {}
    for init in ("torch", "orthogonal"):
        net = DualNet((4, 84, 84), 6, NetConfig(value_init=init))
        grid = PathNet("conv", GridConfig(value_init=init))
        grid.add_task("pong", (4, 84, 84), 6)
        heads[init] = [(net.policy.fc, net.value.layers[-1]),
                       (grid.heads["pong"].policy.fc, grid.heads["pong"].value.layers[-1])]
    for init, pairs in heads.items():
        for policy, value in pairs:
            # Policy rows orthonormal up to the gain 0.01, zero biases, whatever the value init.
            w = policy.weight
            torch.testing.assert_close(w @ w.T, 1e-4 * torch.eye(w.shape[0]), atol=1e-7, rtol=0)
            assert not policy.bias.any()
            if init == "orthogonal":  # a one-row orthogonal weight with gain 1 has norm 1; zero bias
                torch.testing.assert_close(value.weight.norm(), torch.tensor(1.0))
                assert not value.bias.any()
            else:  # PyTorch's default: uniform within 1/sqrt(fan_in), biases too
                bound = value.weight.shape[1] ** -0.5
                assert value.weight.abs().max() <= bound and value.bias.any()
                assert abs(value.weight.norm().item() - 1.0) > 0.2
    # The value head's hidden layer (AlphaZero's) gets the ReLU gain when orthogonal.
    board = DualNet((3, 3, 3), 9, NetConfig(value_hidden=32, value_tanh=True, norm="batch", value_init="orthogonal"))
    hidden = board.value.layers[0].weight
    torch.testing.assert_close(hidden @ hidden.T, 2.0 * torch.eye(32), atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="value_init must be one of"):
        NetConfig(value_init="zeros")


def test_uint8_pixels_are_scaled_to_0_1_in_fp32_and_under_bf16_autocast():
    """The stem folds 1/255 into its first conv's weights: pixels as uint8 and the same pixels as floats
    in [0, 1] give the same outputs (and the PathNet stem the same), and their gradients agree."""
    from pathzero.nets.pathnet import GridConfig, PathNet

    torch.manual_seed(0)
    net = DualNet((4, 84, 84), 6, NetConfig(hidden=64))
    pixels = torch.randint(0, 256, (5, 4, 84, 84), dtype=torch.uint8)
    scaled = pixels.float() / 255
    a, b = net(pixels), net(scaled)
    assert torch.allclose(a.logits, b.logits, atol=1e-5) and torch.allclose(a.value, b.value, atol=1e-5)
    a.value.sum().backward()
    grad_pixels = net.trunk.stem.layers[0].weight.grad.clone()
    net.zero_grad()
    b.value.sum().backward()
    assert torch.allclose(grad_pixels, net.trunk.stem.layers[0].weight.grad, rtol=1e-4, atol=1e-6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        c = net(pixels)
    assert c.value.dtype == torch.bfloat16
    assert torch.allclose(c.value.float(), b.value, atol=0.05 * float(b.value.detach().abs().max()) + 1e-3)
    planes = DualNet((4, 10, 10), 6, NetConfig(channels=8, hidden=32, norm="batch"))  # padded stem, no bias
    small = torch.randint(0, 256, (5, 4, 10, 10), dtype=torch.uint8)
    assert torch.allclose(planes(small).logits, planes(small.float() / 255).logits, atol=1e-5)
    grid = PathNet("conv", GridConfig(channels=4, hidden=16))
    grid.add_task("t", (4, 84, 84), 6)
    assert torch.allclose(grid.heads["t"].embed(pixels), grid.heads["t"].embed(scaled), atol=1e-5)
    assert not torch.equal(grid.heads["t"].embed(pixels), grid.heads["t"].embed(pixels.float()))  # not unscaled
