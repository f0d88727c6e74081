"""pathzero's Python API: train a run, load what it learned, act and evaluate.

    import pathzero

    run = pathzero.train(game="MinAtar/Breakout", agent="a3c", total_frames=500_000, eval_every=100_000)
    run.dir, run.evals()[-1]["mean_return"]
    agent = pathzero.load(run)                      # or a run folder / checkpoint.pt path
    action = agent.act(observation)                 # one observation as the game's env gives it
    scores = agent.evaluate(episodes=10)            # unclipped game scores (ALE v5 protocol)

    board = pathzero.load("runs/tictactoe__alphazero__1__...")   # a self-play checkpoint
    move = board.act([4, 0])                         # the moves played so far
    results = board.evaluate(episodes=20, opponent="perfect")    # +1 / 0 / -1 per game

The commands (`pathzero train`, `watch`, `evaluate`) are built on these functions, so a run made
here and one made by the command with the same settings are the same run.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pathzero.agents.common.spawn import entry_point
from pathzero.envs.errors import UsageError

AGENTS = ("a3c", "pathnet", "gumbel", "alphazero")
# Settings a resumed run may change; the rest are fixed by its config.json.
RESUMABLE = {
    "a3c": {"total_frames", "workers", "progress", "checkpoint_minutes", "replay_episodes", "replay_max_steps",
            "serial", "target_return", "eval_every", "evaluation_episodes", "eval_greedy", "eval_video_every",
            "backend", "ray_address", "vector_env"},
    "alphazero": {"iterations", "progress", "eval_games", "workers", "parallel_games", "max_minutes", "eval_every",
                  "eval_opponents", "eval_simulations", "opponent_simulations"},
}
RESUMABLE["pathnet"] = RESUMABLE["gumbel"] = RESUMABLE["a3c"]


def config_class(agent: str) -> type:
    if agent == "a3c":
        from pathzero.agents.a3c import A3CConfig
        return A3CConfig
    if agent == "pathnet":
        from pathzero.agents.pathnet import PathNetConfig
        return PathNetConfig
    if agent == "gumbel":
        from pathzero.agents.gumbel import GumbelConfig
        return GumbelConfig
    if agent == "alphazero":
        from pathzero.agents.alphazero import AlphaZeroConfig
        return AlphaZeroConfig
    raise UsageError(f"unknown agent {agent!r}; choose one of {', '.join(AGENTS)}")


def agent_of_run(run_dir: str | Path) -> str:
    """Which agent wrote a run folder, told by the fields of its config.json."""
    from pathzero.agents.common.runlog import read_config

    keys = set(read_config(Path(run_dir)))  # settings that every version of each agent wrote
    if {"iterations", "simulations"} <= keys:
        return "alphazero"
    if {"tau_start", "tau_end", "flops_penalty"} <= keys:
        return "gumbel"
    return "pathnet" if {"layers", "modules", "active", "population"} <= keys else "a3c"


def configure(agent: str = "a3c", options: dict[str, Any] | None = None, *, config: str | Path | None = None,
              resume: str | Path | None = None, verbose: bool = True) -> tuple[str, Any]:
    """(agent, config) of a run: a new one from its game's preset, a TOML `config` file and
    `options` (each over the one before), or the resumed run's config.json with `options` that
    may change on resume. `verbose` prints the preset and the settings in one line each."""
    from pathzero.agents.common.settings import build_config, describe_settings, resumed_config

    options = dict(options or {})
    if resume is not None:
        if Path(resume).is_file() and (Path(resume).parent / "config.json").is_file():
            raise UsageError(f"{resume} is a file; --resume takes its run folder: {Path(resume).parent}")
        if not (Path(resume) / "config.json").is_file():
            missing = ("it is a file" if Path(resume).is_file() else "it does not exist" if not Path(resume).exists()
                       else "no config.json in it")
            raise UsageError(f"{resume} is not a run folder ({missing}); give a folder made by pathzero train "
                             "or selfplay, e.g. runs/Pong__a3c__1__20260101-120000")
        found = agent_of_run(resume)
        if agent is not None and agent != found:
            raise UsageError(f"{resume} is a {found} run, not {agent}; drop the agent when resuming")
        if config is not None:
            raise UsageError("--config applies to new runs; a resumed run keeps its config.json")
        command = "pathzero selfplay" if found == "alphazero" else "pathzero train"
        return found, resumed_config(config_class(found), resume, options, RESUMABLE[found], command)
    agent = agent or "a3c"
    cls = config_class(agent)
    from pathzero.agents.common.settings import check_names, read_toml

    check_names(cls, options, f"the options of agent {agent!r}")
    from_file = read_toml(config, cls) if config is not None else {}
    game = options.get("game", from_file.get("game", cls.game))
    given = {**from_file, **options}
    from pathzero.agents.common.presets import board_preset, describe_preset, preset
    if agent == "alphazero":
        values, line = board_preset(game), describe_preset("board", cls, given, board_preset(game))
    else:
        from pathzero.envs import resolve_game

        spec = resolve_game(game)
        values, line = preset(spec, cls), describe_preset(spec, cls, given)
    cfg = build_config(cls, options, preset=values, file=config)
    if verbose:
        print(line)
        print(describe_settings(cfg))
    return agent, cfg


@dataclass(frozen=True)
class Run:
    """A run folder: `dir` holds config.json, checkpoint.pt, TensorBoard events, episodes.csv
    (training episodes), evals.csv and eval_returns.csv (evaluations) and replay.mp4."""

    dir: Path

    def __fspath__(self) -> str:
        return str(self.dir)

    def __str__(self) -> str:
        return str(self.dir)

    @property
    def config(self) -> dict:
        from pathzero.agents.common.runlog import read_config

        return read_config(self.dir)

    def episodes(self) -> list[dict[str, float]]:
        """Training episodes: frames, wall_seconds, return, length, worker, session, row (integers but
        wall_seconds and return; see agents/common/runlog.py)."""
        from pathzero.agents.common.runlog import read_episodes

        return read_episodes(self.dir)

    def evals(self) -> list[dict[str, float]]:
        """Evaluations: frames, episodes (integers), mean_return, median_return, ci_low, ci_high, wall_seconds."""
        from pathzero.agents.common.evaluation import read_evals

        return read_evals(self.dir)

    def load(self, **kwargs) -> "Agent | BoardAgent":
        return load(self.dir, **kwargs)

    def plot(self, path: str | Path | None = None) -> Path:
        """The learning curve as a PNG (`learning_curve.png` in the run folder unless `path`): training
        returns and evaluations with their intervals, against frames and against wall-clock hours."""
        from pathzero.agents.pictures import plt, run_curve

        fig, _ = run_curve(self.dir, agent_of_run(self.dir))
        out = Path(path) if path is not None else self.dir / "learning_curve.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=110)
        plt.close(fig)
        return out


@entry_point
def train(game: str | None = None, agent: str | None = "a3c", total_frames: int | None = None,
          logdir: str | None = None, eval_every: int | None = None, *, config: str | Path | None = None,
          resume: str | Path | None = None, verbose: bool = True, **options) -> Run:
    """Trains an agent and returns its run.

    `agent`: "a3c", "pathnet" or "gumbel" (PathNet's grid with a Gumbel-softmax pathway search;
    Atari, MinAtar, classic control), or "alphazero" (self-play on
    tictactoe or connect_four; its budget is `iterations`, not frames). `options` are the agent's
    settings by their config names (`pathzero train --help`: --entropy-coef is entropy_coef).
    The game family's preset, then the TOML file `config`, then these arguments decide each
    setting. `resume`: a run folder to continue (only the settings that may change on resume).
    Bad settings raise pathzero.envs.UsageError with what was wrong; a dying worker raises
    TrainingError after writing a checkpoint.
    """
    named = {"game": game, "total_frames": total_frames, "logdir": logdir, "eval_every": eval_every}
    options = {**{k: v for k, v in named.items() if v is not None}, **options}
    if resume is not None and agent == "a3c":
        agent = None  # the run folder says which
    chosen, cfg = configure(agent, options, config=config, resume=resume, verbose=verbose)
    if chosen == "alphazero":
        if total_frames is not None or eval_every is not None:
            raise UsageError("alphazero counts iterations, not frames: give iterations= (and its eval_every "
                             "in iterations through options)")
        from pathzero.agents.alphazero import train_alphazero
        return Run(Path(train_alphazero(cfg, resume=resume)))
    if chosen == "pathnet":
        from pathzero.agents.pathnet import train_pathnet
        return Run(Path(train_pathnet(cfg, resume=resume)))
    if chosen == "gumbel":
        from pathzero.agents.gumbel import train_gumbel
        return Run(Path(train_gumbel(cfg, resume=resume)))
    from pathzero.agents.a3c import train as train_a3c
    return Run(Path(train_a3c(cfg, resume=resume)))


class Agent:
    """A trained A3C or PathNet policy on its game (PathNet: one task, along its best pathway).

    `act` takes one observation as the game's environment gives it (or a batch of them) and
    returns an action (or an array of actions); `evaluate` plays whole episodes with the
    evaluation protocol (ALE v5: sticky actions 0.25, up to 30 no-ops, full episodes up to 108k
    frames; scores unclipped)."""

    def __init__(self, model, game: str, *, frames: int, greedy: bool = False, task: str | None = None,
                 kind: str = "a3c", seed: int = 0) -> None:
        import torch

        from pathzero.envs import resolve_game

        self.model, self.game, self.frames, self.greedy = model.eval(), game, frames, greedy
        self.task, self.kind = task, kind
        self.spec = resolve_game(game)
        self._generator = torch.Generator().manual_seed(seed)

    def __repr__(self) -> str:
        task = f", task {self.task}" if self.task else ""
        return f"<pathzero {self.kind} agent on {self.spec.env_id}{task}, {self.frames:,} frames>"

    def act(self, observation, greedy: bool | None = None):
        import torch

        from pathzero.agents.rollout import sample_actions

        obs = torch.as_tensor(np.asarray(observation))
        single = obs.dim() == len(self.model_obs_shape)
        actions = sample_actions(self.model, obs[None] if single else obs,
                                 self.greedy if greedy is None else greedy, self._generator)
        return int(actions[0]) if single else actions.numpy()

    @property
    def model_obs_shape(self) -> tuple[int, ...]:
        from pathzero.agents.common.runner import game_shapes

        if not hasattr(self, "_obs_shape"):
            self._obs_shape = game_shapes(self.spec)[0]
        return self._obs_shape

    def make_env(self, render: bool = False):
        """An environment of the agent's game with the evaluation protocol."""
        from pathzero.envs import make_env

        return make_env(self.spec, render=render)

    def play(self, episodes: int = 1, *, seed: int = 0, greedy: bool | None = None, max_steps: int | None = None,
             video: str | Path | None = None) -> list:
        """Plays whole episodes; returns their results (score, length); `video`: an .mp4 or .gif path."""
        from pathzero.agents.replay import VideoWriter, play, video_fps

        if episodes < 1:
            raise UsageError(f"episodes must be >= 1, got {episodes}")
        writer = VideoWriter(video, video_fps(self.spec)) if video else None
        try:
            return play(self.model, self.spec, episodes=episodes, seed=seed,
                        greedy=self.greedy if greedy is None else greedy, max_steps=max_steps, video=writer)
        finally:
            if writer is not None:
                writer.close()

    def evaluate(self, episodes: int = 10, *, seed: int = 0, greedy: bool | None = None,
                 max_steps: int | None = None) -> list[float]:
        """The unclipped scores of `episodes` whole episodes (env seeds seed, seed + 1, ...)."""
        return [r.ret for r in self.play(episodes, seed=seed, greedy=greedy, max_steps=max_steps)]


