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
from typing import TYPE_CHECKING, Any

from pathzero.agents.common.spawn import entry_point
from pathzero.errors import UsageError

if TYPE_CHECKING:
    from pathzero.agents.alphazero import BoardAgent
    from pathzero.agents.common.trained import Agent


def __getattr__(name: str):
    """`Agent` and `BoardAgent`, imported when first asked for (they import torch)."""
    if name == "Agent":
        from pathzero.agents.common.trained import Agent
        return Agent
    if name == "BoardAgent":
        from pathzero.agents.alphazero import BoardAgent
        return BoardAgent
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def agent_of_run(run_dir: str | Path) -> str:
    """The name of the agent that wrote a run folder: config.json's "agent" (older runs: told by its fields)."""
    from pathzero.agents.common.registry import agent_of_run as of_run

    return of_run(run_dir)


def configure(agent: str = "a3c", options: dict[str, Any] | None = None, *, config: str | Path | None = None,
              resume: str | Path | None = None, verbose: bool = True) -> tuple[str, Any]:
    """(agent, config) of a run: a new one from its game's preset, a TOML `config` file and
    `options` (each over the one before), or the resumed run's config.json with `options` that
    may change on resume. `verbose` prints the preset and the settings in one line each."""
    from pathzero.agents.common.registry import agent as registered
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
        found = registered(agent_of_run(resume))
        if agent is not None and agent != found.name:
            raise UsageError(f"{resume} is a {found.name} run, not {agent}; drop the agent when resuming")
        if config is not None:
            raise UsageError("--config applies to new runs; a resumed run keeps its config.json")
        return found.name, resumed_config(found.config, resume, options, set(found.resumable),
                                          f"pathzero {found.command}")
    agent = agent or "a3c"
    cls = registered(agent).config
    from pathzero.agents.common.settings import check_names, read_toml

    check_names(cls, options, f"the options of agent {agent!r}")
    from_file = read_toml(config, cls) if config is not None else {}
    game = options.get("game", from_file.get("game", cls.game))
    given = {**from_file, **options}
    from pathzero.agents.common.presets import board_preset, describe_preset, preset
    if registered(agent).command == "selfplay":  # board games: a preset per game
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
    from pathzero.agents.common.registry import agent as registered

    entry = registered(chosen)
    if entry.command == "selfplay" and (total_frames is not None or eval_every is not None):
        raise UsageError(f"{chosen} counts iterations, not frames: give iterations= (and its eval_every "
                         "in iterations through options)")
    return Run(Path(entry.train(cfg, resume=resume)))


def load(run_or_checkpoint: str | os.PathLike | Run, *, task: str | None = None, greedy: bool = False,
         simulations: int | None = None, game: str | None = None, seed: int = 0) -> Agent | BoardAgent:
    """The agent in a run folder or checkpoint file: an `Agent` for A3C and PathNet (`task`: which
    of a PathNet's tasks, default its own game), a `BoardAgent` for self-play (`simulations` per
    move, default 64; `game` must match the checkpoint's when given). The checkpoint's format says
    which agent loads it (agents/common/registry.py)."""
    from pathzero.agents.common.registry import load_trained

    path = run_or_checkpoint.dir if isinstance(run_or_checkpoint, Run) else Path(run_or_checkpoint)
    return load_trained(path, task=task, greedy=greedy, simulations=simulations, game=game, seed=seed)


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
    from pathzero.agents.experiment import ExperimentRunConfig
    from pathzero.agents.transfer import MATRIX_SET
    from pathzero.envs import resolve_game

    check_names(ExperimentRunConfig, run_options, "the run options")
    check_backend(backend)
    games = tuple(games)
    if not games:
        raise UsageError("give two or more games")
    spec = resolve_game(games[0])
    base = ExperimentRunConfig(**{**apply_preset(ExperimentRunConfig, spec, run_options), "game": games[0]})
    if progress:  # the preset's values each phase sets itself left out
        print(describe_preset(spec, ExperimentRunConfig, {**run_options, **dict.fromkeys((*MATRIX_SET, "eval_tasks", "revisit"))}))
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


def report(path: str | os.PathLike, out: str | os.PathLike | None = None, *, videos: bool = True) -> Path:
    """A run, matrix, continual or runs folder as a static web page (agents/report.py): writes the site
    into `out` (default: PATH/report) and returns its index.html, which opens from file:// with no server."""
    from pathzero.agents.report import build_report

    return build_report(path, out, videos=videos)


def export(run: str | os.PathLike | Run, out: str | os.PathLike, *, episodes: int = 10, task: str | None = None,
           push: str | None = None) -> Path:
    """A trained agent as a model folder in the Hugging Face Hub's layout (agents/export.py): weights as
    safetensors, config.json, a replay video and a model card; `pathzero.load(out)` reads it back."""
    from pathzero.agents.export import export as write

    return write(run.dir if isinstance(run, Run) else run, out, episodes=episodes, task=task, push=push)
