"""`pathzero export`: a run as a Hugging Face-style model folder that loads back and plays the same
actions (A3C, PathNet, self-play), with its model card; bad input is one line."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import pathzero
from pathzero.agents.common.checkpoint import TRAINING_ONLY, read_export
from pathzero.errors import UsageError


def front_matter(card: str) -> str:
    assert card.startswith("---\n")
    return card.split("---\n")[1]


def same_actions(original, exported, observations) -> None:
    greedy = [(a.act(observations, greedy=True)) for a in (original, exported)]
    assert np.array_equal(*greedy)
    with torch.no_grad():
        assert torch.equal(original.model(torch.as_tensor(observations)).logits,
                           exported.model(torch.as_tensor(observations)).logits)


def test_an_a3c_run_exports_loads_back_and_plays_the_same_actions(tmp_path):
    run = pathzero.train(game="CartPole-v1", serial=True, total_frames=1500, envs_per_worker=4, replay_episodes=1,
                         logdir=str(tmp_path / "runs"), progress=False, verbose=False)
    out = pathzero.export(run, tmp_path / "model", episodes=3)
    assert {p.name for p in out.iterdir()} == {"model.safetensors", "pathzero.json", "config.json", "replay.mp4",
                                                "README.md"}
    meta = front_matter((out / "README.md").read_text())
    assert "library_name: pathzero" in meta and "- reinforcement-learning" in meta and "- CartPole-v1" in meta
    assert "model-index:" in meta and "type: mean_reward" in meta and "+/-" in meta
    assert "pathzero train --agent a3c --game CartPole-v1 --seed 1 --total-frames 1500" in (out / "README.md").read_text()
    assert json.loads((out / "config.json").read_text())["agent"] == "a3c"
    payload = read_export(out)
    assert not set(TRAINING_ONLY) & set(payload) and payload["format"] == "pathzero-a3c"
    original, exported = pathzero.load(run), pathzero.load(out)
    observations = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    same_actions(original, exported, observations)
    assert [r.ret for r in original.play(3, seed=5)] == [r.ret for r in exported.play(3, seed=5)]  # sampled, same seed
    watched = subprocess.run([sys.executable, "-m", "pathzero", "watch", str(out), "--episodes", "1"],
                             capture_output=True, text=True)
    assert watched.returncode == 0 and "episode 1: score" in watched.stdout
    again = pathzero.export(run, out, episodes=1)  # an earlier export is overwritten
    assert again == out and "over 1 episodes" in (out / "README.md").read_text()


def test_the_cards_command_names_the_game_as_train_takes_it(tmp_path):
    from pathzero.envs import resolve_game

    run = pathzero.train(game="MinAtar/Breakout", serial=True, total_frames=400, envs_per_worker=2, replay_episodes=0,
                         channels=4, hidden=16, logdir=str(tmp_path / "runs"), progress=False, verbose=False)
    card = (pathzero.export(run, tmp_path / "model", episodes=1) / "README.md").read_text()
    command = next(line for line in card.splitlines() if line.startswith("pathzero train"))
    game = command.split("--game ")[1].split()[0]
    assert game == "MinAtar/Breakout" and resolve_game(game).env_id == "MinAtar/Breakout-v1"


def test_a_pathnet_task_and_a_selfplay_network_export_and_load_back(tmp_path):
    from pathzero.agents.alphazero import AlphaZeroConfig, train_alphazero
    from pathzero.agents.pathnet import PathNetConfig, train_pathnet

    run_dir = train_pathnet(PathNetConfig(game="CartPole-v1", serial=True, total_frames=1000, envs_per_worker=4,
                                          population=2, eval_episodes=2, hidden=16, width=16, progress=False,
                                          replay_episodes=0, logdir=str(tmp_path / "runs")))
    out = pathzero.export(run_dir, tmp_path / "pathnet", episodes=2)
    assert (out / "replay.mp4").stat().st_size > 0  # recorded, since the run kept none
    original, exported = pathzero.load(run_dir), pathzero.load(out)
    assert exported.kind == "pathnet" and exported.task == original.task
    same_actions(original, exported, np.random.default_rng(1).normal(size=(32, 4)).astype(np.float32))
    board_dir = train_alphazero(AlphaZeroConfig(iterations=1, simulations=4, games_per_iteration=3, train_steps=1,
                                                batch_size=8, channels=8, blocks=1, eval_games=0, progress=False,
                                                logdir=str(tmp_path / "board")))
    out = pathzero.export(board_dir, tmp_path / "ttt", episodes=2)
    card = (out / "README.md").read_text()
    assert "score_vs_random" in front_matter(card) and "score_vs_perfect" in front_matter(card)
    assert "replay.mp4" not in {p.name for p in out.iterdir()}
    original, exported = pathzero.load(board_dir), pathzero.load(out)
    for history in ([], [4], [0, 4], [0, 4, 8]):
        assert original.act(history) == exported.act(history)


def test_bad_exports_are_one_line(tmp_path):
    def export(*args):
        return subprocess.run([sys.executable, "-m", "pathzero", "export", *map(str, args)], capture_output=True,
                              text=True)

    for result, words in ((export(tmp_path / "nowhere", tmp_path / "m"), "does not exist"),
                          (export(tmp_path, tmp_path / "m"), "holds no checkpoint.pt")):
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1 and words in result.stderr
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    run = pathzero.train(game="CartPole-v1", serial=True, total_frames=500, envs_per_worker=2, replay_episodes=0,
                         logdir=str(tmp_path / "runs"), progress=False, verbose=False)
    busy = export(run.dir, tmp_path / "busy")
    assert busy.returncode == 2 and "holds other files" in busy.stderr and (tmp_path / "busy" / "notes.txt").exists()
    exported = export(run.dir, tmp_path / "m", "--episodes", 1)
    assert exported.returncode == 0, exported.stderr
    damaged = tmp_path / "m" / "model.safetensors"
    damaged.write_bytes(damaged.read_bytes()[:40])
    with pytest.raises(UsageError, match="cannot be read"):
        pathzero.load(tmp_path / "m")