class BoardAgent:
    """A self-play network guiding MCTS on its board game."""

    def __init__(self, player, frames_or_iteration: int = 0) -> None:
        self.player, self.game, self.iteration = player, player.game, frames_or_iteration

    def __repr__(self) -> str:
        return f"<pathzero alphazero agent on {self.game.name}, iteration {self.iteration}>"

    def act(self, history: list[int]) -> int:
        """The move to play after `history` (the OpenSpiel action numbers played so far)."""
        return self.player.select_move(list(history))

    def match(self, episodes: int = 10, *, opponent: str = "random", seed: int = 0,
              opponent_simulations: int = 1000):
        """A match of `episodes` games, both colours: wins, draws, losses and every game's record."""
        from pathzero.agents.players import make_opponent, play_match

        if episodes < 1:
            raise UsageError(f"episodes must be >= 1, got {episodes}")
        rival = make_opponent(opponent, self.game, seed=seed, simulations=opponent_simulations)
        return play_match(self.game, self.player, rival, episodes)

    def evaluate(self, episodes: int = 10, *, opponent: str = "random", seed: int = 0,
                 opponent_simulations: int = 1000) -> list[float]:
        """Each game's result for the agent (+1 win, 0 draw, -1 loss), moving first in every other game."""
        result = self.match(episodes, opponent=opponent, seed=seed, opponent_simulations=opponent_simulations)
        return [float(r["result"]) for r in result.records]


