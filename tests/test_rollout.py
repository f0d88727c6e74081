"""Acting in a batch of environments: the sampler, the step buffers and the rollout for the loss."""
import numpy as np
import pytest
import torch

from pathzero.agents.common.rollout import EnvBatch, sample_from_logits
from pathzero.envs import resolve_game
from pathzero.nets import DualNet, DualOutput, NetConfig


def test_gumbel_max_sampling_follows_the_softmax():
    torch.manual_seed(0)
    logits = torch.tensor([[0.0, 1.0, -1.0, 2.0]]).repeat(40_000, 1)
    counts = torch.bincount(sample_from_logits(logits), minlength=4).double()
    expected = torch.softmax(logits[0].double(), -1) * len(logits)
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 16.3  # chi-square, 3 degrees of freedom, p = 0.001


def test_step_writes_into_the_given_buffers():
    envs = EnvBatch(resolve_game("MinAtar/Breakout"), 3, seed=0, clip_rewards=False, life_loss=False)
    out, rewards, dones = np.empty((3, 4, 10, 10), dtype=bool), np.full(3, -1.0, np.float32), np.full(3, -1.0, np.float32)
    obs, r, d, _ = envs.step(np.array([0, 1, 2]), out, rewards, dones)
    assert obs is out and r is rewards and d is dones and envs.obs is out
    assert set(rewards.tolist()) <= {0.0, 1.0} and set(dones.tolist()) <= {0.0, 1.0}


class Recorder(torch.nn.Module):
    """A DualNet that remembers every batch it saw."""

    def __init__(self, net):
        super().__init__()
        self.net, self.seen = net, []

    def forward(self, obs):
        self.seen.append(obs.clone())
        return self.net(obs)


@pytest.mark.parametrize("t_max", [1, 5])
def test_collect_acts_then_runs_one_forward_over_the_whole_rollout(t_max):
    torch.manual_seed(0)
    spec = resolve_game("MinAtar/Breakout")
    net = DualNet((4, 10, 10), 3, NetConfig(channels=4, blocks=0, hidden=8))
    envs = EnvBatch(spec, 4, seed=1, clip_rewards=False, life_loss=False)
    model = Recorder(net)
    rollout, _ = envs.collect(model, t_max)
    acted, learned = model.seen[:t_max], model.seen[t_max]
    assert len(model.seen) == t_max + 1 and learned.shape == (4 * (t_max + 1), 4, 10, 10)
    # the learning batch is the observations acted on, then the one after the last step
    assert torch.equal(learned[:4 * t_max], torch.cat(acted)) and torch.equal(learned[4 * t_max:],
                                                                               torch.from_numpy(envs.obs))
    assert rollout.logits.shape == (t_max, 4, 3) and rollout.values.shape == (t_max, 4)
    assert rollout.actions.shape == rollout.rewards.shape == rollout.dones.shape == (t_max, 4)
    assert rollout.logits.requires_grad and rollout.values.requires_grad and not rollout.bootstrap.requires_grad
    with torch.no_grad():
        want = net(torch.cat(acted))
        assert torch.allclose(rollout.logits.flatten(0, 1), want.logits, atol=1e-5)
        assert torch.allclose(rollout.values.flatten(), want.value, atol=1e-5)
        assert torch.allclose(rollout.bootstrap, net(torch.from_numpy(envs.obs)).value, atol=1e-5)


def test_collect_samples_actions_from_the_policy():
    class Always(torch.nn.Module):  # puts all probability on action 2
        def forward(self, obs):
            logits = torch.tensor([-1e9, -1e9, 0.0]).repeat(len(obs), 1)
            return DualOutput(logits, torch.zeros(len(obs)))

    envs = EnvBatch(resolve_game("MinAtar/Breakout"), 2, seed=0, clip_rewards=False, life_loss=False)
    rollout, _ = envs.collect(Always(), 4)
    assert (rollout.actions == 2).all()


class StepValue(torch.nn.Module):
    """V(s) = 10 x the observation's first entry (the counter envs' step count), uniform policy."""

    def forward(self, obs):
        return DualOutput(torch.zeros(len(obs), 2), 10 * obs[:, 0])


@pytest.mark.parametrize("game, cut", [("tests.timed_env:TimedCounter-v0", True),
                                       ("tests.timed_env:EndingCounter-v0", False)])
def test_a_time_limit_keeps_the_value_of_the_state_it_cut_and_a_terminal_state_does_not(game, cut):
    from pathzero.agents.a3c import A3CConfig
    from pathzero.agents.common.returns import rollout_returns

    envs = EnvBatch(resolve_game(game), 2, seed=0, clip_rewards=False, life_loss=False)
    rollout, episodes = envs.collect(StepValue(), t_max=4)
    assert rollout.dones[:, 0].tolist() == [0, 0, 1, 0] and len(episodes) == 2  # both end at their 3rd step
    expected = torch.zeros(4, 2)
    if cut:
        expected[2] = 3.0  # V of the state the limit cut: step 3
    assert torch.equal(rollout.truncation_values, expected)
    returns, _ = rollout_returns(rollout, A3CConfig(game="CartPole-v1", gamma=0.9))
    # step 2 ends the return: 1 + 0.9 * V(step 3) when cut, 1 when the game ended
    assert returns[2].tolist() == pytest.approx([1 + 0.9 * 3.0] * 2 if cut else [1.0, 1.0])
    assert returns[1].tolist() == pytest.approx([1 + 0.9 * returns[2, 0].item()] * 2)
    gae, _ = rollout_returns(rollout, A3CConfig(game="CartPole-v1", gamma=0.9, gae_lambda=0.95))
    assert gae[2].tolist() == pytest.approx(returns[2].tolist())  # GAE's one-step end is the same


def test_the_vector_env_keeps_the_gymnasium_path_protocol():
    from pathzero.agents.common.rollout import VectorEnvBatch

    spec = resolve_game("Pong")
    python = EnvBatch(spec, 2, seed=0, clip_rewards=True, life_loss=True)
    vector = VectorEnvBatch(spec, 2, seed=0, clip_rewards=True, life_loss=True)
    assert vector.obs.shape == python.obs.shape == (2, 4, 84, 84) and vector.obs.dtype == python.obs.dtype
    assert vector.env.single_action_space.n == python.envs[0].action_space.n == 6  # the minimal action set
    for batch in (python, vector):  # a new game's stack repeats its first frame; each step shifts in one frame
        assert all((batch.obs[i, k] == batch.obs[i, 3]).all() for i in range(2) for k in range(3))
        before = batch.obs.copy()
        after = batch.step(np.array([0, 1]))[0]
        assert (after[:, :3] == before[:, 1:]).all()
    python.close()
    vector.close()
    # a whole random game: its score is the sum of its rewards (Pong's are +-1: clipping keeps them),
    # its length the steps, its end a done, and the next game's stack starts anew
    vector = VectorEnvBatch(spec, 2, seed=1, clip_rewards=True, life_loss=True)
    rng, rewards_seen = np.random.default_rng(0), []
    while True:
        obs, rewards, dones, finished = vector.step(rng.integers(0, 6, size=2))
        rewards_seen.append(float(rewards[0]))
        if any(e.env_index == 0 for e in finished):
            episode = next(e for e in finished if e.env_index == 0)
            break
    assert episode.length == len(rewards_seen) and episode.ret == sum(rewards_seen) and -21 <= episode.ret <= 21
    assert dones[0] == 1 and all((obs[0, k] == obs[0, 3]).all() for k in range(3))
    vector.close()
