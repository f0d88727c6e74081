"""`pathzero.envs.errors.UsageError` is `pathzero.errors.UsageError` (kept for code that imports it here)."""
from pathzero.errors import UsageError

__all__ = ["UsageError"]
