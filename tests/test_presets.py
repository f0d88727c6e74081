"""Per-family presets: MinAtar gets its own network and learning settings; flags given win."""
import json
import subprocess
import sys


from pathzero.agents.a3c import A3CConfig
from pathzero.agents.common.presets import apply_preset, describe_preset, preset
from pathzero.agents.pathnet import PathNetConfig
from pathzero.envs import resolve_game


def test_minatar_preset_for_a3c_sets_the_network_and_learning_settings():
    cfg = A3CConfig(**apply_preset(A3CConfig, "MinAtar/Breakout", {"game": "MinAtar/Breakout"}))
    assert (cfg.channels, cfg.blocks, cfg.hidden) == (32, 1, 128)
    assert (cfg.lr, cfg.clip_rewards, cfg.life_loss, cfg.max_grad_norm) == (3e-3, False, False, 40.0)


def test_flags_given_win_over_the_preset():
    kwargs = apply_preset(A3CConfig, "MinAtar/Asterix", {"game": "MinAtar/Asterix", "lr": 1e-3, "hidden": 64,
                                                          "clip_rewards": True})
    cfg = A3CConfig(**kwargs)
    assert (cfg.lr, cfg.hidden, cfg.clip_rewards, cfg.blocks) == (1e-3, 64, True, 1)
    line = describe_preset(resolve_game("MinAtar/Asterix"), A3CConfig, {"lr": 1e-3, "hidden": 64, "clip_rewards": True})
    assert line.startswith("preset minatar:") and "--channels 32" in line and "--no-life-loss" in line
    assert "--lr" not in line and "--hidden" not in line and "clip-rewards" not in line


def test_pathnet_keeps_its_grid_and_gets_the_learning_settings():
    values = preset(resolve_game("MinAtar/Breakout"), PathNetConfig)
    assert values["lr"] == 3e-3 and values["clip_rewards"] is False
    assert not {"channels", "blocks", "hidden"} & set(values)  # the grid's module sizes stay the paper's
    cfg = PathNetConfig(**apply_preset(PathNetConfig, "MinAtar/Breakout", {"game": "MinAtar/Breakout"}))
    assert cfg.channels == PathNetConfig.channels and cfg.lr == 3e-3


def test_ale_keeps_the_atari_defaults_and_adds_evaluation():
    assert preset(resolve_game("Pong"), A3CConfig) == {"eval_every": 500_000, "evaluation_episodes": 10}
    cfg = A3CConfig(**apply_preset(A3CConfig, "Pong", {"lr": 1e-4}))
    assert (cfg.lr, cfg.clip_rewards, cfg.life_loss, cfg.hidden, cfg.eval_every) == (1e-4, True, True, 256, 500_000)


def test_classic_control_gets_unclipped_rewards_and_a_small_mlp():
    cfg = A3CConfig(**apply_preset(A3CConfig, "CartPole-v1", {"game": "CartPole-v1"}))
    assert (cfg.clip_rewards, cfg.life_loss, cfg.hidden, cfg.eval_every) == (False, False, 64, 20_000)
    assert describe_preset(resolve_game("CartPole-v1"), A3CConfig, {}).startswith("preset gym: ")


def test_board_games_get_their_own_self_play_settings():
    from pathzero.agents.common.presets import board_preset

    assert board_preset("tictactoe") == {}
    assert board_preset("connect_four")["dirichlet_alpha"] == 1.4  # about 10 / legal moves (7)
    assert board_preset("Connect-Four") == board_preset("connect_four")  # any name of the game


def test_a_game_without_a_family_preset_says_so():
    from pathzero.agents.common import presets

    saved = presets.LEARNING.pop("gym"), presets.NETWORK.pop("gym")
    try:
        assert preset(resolve_game("CartPole-v1"), A3CConfig) == {}
        assert "none" in describe_preset(resolve_game("CartPole-v1"), A3CConfig, {})
    finally:
        presets.LEARNING["gym"], presets.NETWORK["gym"] = saved


def test_train_applies_the_preset_and_prints_it(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pathzero.scripts.cli", "train", "--game", "MinAtar/Breakout", "--serial",
                             "--total-frames", "400", "--envs-per-worker", "4", "--lr", "1e-3", "--no-progress",
                             "--replay-episodes", "0", "--logdir", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("preset minatar: ")
    config = json.loads(next(tmp_path.glob("*/config.json")).read_text())
    assert (config["channels"], config["blocks"], config["hidden"], config["clip_rewards"]) == (32, 1, 128, False)
    assert config["lr"] == 1e-3 and config["envs_per_worker"] == 4  # given flags win
