"""A3C: it learns (serial and with processes), it is reproducible, it resumes, it reports failures."""
import json

import numpy as np
import pytest
import torch

from pathzero.agents.a3c import A3CConfig, TrainingError, train
from pathzero.agents.common.settings import saved_fields
from pathzero.agents.common.checkpoint import load_checkpoint
from pathzero.agents.common.runlog import read_episodes
from pathzero.envs import UsageError

CARTPOLE = dict(game="CartPole-v1", envs_per_worker=8, hidden=64, clip_rewards=False, max_grad_norm=40.0,
                lr=7e-4, progress=False, replay_episodes=0)
SOLVED = 195.0  # mean return over the last 20 episodes
BUDGET = 300_000  # frames; a budget, not a time limit


def rolling_best(returns, window=20):
    return max(np.mean(returns[i - window:i]) for i in range(window, len(returns) + 1))


@pytest.mark.parametrize("serial,workers", [(True, 1), (False, 2)], ids=["serial", "2-processes"])
def test_a3c_solves_cartpole_within_budget(logdir, serial, workers):
    cfg = A3CConfig(**CARTPOLE, workers=workers, serial=serial, total_frames=BUDGET, target_return=SOLVED,
                    logdir=str(logdir), seed=3)
    run_dir = train(cfg)
    episodes = read_episodes(run_dir)
    returns = [e["return"] for e in episodes]
    assert rolling_best(returns) >= SOLVED
    ckpt = load_checkpoint(run_dir, "pathzero-a3c")
    assert ckpt["state"]["frames"] < BUDGET  # stopped early because it reached the target
    assert {int(e["worker"]) for e in episodes} == set(range(workers))


def _weights(run_dir):
    return load_checkpoint(run_dir, "pathzero-a3c")["model"]


def test_serial_mode_is_reproducible(logdir):
    cfg = A3CConfig(**CARTPOLE, serial=True, total_frames=3000, logdir=str(logdir), seed=7)
    a, b = train(cfg), train(cfg)
    assert [e["return"] for e in read_episodes(a)] == [e["return"] for e in read_episodes(b)]
    for (name, x), y in zip(_weights(a).items(), _weights(b).values()):
        assert torch.equal(x, y), name
    c = train(A3CConfig(**{**CARTPOLE, "seed": 8}, serial=True, total_frames=3000, logdir=str(logdir)))
    assert any(not torch.equal(x, y) for x, y in zip(_weights(a).values(), _weights(c).values()))


def test_resume_continues_frames_schedule_optimizer_and_episodes(logdir):
    cfg = A3CConfig(**CARTPOLE, serial=True, total_frames=4000, logdir=str(logdir))
    run_dir = train(cfg)
    first = load_checkpoint(run_dir, "pathzero-a3c")
    rows_before = len(read_episodes(run_dir))
    assert first["state"]["frames"] >= 4000
    steps_before = first["optimizer"]["state"][0]["step"].item()
    assert steps_before == first["state"]["updates"]

    saved = saved_fields(A3CConfig, json.loads((run_dir / "config.json").read_text()))  # without its "agent"
    train(A3CConfig(**{**saved, "total_frames": 8000}), resume=run_dir)
    second = load_checkpoint(run_dir, "pathzero-a3c")
    assert second["state"]["frames"] >= 8000 and second["state"]["resumes"] == 1
    assert second["optimizer"]["state"][0]["step"].item() == second["state"]["updates"] > steps_before
    assert json.loads((run_dir / "config.json").read_text())["total_frames"] == 8000
    episodes = read_episodes(run_dir)
    assert len(episodes) > rows_before
    frames = [e["frames"] for e in episodes]
    assert frames == sorted(frames) and frames[-1] > first["state"]["frames"]


def test_resume_refuses_another_game_or_network(logdir):
    run_dir = train(A3CConfig(**CARTPOLE, serial=True, total_frames=1000, logdir=str(logdir)))
    ckpt_bytes = (run_dir / "checkpoint.pt").read_bytes()
    with pytest.raises(UsageError, match="trained on CartPole-v1, not Acrobot-v1"):
        train(A3CConfig(**{**CARTPOLE, "game": "Acrobot-v1"}, serial=True, total_frames=2000), resume=run_dir)
    with pytest.raises(UsageError, match="network of another shape"):
        train(A3CConfig(**{**CARTPOLE, "hidden": 32}, serial=True, total_frames=2000), resume=run_dir)
    with pytest.raises(UsageError, match="already trained"):
        train(A3CConfig(**CARTPOLE, serial=True, total_frames=1000), resume=run_dir)
    assert (run_dir / "checkpoint.pt").read_bytes() == ckpt_bytes  # nothing damaged


