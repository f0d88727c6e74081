"""What every backend's workers compute alike: the learning rate at a frame count and each worker's seed
(the local runner and the Ray workers both use these, so neither imports the other for them)."""
from __future__ import annotations

from typing import Any

import numpy as np


def learning_rate(cfg: Any, frames: int) -> float:
    """cfg.lr, decayed linearly to zero at cfg.total_frames when cfg.lr_decay."""
    if not cfg.lr_decay:
        return cfg.lr
    return cfg.lr * max(0.0, 1.0 - frames / cfg.total_frames)


def worker_seed(cfg_seed: int, resumes: int, worker: int) -> int:
    """A worker's seed: different for every worker and every resume of a run."""
    return int(np.random.SeedSequence([cfg_seed, resumes, worker]).generate_state(1)[0])
