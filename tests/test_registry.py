"""Proof by addition: an agent and a matrix method added from outside pathzero, each with one entry,
work everywhere the built-in ones do, with nothing else edited."""
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

import pathzero
from pathzero.agents.common.checkpoint import load_checkpoint
from pathzero.agents.common.config import RESUMABLE, ActorCriticConfig
from pathzero.agents.common.registry import AgentEntry, agent, agent_of_config, register, unregister
from pathzero.agents.common.returns import rollout_loss
from pathzero.agents.common.runner import DoneMsg, Recipe, game_shapes, learn_step, make_env_batch, train
from pathzero.agents.common.trained import Agent, refuse_options
from pathzero.agents.experiment import Method, register_method, unregister_method
from pathzero.agents.transfer import TransferConfig, TransferMatrix, plan
from pathzero.envs import resolve_game
from pathzero.errors import UsageError
from pathzero.nets import DualNet, NetConfig

FORMAT = "tests-tiny-a2c"


# ----------------------------------------------------------------------------------------------
# A small agent, written as a user would: its config, its worker loop, its recipe, a loader, one entry.

@dataclass(frozen=True)
class TinyConfig(ActorCriticConfig):
    """A small actor-critic: an MLP of `width` units."""

    width: int = 8
    """Units of its one hidden layer."""


def tiny_worker(worker, cfg: TinyConfig, ctx, seed: int) -> None:
    torch.manual_seed(seed)
    spec = resolve_game(cfg.game)
    envs = make_env_batch(cfg, spec, seed)
    local = DualNet.from_description(ctx.shared_model.describe())
    try:
        while not ctx.stop.is_set():
            _, frames = learn_step(worker, local, local, envs, spec, cfg, ctx, rollout_loss)
            if frames >= cfg.total_frames:
                break
    finally:
        envs.close()
    ctx.sink.put(DoneMsg(worker))


class TinyRecipe(Recipe):
    agent = "tiny"
    checkpoint_format = FORMAT
    worker = staticmethod(tiny_worker)

    def build(self, cfg: TinyConfig, spec, ckpt, where):
        model = DualNet(*game_shapes(spec), NetConfig(hidden=cfg.width, blocks=0))
        if ckpt is not None:
            model.load_state_dict(ckpt["model"])
        return model

    def payload(self, model, extra) -> dict:
        return {**model.describe(), "model": model.state_dict()}


def train_tiny(cfg: TinyConfig, resume=None) -> Path:
    return train(cfg, TinyRecipe(), resume)


def load_tiny(path, *, task=None, greedy=False, seed=0, game=None, simulations=None) -> Agent:
    refuse_options("tiny", task=task, game=game, simulations=simulations)
    ckpt = load_checkpoint(path, FORMAT)
    model = DualNet.from_description(ckpt)
    model.load_state_dict(ckpt["model"])
    return Agent(model, ckpt["game"], frames=ckpt["state"]["frames"], greedy=greedy, seed=seed, kind="tiny")


@pytest.fixture
def tiny_agent():
    register(AgentEntry(name="tiny", config=TinyConfig, train=train_tiny, load=load_tiny, checkpoint_format=FORMAT,
                        description="a small actor-critic (a test's agent)", resumable=RESUMABLE))
    yield agent("tiny")
    unregister("tiny")


SETTINGS = dict(serial=True, envs_per_worker=4, replay_episodes=0, progress=False, width=8)


def test_an_agent_added_with_one_entry_trains_resumes_and_loads_through_the_api(tiny_agent, tmp_path):
    run = pathzero.train(game="CartPole-v1", agent="tiny", total_frames=600, logdir=str(tmp_path), verbose=False,
                         **SETTINGS)
    config = json.loads((run.dir / "config.json").read_text())
    assert run.dir.name.startswith("CartPole-v1__tiny__1__") and config["agent"] == "tiny" and config["width"] == 8
    assert agent_of_config(config) is tiny_agent
    assert len(run.episodes()) > 0
    resumed = pathzero.train(resume=run.dir, total_frames=1200, verbose=False)
    assert resumed.dir == run.dir
    assert torch.load(run.dir / "checkpoint.pt", weights_only=True)["state"]["frames"] >= 1200
    loaded = pathzero.load(run)
    assert isinstance(loaded, Agent) and loaded.kind == "tiny" and loaded.frames >= 1200
    assert loaded.act(np.zeros(4, dtype=np.float32)) in (0, 1)
    with pytest.raises(UsageError, match="task"):
        pathzero.load(run, task="CartPole-v1")


def test_an_added_agent_is_one_of_the_train_commands_agents(tiny_agent, tmp_path, capsys):
    from pathzero.scripts.train import main

    with pytest.raises(SystemExit) as done:
        main(["--agent", "tiny", "--game", "CartPole-v1", "--total-frames", "600", "--logdir", str(tmp_path),
              "--serial", "--envs-per-worker", "4", "--replay-episodes", "0", "--no-progress", "--width", "6"])
    assert done.value.code == 0, capsys.readouterr().err
    (run_dir,) = tmp_path.iterdir()
    assert json.loads((run_dir / "config.json").read_text())["width"] == 6
    with pytest.raises(SystemExit) as done:
        main(["--resume", str(run_dir), "--total-frames", "1200"])
    assert done.value.code == 0, capsys.readouterr().err
    with pytest.raises(SystemExit) as shown:
        main(["--agent", "tiny", "--help"])
    assert shown.value.code == 0 and "--width" in capsys.readouterr().out  # its own field is a flag
    with pytest.raises(SystemExit) as refused:
        main(["--agent", "tiny", "--backend", "ray"])  # not declared as a Ray agent: no such flag
    assert refused.value.code == 2