def load(run_or_checkpoint: str | os.PathLike | Run, *, task: str | None = None, greedy: bool = False,
         simulations: int = 64, game: str | None = None, seed: int = 0) -> Agent | BoardAgent:
    """The agent in a run folder or checkpoint file: an `Agent` for A3C and PathNet (`task`: which
    of a PathNet's tasks, default its own game), a `BoardAgent` for self-play (`simulations` per
    move; `game` must match the checkpoint's when given)."""
    from pathzero.agents.a3c import CHECKPOINT_FORMAT as A3C
    from pathzero.agents.alphazero import CHECKPOINT_FORMAT as ALPHAZERO
    from pathzero.agents.common.checkpoint import load_checkpoint
    from pathzero.agents.pathnet import CHECKPOINT_FORMAT as PATHNET

    path = run_or_checkpoint.dir if isinstance(run_or_checkpoint, Run) else Path(run_or_checkpoint)
    kind = load_checkpoint(path, (A3C, PATHNET, ALPHAZERO))["format"]
    if kind == ALPHAZERO:
        from pathzero.agents.alphazero import load_player

        if task is not None:
            raise UsageError("task (--task) applies to PathNet runs only")
        return BoardAgent(load_player(path, simulations=simulations, game=game))
    if game is not None:
        raise UsageError("game applies to self-play checkpoints only; an Atari or MinAtar agent plays its own game")
    if kind == PATHNET:
        from pathzero.agents.pathnet import load_pathnet_policy

        ckpt, policy, played = load_pathnet_policy(path, task)
        return Agent(policy, played, frames=ckpt["state"]["frames"], greedy=greedy, task=policy.task,
                     kind="pathnet", seed=seed)
    if task is not None:
        raise UsageError("task (--task) applies to PathNet runs only")
    from pathzero.agents.a3c import load_a3c_checkpoint

    ckpt, model = load_a3c_checkpoint(path)
    return Agent(model, ckpt["game"], frames=ckpt["state"]["frames"], greedy=greedy, seed=seed)


