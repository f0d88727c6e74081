"""The shared optimizer really shares its statistics between processes."""
import multiprocessing as mp

import torch

from pathzero.agents.common.optim import load_state_in_place, make_shared_optimizer


def _step_in_child(model, optimizer):
    torch.set_num_threads(1)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()


def _shared_model():
    model = torch.nn.Linear(3, 2)
    model.share_memory()
    return model


def test_statistics_are_shared_between_processes():
    for name in ("rmsprop", "adam"):
        model = _shared_model()
        optimizer = make_shared_optimizer(name, model.parameters(), lr=0.01)
        key = "square_avg" if name == "rmsprop" else "exp_avg_sq"
        initial = optimizer.state[model.weight][key].clone()
        before = [p.detach().clone() for p in model.parameters()]
        ctx = mp.get_context("spawn")
        for _ in range(2):  # one after the other: each child must see the other's statistics
            child = ctx.Process(target=_step_in_child, args=(model, optimizer))
            child.start()
            child.join(timeout=120)
            assert child.exitcode == 0
        state = optimizer.state[model.weight]
        assert state["step"].item() == 2  # both children's steps landed in the parent's statistics
        # two steps with gradients of ones, computed here from what the parent started with
        alpha_or_beta2 = 0.99 if name == "rmsprop" else 0.999
        expected = initial
        for _ in range(2):
            expected = alpha_or_beta2 * expected + (1 - alpha_or_beta2) * 1.0
        torch.testing.assert_close(state[key], expected)
        assert all(not torch.equal(b, p) for b, p in zip(before, model.parameters()))


def test_restoring_state_keeps_it_shared():
    model = _shared_model()
    optimizer = make_shared_optimizer("rmsprop", model.parameters(), lr=0.01)
    for p in model.parameters():
        p.grad = torch.full_like(p, 2.0)
    optimizer.step()
    saved = optimizer.state_dict()
    fresh = make_shared_optimizer("rmsprop", model.parameters(), lr=0.01)
    load_state_in_place(fresh, saved)
    state = fresh.state[model.weight]
    assert state["square_avg"].is_shared() and state["step"].is_shared()
    torch.testing.assert_close(state["square_avg"], saved["state"][0]["square_avg"])
    assert state["step"].item() == 1


def _rmsprop_steps(name: str, grads: list[torch.Tensor], lr: float = 0.01, eps: float = 1e-5) -> torch.Tensor:
    weight = torch.nn.Parameter(torch.zeros(4))
    optimizer = make_shared_optimizer(name, [weight], lr=lr, eps=eps)
    for g in grads:
        weight.grad = g.clone()
        optimizer.step()
    return weight.detach()


def test_tensorflow_rmsprop_puts_eps_inside_the_square_root():
    # Gradients of very different sizes: where they are tiny, eps inside the root dominates.
    grads = [torch.tensor([1.0, 1e-2, 1e-4, -1e-6]) * (k + 1) for k in range(3)]
    lr, eps, alpha = 0.01, 1e-5, 0.99
    # TensorFlow's RMSProp written out: square averages start at 1, p -= lr * g / sqrt(v + eps).
    v, expected_tf, expected_torch = torch.ones(4), torch.zeros(4), torch.zeros(4)
    for g in grads:
        v = alpha * v + (1 - alpha) * g * g
        expected_tf -= lr * g / torch.sqrt(v + eps)
        expected_torch -= lr * g / (torch.sqrt(v) + eps)
    torch.testing.assert_close(_rmsprop_steps("rmsprop_tf", grads, lr, eps), expected_tf)
    torch.testing.assert_close(_rmsprop_steps("rmsprop", grads, lr, eps), expected_torch)
    # Once the square average has decayed towards tiny gradients, the two forms part ways.
    small = [torch.full((4,), 1e-4)] * 2000
    tf, torch_style = _rmsprop_steps("rmsprop_tf", small, eps=eps), _rmsprop_steps("rmsprop", small, eps=eps)
    assert (tf.abs() < 0.5 * torch_style.abs()).all()
