"""Residual building blocks shared by every network in pathzero.

The same two blocks build the A3C trunk, PathNet's module grid and the AlphaZero tower, so a
module in a PathNet layer is exactly a residual block of the A3C network.
"""
from __future__ import annotations

import torch
from torch import nn

NORMS = ("none", "batch", "group")


def _norm2d(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(num_groups=min(8, channels), num_channels=channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {NORMS}, got {kind!r}")


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions and a skip connection: relu(x + norm(conv(relu(norm(conv(x)))))).

    The AlphaGo Zero block. Normalisation defaults to none: batch statistics do not suit
    Hogwild actor-learners acting on one observation at a time, but board-game training uses
    `norm="batch"` as the paper does.
    """

    def __init__(self, channels: int, norm: str = "none") -> None:
        super().__init__()
        bias = norm == "none"
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=bias)
        self.norm1 = _norm2d(norm, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=bias)
        self.norm2 = _norm2d(norm, channels)

    def branch(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, H, W] -> [B, C, H, W]
        """The residual branch alone; PathNet sums several modules' branches around one skip."""
        y = torch.relu(self.norm1(self.conv1(x)))
        return self.norm2(self.conv2(y))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, H, W] -> [B, C, H, W]
        return torch.relu(x + self.branch(x))


class ResidualMLPBlock(nn.Module):
    """The vector-observation counterpart: two linear layers and a skip connection."""

    def __init__(self, width: int, norm: str = "none") -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width) if norm != "none" else nn.Identity()

    def branch(self, x: torch.Tensor) -> torch.Tensor:  # [B, W] -> [B, W]
        """The residual branch alone (see ResidualBlock.branch)."""
        return self.fc2(torch.relu(self.fc1(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, W] -> [B, W]
        return torch.relu(self.norm(x + self.branch(x)))