@entry_point
def continual(games: list[str], *, cycles: int = 1, frames: int | None = None, methods=None, seeds: int | None = None,
              eval_every: int | None = None, evaluation_episodes: int | None = None, random_episodes: int | None = None,
              end_evaluations: int | None = None, logdir: str | None = None, progress: bool = True, backend: str = "local",
              ray_address: str | None = None, ray_dashboard: bool = False, **run_options) -> dict:
    """A continual-learning sequence (agents/continual.py), run or resumed: returns {"dir", "summary",
    ...} as in continual.json. `run_options`: every run's settings by name, over the first game's preset.
    `backend="ray"`: every run a Ray task (the cluster at `ray_address`, or one started here)."""
    from pathzero.agents.common.backend import check_backend
    from pathzero.agents.common.presets import apply_preset, describe_preset
    from pathzero.agents.common.settings import check_names
    from pathzero.agents.continual import METHODS, Continual, ContinualConfig
    from pathzero.agents.pathnet import PathNetConfig
    from pathzero.agents.transfer import MATRIX_SET
    from pathzero.envs import resolve_game

    check_names(PathNetConfig, run_options, "the run options")
    check_backend(backend)
    games = tuple(games)
    if not games:
        raise UsageError("give two or more games")
    spec = resolve_game(games[0])
    base = PathNetConfig(**{**apply_preset(PathNetConfig, spec, run_options), "game": games[0]})
    if progress:  # the preset's values each phase sets itself left out
        print(describe_preset(spec, PathNetConfig, {**run_options, **dict.fromkeys((*MATRIX_SET, "eval_tasks", "revisit"))}))
    defaults = {f.name: f.default for f in dataclasses.fields(ContinualConfig) if f.default is not dataclasses.MISSING}
    chosen = {"frames": frames, "seeds": seeds, "eval_every": eval_every, "evaluation_episodes": evaluation_episodes,
              "random_episodes": random_episodes, "logdir": logdir, "end_evaluations": end_evaluations}
    cfg = ContinualConfig(games=games, cycles=cycles, methods=tuple(methods or METHODS), base=base,
                          **{k: defaults[k] if v is None else v for k, v in chosen.items()})
    data = Continual(cfg).run(progress=progress, backend=backend, ray_address=ray_address, ray_dashboard=ray_dashboard)
    if progress:
        print(f"sequence folder: {cfg.logdir} (continual.json, continual.csv, continual.png)")
    return {"dir": Path(cfg.logdir), **data}


@entry_point
def transfer(games: list[str], **options) -> dict:
    """A transfer matrix (agents/transfer.py), run or resumed: `pathzero.transfer(games=[...],
    frames=..., seeds=..., logdir=...)` returns {"dir", "summary", "cells", ...} as in matrix.json.
    Options: `pathzero transfer`'s (methods, pairs, diagonal, random_episodes, ...) and every run's
    settings by their names (lr=..., workers=...)."""
    from pathzero.agents.transfer import transfer_matrix

    return transfer_matrix(games, **options)
