"""Torch's thread count around work on small batches."""
from __future__ import annotations

from contextlib import contextmanager

import torch


@contextmanager
def one_torch_thread():
    """Runs the block with one torch thread, then restores the count. Acting and searching use
    batches of a few dozen positions at most, where a second thread only contends with the other
    processes (docs/BENCHMARKS.md); worker processes set one thread for the same reason."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
