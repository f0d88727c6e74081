"""Networks: residual blocks, the dual (policy + value) network, and PathNet's module grid."""
from pathzero.nets.blocks import ResidualBlock, ResidualMLPBlock
from pathzero.nets.dual import DualNet, DualOutput, NetConfig, trunk_kind
from pathzero.nets.pathnet import GridConfig, PathNet, PathwayPolicy

__all__ = ["DualNet", "DualOutput", "GridConfig", "NetConfig", "PathNet", "PathwayPolicy", "ResidualBlock",
           "ResidualMLPBlock", "trunk_kind"]
