"""Networks: residual blocks, the dual (policy + value) network, and PathNet's module grid."""
from nets.blocks import ResidualBlock, ResidualMLPBlock
from nets.dual import DualNet, DualOutput, NetConfig, trunk_kind
from nets.pathnet import GridConfig, PathNet, PathwayPolicy

__all__ = ["DualNet", "DualOutput", "GridConfig", "NetConfig", "PathNet", "PathwayPolicy", "ResidualBlock",
           "ResidualMLPBlock", "trunk_kind"]