def test_a_dying_worker_is_reported_and_the_run_is_checkpointed(logdir):
    cfg = A3CConfig(game="tests.crash_env:CrashAfterSteps-v0", workers=2, envs_per_worker=1, hidden=16,
                    total_frames=100_000, progress=False, replay_episodes=0, logdir=str(logdir))
    with pytest.raises(TrainingError, match=r"worker \d failed: RuntimeError: the emulator crashed on purpose"):
        train(cfg)
    (run_dir,) = logdir.iterdir()
    assert load_checkpoint(run_dir, "pathzero-a3c")["state"]["frames"] > 0


def test_bad_config_values_are_refused():
    for bad, message in [({"workers": 0}, "--workers must be >= 1"),
                         ({"total_frames": 0}, "--total-frames must be a positive"),
                         ({"total_frames": -5}, "--total-frames must be a positive"),
                         ({"optimizer": "sgd"}, "--optimizer must be one of")]:
        with pytest.raises(UsageError, match=message):
            A3CConfig(**bad)


def test_a_run_stops_once_its_evaluations_hold_the_target(logdir):
    """--target-eval-return: CartPole scores at least 8 per episode, so a target of 1 is held from the
    first evaluation; the run ends after the second of two in a row, far before its frame budget, or
    not before --target-eval-from. A target no evaluation reaches leaves the run to its budget."""
    from pathzero.agents.common.evaluation import read_evals

    base = dict(CARTPOLE, serial=True, eval_every=2_000, evaluation_episodes=2, progress=False, replay_episodes=0)
    run_dir = train(A3CConfig(**base, total_frames=200_000, target_eval_return=1.0, target_eval_hold=2,
                              logdir=str(logdir / "held"), seed=1))
    frames = load_checkpoint(run_dir, "pathzero-a3c")["state"]["frames"]
    evals = read_evals(run_dir)
    assert 4_000 <= frames < 50_000 and all(float(e["mean_return"]) >= 1.0 for e in evals) and len(evals) >= 2
    run_dir = train(A3CConfig(**base, total_frames=8_000, target_eval_return=1e9, logdir=str(logdir / "never"), seed=1))
    assert load_checkpoint(run_dir, "pathzero-a3c")["state"]["frames"] >= 8_000
    run_dir = train(A3CConfig(**base, total_frames=200_000, target_eval_return=1.0, target_eval_hold=2,
                              target_eval_from=12_000, logdir=str(logdir / "from"), seed=1))
    assert 12_000 <= load_checkpoint(run_dir, "pathzero-a3c")["state"]["frames"] < 60_000  # held since 4,000: ends at 12,000
    with pytest.raises(UsageError, match="give --eval-every"):
        A3CConfig(game="CartPole-v1", target_eval_return=1.0)
    with pytest.raises(UsageError, match="--target-eval-hold must be >= 1"):
        A3CConfig(game="CartPole-v1", eval_every=1000, target_eval_return=1.0, target_eval_hold=0)


def test_a3c_learns_minatar_breakout_within_budget(logdir):
    # A random policy scores about 0.5 per episode; 3.0 needs the paddle to follow the ball.
    cfg = A3CConfig(game="MinAtar/Breakout", workers=2, envs_per_worker=8, channels=16, hidden=128,
                    clip_rewards=False, life_loss=False, max_grad_norm=40.0, lr=3e-3, total_frames=400_000,
                    target_return=3.0, progress=False, replay_episodes=0, logdir=str(logdir), seed=1)
    run_dir = train(cfg)
    returns = [e["return"] for e in read_episodes(run_dir)]
    assert np.mean(returns[:100]) < 1.5  # it started out poor
    assert rolling_best(returns) >= 3.0


def test_a3c_trains_on_the_vector_env_and_refuses_it_for_other_families(logdir):
    cfg = A3CConfig(game="Pong", vector_env=True, serial=True, envs_per_worker=4, total_frames=4000, channels=4,
                    hidden=16, progress=False, replay_episodes=0, logdir=str(logdir))
    run_dir = train(cfg)
    ckpt = load_checkpoint(run_dir, "pathzero-a3c")
    assert ckpt["state"]["frames"] >= 4000 and ckpt["config"]["vector_env"] is True
    with pytest.raises(UsageError, match="ALE games only"):
        train(A3CConfig(game="MinAtar/Breakout", vector_env=True, serial=True, logdir=str(logdir), progress=False))


