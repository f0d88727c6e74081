"""Returns, advantages and the loss against hand-computed numbers and naive loops."""
import math

import pytest
import torch

from pathzero.agents.common.returns import actor_critic_loss, gae_advantages, n_step_returns


def naive_returns(rewards, dones, bootstrap, gamma):
    T, B = len(rewards), len(rewards[0])
    out = [[0.0] * B for _ in range(T)]
    for b in range(B):
        for t in range(T):
            total, discount = 0.0, 1.0
            for k in range(t, T):
                total += discount * rewards[k][b]
                if dones[k][b]:
                    break
                discount *= gamma
            else:
                total += discount * bootstrap[b]
            out[t][b] = total
    return out


def naive_gae(rewards, values, dones, bootstrap, gamma, lam):
    T, B = len(rewards), len(rewards[0])
    out = [[0.0] * B for _ in range(T)]
    for b in range(B):
        for t in range(T):
            total, weight = 0.0, 1.0
            for k in range(t, T):
                next_v = 0.0 if dones[k][b] else (values[k + 1][b] if k + 1 < T else bootstrap[b])
                total += weight * (rewards[k][b] + gamma * next_v - values[k][b])
                if dones[k][b]:
                    break
                weight *= gamma * lam
            out[t][b] = total
    return out


def test_n_step_returns_by_hand():
    rewards = torch.tensor([[1.0], [0.0], [2.0]])
    dones = torch.tensor([[0.0], [0.0], [0.0]])
    returns = n_step_returns(rewards, dones, torch.tensor([10.0]), gamma=0.5)
    # R2 = 2 + .5*10 = 7; R1 = 0 + .5*7 = 3.5; R0 = 1 + .5*3.5 = 2.75
    assert returns[:, 0].tolist() == pytest.approx([2.75, 3.5, 7.0])


def test_n_step_returns_stop_at_episode_end():
    rewards = torch.tensor([[1.0], [1.0], [1.0]])
    dones = torch.tensor([[0.0], [1.0], [0.0]])
    returns = n_step_returns(rewards, dones, torch.tensor([100.0]), gamma=0.9)
    # the episode ends at t=1: R1 = 1, R0 = 1 + .9; R2 = 1 + .9*100
    assert returns[:, 0].tolist() == pytest.approx([1.9, 1.0, 91.0])


def test_n_step_returns_match_naive_loop():
    g = torch.Generator().manual_seed(0)
    rewards = torch.randn(7, 4, generator=g)
    dones = (torch.rand(7, 4, generator=g) < 0.3).float()
    bootstrap = torch.randn(4, generator=g)
    fast = n_step_returns(rewards, dones, bootstrap, 0.97)
    slow = naive_returns(rewards.tolist(), dones.tolist(), bootstrap.tolist(), 0.97)
    assert fast.tolist() == [pytest.approx(row, abs=1e-5) for row in slow]


def test_gae_by_hand():
    rewards = torch.tensor([[1.0], [2.0]])
    values = torch.tensor([[0.5], [1.0]])
    dones = torch.zeros(2, 1)
    adv = gae_advantages(rewards, values, dones, torch.tensor([4.0]), gamma=0.5, lam=0.5)
    d1 = 2.0 + 0.5 * 4.0 - 1.0  # 3
    d0 = 1.0 + 0.5 * 1.0 - 0.5  # 1
    assert adv[:, 0].tolist() == pytest.approx([d0 + 0.25 * d1, d1])


def test_gae_matches_naive_loop_and_n_step_at_lambda_one():
    g = torch.Generator().manual_seed(1)
    rewards, values = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g)
    dones = (torch.rand(6, 3, generator=g) < 0.25).float()
    bootstrap = torch.randn(3, generator=g)
    for lam in (0.0, 0.9, 0.95):
        fast = gae_advantages(rewards, values, dones, bootstrap, 0.99, lam)
        slow = naive_gae(rewards.tolist(), values.tolist(), dones.tolist(), bootstrap.tolist(), 0.99, lam)
        assert fast.tolist() == [pytest.approx(row, abs=1e-5) for row in slow]
    at_one = gae_advantages(rewards, values, dones, bootstrap, 0.99, 1.0)
    torch.testing.assert_close(at_one, n_step_returns(rewards, dones, bootstrap, 0.99) - values)


def test_actor_critic_loss_by_hand():
    logits = torch.tensor([[0.0, math.log(3.0)]], requires_grad=True)  # pi = [.25, .75]
    values = torch.tensor([1.0], requires_grad=True)
    terms = actor_critic_loss(logits, values, torch.tensor([1]), returns=torch.tensor([3.0]),
                              advantages=torch.tensor([2.0]), value_coef=0.5, entropy_coef=0.1)
    policy = -math.log(0.75) * 2.0
    value = 0.5 * (3.0 - 1.0) ** 2
    entropy = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert terms.policy.item() == pytest.approx(policy)
    assert terms.value.item() == pytest.approx(value)
    assert terms.entropy.item() == pytest.approx(entropy)
    assert terms.total.item() == pytest.approx(policy + 0.5 * value - 0.1 * entropy)
    terms.total.backward()
    # d value_term / dV = -(R - V) = -2, times value_coef .5
    assert values.grad.item() == pytest.approx(-1.0)


def test_advantages_are_constants_in_the_loss():
    logits = torch.zeros(2, 3, requires_grad=True)
    values = torch.zeros(2, requires_grad=True)
    advantages = torch.ones(2, requires_grad=True)
    actor_critic_loss(logits, values, torch.tensor([0, 2]), torch.ones(2), advantages).total.backward()
    assert advantages.grad is None


def test_the_clipped_surrogate_is_a3cs_gradient_at_ratio_one_and_stops_past_the_clip():
    from pathzero.agents.common.returns import clipped_loss

    torch.manual_seed(0)
    logits = torch.randn(6, 3, requires_grad=True)
    values = torch.randn(6, requires_grad=True)
    actions, returns, advantages = torch.tensor([0, 1, 2, 0, 1, 2]), torch.randn(6), torch.randn(6)
    old = torch.log_softmax(logits.detach(), -1).gather(1, actions[:, None]).squeeze(1)
    clipped_loss(logits, values, actions, old, returns, advantages, clip_range=0.1).total.backward()
    grads = logits.grad.clone(), values.grad.clone()
    logits.grad, values.grad = None, None
    actor_critic_loss(logits, values, actions, returns, advantages).total.backward()
    assert torch.allclose(grads[0], logits.grad, atol=1e-6) and torch.allclose(grads[1], values.grad)
    # a sample whose ratio already went past 1 + clip in its advantage's direction no longer pushes
    logits = torch.zeros(1, 2, requires_grad=True)
    old = torch.log(torch.tensor([0.3]))  # pi_old(a) = 0.3, pi(a) = 0.5: ratio 1.67 > 1.1
    clipped_loss(logits, torch.zeros(1), torch.tensor([0]), old, torch.zeros(1), torch.tensor([1.0]),
                 clip_range=0.1, entropy_coef=0.0).policy.backward()
    assert logits.grad.abs().sum() == 0
    logits.grad = None  # with a negative advantage the same ratio is pulled back down
    clipped_loss(logits, torch.zeros(1), torch.tensor([0]), old, torch.zeros(1), torch.tensor([-1.0]),
                 clip_range=0.1, entropy_coef=0.0).policy.backward()
    assert logits.grad[0, 0] > 0  # descending the loss lowers the taken action's logit
