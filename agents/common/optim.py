"""Optimizers whose statistics live in shared memory, for Hogwild actor-learners.

A3C shares RMSProp's running averages across all actor-learners (Mnih et al. 2016, "shared
RMSProp"). torch's optimizers create their state lazily inside the first `step()`, which would
make it private to each process; these subclasses create it eagerly and move it to shared memory,
so every worker that receives the optimizer updates the same statistics.
"""
from __future__ import annotations

from typing import Iterable

import torch

OPTIMIZERS = ("rmsprop", "rmsprop_tf", "adam")


def _share_state(optimizer: torch.optim.Optimizer, make_state) -> None:
    for group in optimizer.param_groups:
        for p in group["params"]:
            state = optimizer.state[p]
            state.update(make_state(p, group))
            for value in state.values():
                if torch.is_tensor(value):
                    value.share_memory_()


class SharedRMSprop(torch.optim.Optimizer):
    """RMSProp whose statistics are shared, with square averages that start at 1.

    `torch.optim.RMSprop` starts them at 0, so its first steps divide each gradient by about a
    tenth of its own size and move every weight by ~10 x lr at once; on Atari that killed the
    first conv layer's ReLUs for good (a Pong run's conv stem can go all-zero and its policy never
    leave uniform). Starting at 1, as TensorFlow's RMSProp (used by the A3C paper
    and baselines' A2C) does, warms the step size up over the first few hundred updates. After
    that it is torch's RMSProp: eps is added outside the square root.

    `eps_inside=True` is TensorFlow's RMSProp whole (SB3's RMSpropTFLike): the step divides by
    sqrt(square_avg + eps). With eps 1e-5 that floors the denominator at about 3e-3, so weights whose
    gradients are tiny move far less than with eps outside; SB3 found this form necessary to match
    baselines' A2C on Atari.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 7e-4, alpha: float = 0.99,
                 eps: float = 1e-5, eps_inside: bool = False) -> None:
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "eps_inside": eps_inside})
        _share_state(self, lambda p, g: {"step": torch.zeros(()),
                                         "square_avg": torch.ones_like(p, memory_format=torch.preserve_format)})

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                square_avg = state["square_avg"]
                square_avg.mul_(group["alpha"]).addcmul_(p.grad, p.grad, value=1 - group["alpha"])
                if group["eps_inside"]:
                    denominator = square_avg.add(group["eps"]).sqrt_()
                else:
                    denominator = square_avg.sqrt().add_(group["eps"])
                p.addcdiv_(p.grad, denominator, value=-group["lr"])
                state["step"] += 1
        return loss


class SharedAdam(torch.optim.Adam):
    """Adam with its moment estimates (and step counts) in shared memory."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-4, betas=(0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, foreach=False)
        _share_state(self, lambda p, g: {"step": torch.zeros(()),
                                         "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                                         "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format)})


def make_shared_optimizer(name: str, params: Iterable[torch.Tensor], lr: float, *,
                          eps: float | None = None, alpha: float = 0.99) -> torch.optim.Optimizer:
    """A shared-statistics optimizer by name: "rmsprop" (eps outside the square root), "rmsprop_tf"
    (TensorFlow's: eps inside) or "adam"."""
    if name in ("rmsprop", "rmsprop_tf"):
        return SharedRMSprop(params, lr=lr, alpha=alpha, eps=1e-5 if eps is None else eps,
                             eps_inside=name == "rmsprop_tf")
    if name == "adam":
        return SharedAdam(params, lr=lr, eps=1e-8 if eps is None else eps)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")


def load_state_in_place(optimizer: torch.optim.Optimizer, saved: dict) -> None:
    """Restores a saved optimizer state without leaving shared memory.

    `Optimizer.load_state_dict` would replace the shared tensors with fresh private ones; this
    copies the saved values into the existing (shared) tensors instead.
    """
    params = [p for g in optimizer.param_groups for p in g["params"]]
    saved_state = saved["state"]
    if len(saved_state) != len(params):
        raise ValueError(f"saved optimizer state covers {len(saved_state)} parameters, this one {len(params)}")
    for index, p in enumerate(params):
        for key, value in saved_state[index].items():
            target = optimizer.state[p][key]
            if torch.is_tensor(target):
                target.copy_(value)
            else:
                optimizer.state[p][key] = value


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