def test_bf16_learning_keeps_float32_outputs_and_gradients_close_to_fp32(logdir):
    from pathzero.agents.common.runner import with_precision
    from pathzero.nets import DualNet, NetConfig

    torch.manual_seed(0)
    net = DualNet((4, 84, 84), 6, NetConfig(channels=16, hidden=64))
    obs = torch.randint(0, 256, (24, 4, 84, 84), dtype=torch.uint8)
    grads = {}
    for precision in ("fp32", "bf16"):
        out = with_precision(net, precision)(obs)
        assert out.logits.dtype == torch.float32 and out.value.dtype == torch.float32
        loss = -torch.log_softmax(out.logits, -1)[:, 0].mean() + (out.value - 1.0).pow(2).mean()
        net.zero_grad()
        loss.backward()
        grads[precision] = torch.cat([p.grad.flatten() for p in net.parameters()])
    assert all(p.dtype == torch.float32 for p in net.parameters())
    cosine = torch.nn.functional.cosine_similarity(grads["fp32"], grads["bf16"], dim=0)
    assert 0.99 < cosine < 1.0  # bfloat16 arithmetic: close to the fp32 gradient, not identical
    # With the worker's network laid out channels-last (as learn_step does), the same outputs.
    with torch.no_grad():
        before = {p: with_precision(net, p)(obs) for p in ("fp32", "bf16")}
        contiguous = net(obs)
        after = {p: with_precision(net, p, local=net)(obs) for p in ("fp32", "bf16")}
    assert net.trunk.stem.layers[0].weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(after["bf16"].logits, before["bf16"].logits, atol=0.05, rtol=0.05)
    for out in (before["fp32"], after["fp32"]):  # fp32 channels-last: the same arithmetic up to rounding
        torch.testing.assert_close(out.logits, contiguous.logits, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(out.value, contiguous.value, atol=1e-5, rtol=1e-4)
    # A run with --precision bf16 trains and stores float32 weights; a bad precision is refused.
    cfg = A3CConfig(game="MinAtar/Breakout", precision="bf16", serial=True, envs_per_worker=4, total_frames=2000,
                    channels=8, hidden=32, progress=False, replay_episodes=0, logdir=str(logdir), seed=1)
    ckpt = load_checkpoint(train(cfg), "pathzero-a3c")
    assert ckpt["state"]["frames"] >= 2000 and ckpt["config"]["precision"] == "bf16"
    assert all(w.dtype == torch.float32 for w in ckpt["model"].values() if w.is_floating_point())
    with pytest.raises(UsageError, match="--precision must be one of fp32, bf16"):
        A3CConfig(precision="fp16")


def test_an_episodes_csv_from_before_sessions_gets_them_when_its_run_resumes(tmp_path):
    from pathzero.agents.common.runlog import RunLog, read_episodes

    (tmp_path / "episodes.csv").write_text("frames,wall_seconds,return,length,worker\n80,0.50,12,12,0\n160,0.90,9,9,1\n")
    log = RunLog(tmp_path, purge_step=200, session=1)
    log.episode(240, 1.2, 30.0, 30, 0)
    log.close()
    rows = read_episodes(tmp_path)
    assert [(r["frames"], r["session"], r["row"]) for r in rows] == [(80, 0, 0), (160, 0, 1), (240, 1, 2)]
    assert all(isinstance(r[k], int) for r in rows for k in ("frames", "length", "worker", "session", "row"))
    assert isinstance(rows[0]["return"], float)


def test_a_resume_numbers_the_rows_it_keeps_again():
    """A slow worker's row (frames 150) logged after a faster one's (frames 260) survives a resume from a
    checkpoint at 200 frames; the dropped row leaves no gap in the numbering."""
    import tempfile
    from pathlib import Path

    from pathzero.agents.common.runlog import RunLog, read_episodes

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "episodes.csv"
        path.write_text("frames,wall_seconds,return,length,worker,session,row\n100,1,5,5,0,0,0\n260,2,5,5,0,0,1\n"
                        "150,2,5,5,1,0,2\n")
        log = RunLog(Path(folder), purge_step=200, session=1)
        log.episode(240, 3.0, 7.0, 7, 0)
        log.close()
        rows = read_episodes(Path(folder))
    assert [(r["frames"], r["session"], r["row"]) for r in rows] == [(100, 0, 0), (150, 0, 1), (240, 1, 2)]


def test_several_clipped_passes_per_rollout_count_its_frames_once_and_learn_cartpole(logdir):
    """--update-epochs 4 --minibatches 2: eight shared updates per rollout, the frames counted once (the budget
    ends at the frames acted), and CartPole still learns."""
    cfg = A3CConfig(**CARTPOLE, serial=True, total_frames=120_000, target_return=SOLVED, logdir=str(logdir), seed=3,
                    update_epochs=4, minibatches=2, normalize_advantages=True)
    run_dir = train(cfg)
    state = load_checkpoint(run_dir, "pathzero-a3c")["state"]
    episodes = read_episodes(run_dir)
    assert sum(e["length"] for e in episodes) * 1 <= state["frames"]  # CartPole: one frame per step
    assert rolling_best([e["return"] for e in episodes]) >= SOLVED
    with pytest.raises(UsageError, match="--minibatches 100 is more than a rollout's 40 samples"):
        A3CConfig(**CARTPOLE, t_max=5, update_epochs=2, minibatches=100)
