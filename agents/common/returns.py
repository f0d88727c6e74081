"""Returns, advantages and the actor-critic loss: pure functions of tensors.

Shapes: T steps of a rollout, B environments. `dones[t]` is 1 when the transition at step t
ended the episode (or is treated as terminal for learning, e.g. a life loss), so the return does
not bootstrap across it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from pathzero.agents.common.config import ActorCriticConfig
    from pathzero.agents.common.rollout import Rollout


def n_step_returns(rewards: torch.Tensor, dones: torch.Tensor, bootstrap: torch.Tensor,
                   gamma: float) -> torch.Tensor:
    """Discounted n-step returns R_t = r_t + gamma * (1 - d_t) * R_{t+1}, R_T = bootstrap.

    rewards, dones: [T, B]; bootstrap: [B] (the value of the state after the last step).
    Returns [T, B].
    """
    returns = torch.empty_like(rewards)  # [T, B]
    running = bootstrap  # [B]
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = rewards[t] + gamma * (1.0 - dones[t]) * running
        returns[t] = running
    return returns


def gae_advantages(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor,
                   bootstrap: torch.Tensor, gamma: float, lam: float) -> torch.Tensor:
    """Generalised advantage estimates (Schulman et al. 2016).

    delta_t = r_t + gamma * (1 - d_t) * V_{t+1} - V_t;  A_t = delta_t + gamma * lam * (1 - d_t) * A_{t+1}.
    rewards, values, dones: [T, B]; bootstrap: [B]. Returns [T, B]. With lam = 1 this equals
    n_step_returns(...) - values.
    """
    T = rewards.shape[0]
    advantages = torch.empty_like(rewards)  # [T, B]
    next_value = bootstrap  # [B]
    running = torch.zeros_like(bootstrap)  # [B]
    for t in range(T - 1, -1, -1):
        not_done = 1.0 - dones[t]
        delta = rewards[t] + gamma * not_done * next_value - values[t]
        running = delta + gamma * lam * not_done * running
        advantages[t] = running
        next_value = values[t]
    return advantages


class LossTerms(NamedTuple):
    total: torch.Tensor  # scalar, what is differentiated
    policy: torch.Tensor  # scalar
    value: torch.Tensor  # scalar
    entropy: torch.Tensor  # scalar (mean policy entropy; it is maximised)


def actor_critic_loss(logits: torch.Tensor, values: torch.Tensor, actions: torch.Tensor,
                      returns: torch.Tensor, advantages: torch.Tensor, *, value_coef: float = 0.5,
                      entropy_coef: float = 0.01) -> LossTerms:
    """The A3C loss: -log pi(a|s) * A  +  value_coef * (R - V)^2 / 2  -  entropy_coef * H(pi).

    logits: [N, A]; values, actions, returns, advantages: [N] (N = T * B, flattened).
    Advantages are treated as constants; means are over the N samples.
    """
    log_probs = F.log_softmax(logits, dim=-1)  # [N, A]
    taken = log_probs.gather(1, actions.long().unsqueeze(1)).squeeze(1)  # [N]
    policy = -(taken * advantages.detach()).mean()
    value = 0.5 * (returns.detach() - values).pow(2).mean()
    entropy = -(log_probs.exp() * log_probs).sum(-1).mean()
    total = policy + value_coef * value - entropy_coef * entropy
    return LossTerms(total, policy, value, entropy)


def rollout_returns(rollout: "Rollout", cfg: "ActorCriticConfig") -> tuple[torch.Tensor, torch.Tensor]:
    """(returns [T, B], advantages [T, B]) of a rollout: n-step, or GAE when gae_lambda < 1.

    A step where a time limit cut the episode ends the return there, as a terminal step does, but
    keeps the discounted value of the state it reached (r + gamma * V(s')): the game itself had not
    ended, so its future was not zero."""
    values = rollout.values.detach()  # [T, B]
    rewards = rollout.rewards + cfg.gamma * rollout.truncation_values  # [T, B]
    if cfg.gae_lambda >= 1.0:
        returns = n_step_returns(rewards, rollout.dones, rollout.bootstrap, cfg.gamma)  # [T, B]
        return returns, returns - values
    advantages = gae_advantages(rewards, values, rollout.dones, rollout.bootstrap, cfg.gamma, cfg.gae_lambda)
    return advantages + values, advantages


def rollout_loss(rollout: "Rollout", cfg: "ActorCriticConfig") -> LossTerms:
    """The advantage actor-critic loss of a rollout (policy gradient with the advantages, value regression to the
    returns, entropy bonus)."""
    returns, advantages = rollout_returns(rollout, cfg)
    return actor_critic_loss(rollout.logits.flatten(0, 1), rollout.values.flatten(), rollout.actions.flatten(),
                             returns.flatten(), advantages.flatten(), value_coef=cfg.value_coef,
                             entropy_coef=cfg.entropy_coef)


def clipped_loss(logits: torch.Tensor, values: torch.Tensor, actions: torch.Tensor, old_log_probs: torch.Tensor,
                 returns: torch.Tensor, advantages: torch.Tensor, *, clip_range: float, value_coef: float = 0.5,
                 entropy_coef: float = 0.01) -> LossTerms:
    """PPO's clipped surrogate (Schulman et al. 2017) with A3C's value and entropy terms:
    -min(r * A, clip(r, 1 - c, 1 + c) * A)  +  value_coef * (R - V)^2 / 2  -  entropy_coef * H(pi),
    r = pi(a|s) / pi_old(a|s). logits: [N, A]; the rest [N]. Where r = 1 (the rollout's own weights) the
    gradient is A3C's policy gradient; once a pass has moved r past 1 +- c in the advantage's direction,
    that sample stops pushing."""
    log_probs = F.log_softmax(logits, dim=-1)  # [N, A]
    taken = log_probs.gather(1, actions.long().unsqueeze(1)).squeeze(1)  # [N]
    ratio = torch.exp(taken - old_log_probs.detach())  # [N]
    adv = advantages.detach()
    policy = -torch.min(ratio * adv, ratio.clamp(1.0 - clip_range, 1.0 + clip_range) * adv).mean()
    value = 0.5 * (returns.detach() - values).pow(2).mean()
    entropy = -(log_probs.exp() * log_probs).sum(-1).mean()
    total = policy + value_coef * value - entropy_coef * entropy
    return LossTerms(total, policy, value, entropy)
