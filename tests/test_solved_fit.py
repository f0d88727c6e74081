"""The dual network can represent a solved game: it fits every tic-tac-toe position's minimax
value and optimal moves (the AlphaZero network family on board planes)."""
import numpy as np
import torch
import torch.nn.functional as F

from pathzero.agents.perfect import Minimax
from pathzero.envs.boards import TicTacToe
from pathzero.nets import DualNet, NetConfig


def solved_dataset():
    game, perfect = TicTacToe(), Minimax(TicTacToe())
    seen, frontier, planes, policies, values = set(), [game.initial_state()], [], [], []
    while frontier:
        state = frontier.pop()
        if state in seen or game.is_terminal(state):
            continue
        seen.add(state)
        best = perfect.best_actions(state)
        policy = np.zeros(9, dtype=np.float32)
        policy[best] = 1.0 / len(best)
        planes.append(game.planes(state))
        policies.append(policy)
        values.append(float(perfect.value(state)))
        frontier += [game.apply(state, a) for a in game.legal_actions(state)]
    return torch.from_numpy(np.stack(planes)), torch.from_numpy(np.stack(policies)), torch.tensor(values)


def test_dualnet_fits_solved_tictactoe():
    x, pi, z = solved_dataset()
    assert len(x) == 4520  # every non-terminal position reachable in play
    torch.manual_seed(0)
    net = DualNet((2, 3, 3), 9, NetConfig(channels=32, blocks=2, hidden=64, norm="batch", value_hidden=32,
                                          value_tanh=True))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-5)
    for step in range(150):  # full-batch epochs: a budget in steps
        out = net(x)
        value_loss = F.mse_loss(out.value, z)
        policy_loss = -(pi * F.log_softmax(out.logits, -1)).sum(-1).mean()
        opt.zero_grad()
        (value_loss + policy_loss).backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        out = net(x)
    value_mse = F.mse_loss(out.value, z).item()
    best_move_rate = (pi.gather(1, out.logits.argmax(-1, keepdim=True)) > 0).float().mean().item()
    assert value_mse < 0.05, value_mse
    assert best_move_rate > 0.97, best_move_rate