def test_an_unknown_agent_gets_one_line_naming_the_known_ones(tmp_path, capsys):
    from pathzero.scripts.train import main

    with pytest.raises(SystemExit) as done:
        main(["--agent", "tinyy", "--game", "CartPole-v1"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and len(err.strip().splitlines()) == 1 and "a3c, pathnet, gumbel" in err


def test_a_config_json_without_agent_names_its_agent_by_its_fields():
    """Run folders made before config.json recorded "agent" still resume."""
    assert agent_of_config({"iterations": 3, "simulations": 8, "game": "tictactoe"}).name == "alphazero"
    assert agent_of_config({"layers": 4, "modules": 10, "active": 4, "population": 16}).name == "pathnet"
    assert agent_of_config({"layers": 4, "modules": 10, "active": 4, "population": 16, "evolve": False,
                            "tau_start": 1.0, "tau_end": 0.03, "flops_penalty": 0.01}).name == "gumbel"
    assert agent_of_config({"game": "Pong", "channels": 32}).name == "a3c"


@pytest.fixture
def nofreeze_method():
    register_method(Method("pathnet_nofreeze", "PathNet from the source's evolved network, nothing frozen",
                           source="pathnet_scratch", settings={"evolve": True, "freeze_source": False}, default=False))
    yield
    unregister_method("pathnet_nofreeze")


def test_a_matrix_method_added_with_one_entry_runs_in_a_matrix(nofreeze_method, tmp_path):
    from pathzero.agents.pathnet import PathNetConfig

    base = PathNetConfig(game="CartPole-v1", serial=True, envs_per_worker=4, population=3, eval_episodes=2,
                         hidden=16, width=16, progress=False, replay_episodes=0)
    cfg = TransferConfig(games=("CartPole-v1", "Acrobot-v1"), frames=800, seeds=1, logdir=str(tmp_path), base=base,
                         score_episodes=2, random_episodes=5, bins=4, pairs=(("CartPole-v1", "Acrobot-v1"),),
                         methods=("independent", "pathnet_nofreeze"))
    assert {c.kind for c in plan(cfg)} == {"random", "fixed", "evolved", "pathnet_nofreeze"}
    data = TransferMatrix(cfg).run(progress=False)
    (cell,) = [c for c in data["cells"] if c["method"] == "pathnet_nofreeze"]
    assert cell["source"] == "CartPole-v1" and cell["seeds"] == 1 and cell["source_identical"] is False
    run = json.loads((tmp_path / "cells" / "pathnet_nofreeze__CartPole-v1-Acrobot-v1__1.json").read_text())
    config = json.loads((tmp_path / run["run_dir"] / "config.json").read_text())
    assert config["evolve"] is True and config["freeze_source"] is False and config["transfer_from"]


OLD = Path(__file__).parent / "fixtures" / "old_format"  # written by pathzero 0020c94: tests/fixtures/make_old_format.py


@pytest.fixture
def old_folders(tmp_path):
    import shutil

    shutil.copytree(OLD, tmp_path / "old")
    return tmp_path / "old"


@pytest.mark.parametrize("agent_name", ["a3c", "pathnet", "gumbel"])
def test_run_folders_made_before_the_registry_resume(old_folders, agent_name):
    (run_dir,) = (old_folders / "runs").glob(f"CartPole-v1__{agent_name}__1__*")
    assert "agent" not in json.loads((run_dir / "config.json").read_text())
    run = pathzero.train(resume=run_dir, total_frames=800, verbose=False)
    assert torch.load(run.dir / "checkpoint.pt", weights_only=True)["state"]["frames"] >= 800
    config = json.loads((run.dir / "config.json").read_text())
    assert config["agent"] == agent_name and "blocks" not in config or agent_name == "a3c"
    assert pathzero.load(run).frames >= 800


def test_a_matrix_folder_made_before_the_method_registry_resumes_and_grows(old_folders):
    options = dict(serial=True, envs_per_worker=2, clip_rewards=True, life_loss=True, layers=2, modules=3, active=2,
                   width=8, hidden=8, population=2, eval_episodes=1)
    matrix = dict(frames=400, logdir=str(old_folders / "matrix"), score_episodes=1, random_episodes=2, bins=2,
                  pairs=[("CartPole-v1", "Acrobot-v1")], methods=["independent", "pathnet", "gumbel"], progress=False)
    cells = sorted(p.name for p in (old_folders / "matrix" / "cells").iterdir())
    before = {name: (old_folders / "matrix" / "cells" / name).read_text() for name in cells}
    data = pathzero.transfer(["CartPole-v1", "Acrobot-v1"], seeds=1, **matrix, **options)
    assert {name: (old_folders / "matrix" / "cells" / name).read_text() for name in cells} == before  # nothing retrained
    assert {c["method"] for c in data["cells"]} == {"pathnet", "gumbel"}
    grown = pathzero.transfer(["CartPole-v1", "Acrobot-v1"], seeds=2, **matrix, **options)
    assert all(c["seeds"] == 2 for c in grown["cells"])
    with pytest.raises(UsageError, match="other settings"):
        pathzero.transfer(["CartPole-v1", "Acrobot-v1"], seeds=1, **matrix, **{**options, "hidden": 16})
