"""The dual network: a residual trunk with a policy head and a value head (AlphaGo Zero design).

One family serves every agent. The trunk is chosen from the observation shape:

- `atari`: stacked 84x84 frames; a strided conv stem (8x8/4, 4x4/2, as in the A3C paper's small
  net) shrinks the image to 9x9 before the residual blocks, which keeps acting cheap on a CPU.
- `planes`: small boards of feature planes (MinAtar's 10x10, tic-tac-toe, Connect Four); a 3x3
  conv stem keeps the full resolution.
- `mlp`: flat vectors (CartPole); a linear stem and residual MLP blocks.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple, Sequence

import torch
from torch import nn

from pathzero.nets.blocks import NORMS, ResidualBlock, ResidualMLPBlock, _norm2d

TRUNKS = ("atari", "planes", "mlp")
ATARI_MIN_SIDE = 32  # images at least this large get the strided Atari stem


VALUE_INITS = ("torch", "orthogonal")


@dataclass(frozen=True)
class NetConfig:
    """Sizes of a DualNet; the defaults are the fast Atari network."""

    channels: int = 32
    """Channels of the residual blocks (conv trunks)."""
    blocks: int = 1
    """Number of residual blocks in the trunk."""
    hidden: int = 256
    """Width of the fully connected layer after the trunk (and of MLP blocks)."""
    norm: str = "none"
    """Normalisation inside blocks: none, batch or group."""
    value_hidden: int = 0
    """Hidden units of the value head (0: a single linear layer; AlphaZero uses 256)."""
    value_tanh: bool = False
    """Squash the value into [-1, 1] (board games with outcomes in [-1, 1])."""
    value_init: str = "torch"
    """Initial weights of the value head: torch (PyTorch's default for linear layers) or orthogonal
    (gain 1 for the output, zero biases)."""

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {self.norm!r}")
        if self.value_init not in VALUE_INITS:
            raise ValueError(f"value_init must be one of {VALUE_INITS}, got {self.value_init!r}")
        for name in ("channels", "hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.blocks < 0:
            raise ValueError(f"blocks must be >= 0, got {self.blocks}")


class DualOutput(NamedTuple):
    logits: torch.Tensor  # [B, A] unnormalised log-probabilities
    value: torch.Tensor  # [B]


def trunk_kind(obs_shape: Sequence[int]) -> str:
    """Which trunk suits observations of this shape (channels first for images)."""
    if len(obs_shape) == 1:
        return "mlp"
    if len(obs_shape) == 3:
        return "atari" if min(obs_shape[1:]) >= ATARI_MIN_SIDE else "planes"
    raise ValueError(f"observations must be vectors [D] or planes [C, H, W], got shape {tuple(obs_shape)}")


def to_float(x: torch.Tensor) -> torch.Tensor:
    """Observations arrive as uint8 pixels (scaled to [0, 1]), bool planes or floats."""
    if x.dtype == torch.uint8:
        return x.float().div_(255.0)
    return x.float()


class ConvStem(nn.Module):
    """Maps [B, C, H, W] observations to [B, channels, h, w] feature maps."""

    def __init__(self, obs_shape: Sequence[int], channels: int, kind: str, norm: str) -> None:
        super().__init__()
        c = obs_shape[0]
        if kind == "atari":
            self.layers = nn.Sequential(
                nn.Conv2d(c, 16, 8, stride=4), nn.ReLU(),
                nn.Conv2d(16, channels, 4, stride=2), nn.ReLU(),
            )
        else:
            self.layers = nn.Sequential(
                nn.Conv2d(c, channels, 3, padding=1, bias=norm == "none"),
                _norm2d(norm, channels), nn.ReLU(),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != torch.uint8:
            return self.layers(to_float(x))
        # Pixels: the 1/255 scale goes into the first conv's weights instead of over every pixel, and
        # under bfloat16 autocast the pixels go straight to bfloat16 (exact for 0..255): a third of
        # the cost of a small batch's forward pass was turning uint8 pixels into scaled float32.
        first = self.layers[0]
        pixels = x.to(torch.bfloat16 if x.device.type == "cpu" and autocast_bf16() else torch.float32)
        return self.layers[1:](first._conv_forward(pixels, first.weight / 255.0, first.bias))


def autocast_bf16() -> bool:
    """True inside CPU autocast to bfloat16 (runner.with_precision's bf16)."""
    try:
        return torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
    except TypeError:  # torch < 2.4 names them per device
        return torch.is_autocast_cpu_enabled() and torch.get_autocast_cpu_dtype() == torch.bfloat16


def probe_features(layers: nn.Module, obs_shape: Sequence[int]) -> int:
    """Features `layers` give one observation, found by a forward pass in eval mode, so that batch
    norm's running statistics stay as initialised."""
    training = layers.training
    layers.eval()
    try:
        with torch.no_grad():
            return layers(torch.zeros(1, *obs_shape)).numel()
    finally:
        layers.train(training)


class ConvTrunk(nn.Module):
    """Conv stem, residual blocks, then a fully connected layer: [B, C, H, W] -> [B, hidden]."""

    def __init__(self, obs_shape: Sequence[int], cfg: NetConfig) -> None:
        super().__init__()
        kind = trunk_kind(obs_shape)
        self.stem = ConvStem(obs_shape, cfg.channels, kind, cfg.norm)
        self.blocks = nn.Sequential(*[ResidualBlock(cfg.channels, cfg.norm) for _ in range(cfg.blocks)])
        n_flat = probe_features(nn.Sequential(self.stem, self.blocks), obs_shape)
        self.fc = nn.Linear(n_flat, cfg.hidden)
        self.out_features = cfg.hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(x))
        return torch.relu(self.fc(h.flatten(1)))


class MLPTrunk(nn.Module):
    """Linear stem and residual MLP blocks: [B, D] -> [B, hidden]."""

    def __init__(self, obs_shape: Sequence[int], cfg: NetConfig) -> None:
        super().__init__()
        self.stem = nn.Linear(obs_shape[0], cfg.hidden)
        self.blocks = nn.Sequential(*[ResidualMLPBlock(cfg.hidden, cfg.norm) for _ in range(cfg.blocks)])
        self.out_features = cfg.hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(torch.relu(self.stem(to_float(x))))


def orthogonal_init(module: nn.Module, gain: float = 2 ** 0.5) -> None:
    """Orthogonal weights with the ReLU gain and zero biases for every conv and linear layer: the
    initialisation of the A2C/PPO implementations that learn Atari reliably."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.orthogonal_(m.weight, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def make_trunk(obs_shape: Sequence[int], cfg: NetConfig) -> nn.Module:
    """The trunk that suits `obs_shape`; it exposes `out_features`."""
    return MLPTrunk(obs_shape, cfg) if trunk_kind(obs_shape) == "mlp" else ConvTrunk(obs_shape, cfg)


class PolicyHead(nn.Module):
    """Features [B, F] -> action logits [B, A]."""

    def __init__(self, in_features: int, n_actions: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_features, n_actions)
        # Small initial logits: a near-uniform first policy explores evenly.
        nn.init.orthogonal_(self.fc.weight, gain=0.01)
        nn.init.zeros_(self.fc.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.fc(h)


class ValueHead(nn.Module):
    """Features [B, F] -> value [B]; optionally a hidden layer and a tanh (AlphaZero).

    `init`: "torch" keeps PyTorch's default initialisation; "orthogonal" gives the hidden layer the
    ReLU gain and the output gain 1, biases zero (the A2C/PPO implementations' Atari recipe); how
    each learns: docs/BENCHMARKS.md."""

    def __init__(self, in_features: int, hidden: int = 0, tanh: bool = False, init: str = "torch") -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if hidden:
            layers += [nn.Linear(in_features, hidden), nn.ReLU()]
            in_features = hidden
        layers.append(nn.Linear(in_features, 1))
        if init == "orthogonal":
            orthogonal_init(nn.Sequential(*layers[:-1]))
            orthogonal_init(layers[-1], gain=1.0)
        elif init != "torch":
            raise ValueError(f"value head init must be one of {VALUE_INITS}, got {init!r}")
        if tanh:
            layers.append(nn.Tanh())
        self.layers = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.layers(h).squeeze(-1)


class DualNet(nn.Module):
    """Residual trunk + policy head + value head; `forward(obs)` returns both."""

    def __init__(self, obs_shape: Sequence[int], n_actions: int, cfg: NetConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or NetConfig()
        if n_actions < 1:
            raise ValueError(f"n_actions must be >= 1, got {n_actions}")
        self.obs_shape = tuple(int(s) for s in obs_shape)
        self.n_actions = int(n_actions)
        self.cfg = cfg
        self.trunk = make_trunk(self.obs_shape, cfg)
        orthogonal_init(self.trunk)
        self.policy = PolicyHead(self.trunk.out_features, n_actions)
        self.value = ValueHead(self.trunk.out_features, cfg.value_hidden, cfg.value_tanh, cfg.value_init)

    def forward(self, obs: torch.Tensor) -> DualOutput:
        h = self.trunk(obs)
        return DualOutput(self.policy(h), self.value(h))

    def describe(self) -> dict:
        """Everything needed to rebuild this network (stored in checkpoints)."""
        return {"obs_shape": list(self.obs_shape), "n_actions": self.n_actions, "net": asdict(self.cfg)}

    @classmethod
    def from_description(cls, desc: dict) -> "DualNet":
        return cls(desc["obs_shape"], desc["n_actions"], NetConfig(**desc["net"]))
