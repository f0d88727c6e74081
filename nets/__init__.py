"""Networks: residual blocks, the dual (policy + value) network, and PathNet's module grid."""
from nets.blocks import ResidualBlock, ResidualMLPBlock
from nets.dual import DualNet, DualOutput, NetConfig, trunk_kind

__all__ = ["DualNet", "DualOutput", "NetConfig", "ResidualBlock", "ResidualMLPBlock", "trunk_kind"]
