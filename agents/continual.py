"""Continual learning: one agent trained through a sequence of games, and what it keeps.

For each method and seed the agent trains on games[0], games[1], ... for `frames` each, the whole
sequence `cycles` times. Each phase is a PathNet run that starts from the previous phase's run:

- `finetune`: one fixed pathway; every weight trains on (earlier tasks keep their own heads);
- `ewc`, `wpl`: fine-tuning with a quadratic anchor on the earlier tasks' weights, their importance
  adding up along the sequence (agents/forgetting.py); `ewc@LAMBDA` and `wpl@ALPHA` are the same with
  that strength, so several strengths share one sequence's references;
- `pathnet`: each game's best pathway is frozen after its phase, the next game evolves a new one.

A game met again in a later cycle trains its own task again (fine-tuning variants); PathNet's tasks are
frozen once learned, so a PathNet phase of a game met before trains nothing and is only evaluated.
Every `eval_every` frames every task learned so far is evaluated on its own game
(`evaluation_episodes` whole episodes, unclipped). References per game: a uniform random policy's
mean return R and the single-task learner (the fixed pathway trained on that game alone for
`frames`, seed for seed), whose final evaluation S makes scores comparable across games:
normalised score = (return - R) / (S - R). The figures, per method, mean over seeds with a 95%
bootstrap interval (Continual World's definitions, Wolczyk et al. 2021):

- performance: the normalised score at the end of the sequence, averaged over the games;
- forgetting: per game, the normalised score at the end of its last own phase minus at the end of the
  sequence, averaged over all N games (the game trained last counts with its own forgetting, 0), as
  Continual World's published code does;
- forward transfer: per game, (AUC - AUC_ref) / (1 - AUC_ref), AUC the mean normalised evaluation score
  during the game's first phase and AUC_ref the single-task learner's over the same frames.

Each end point (of a phase, of the sequence) is the mean of the last `end_evaluations` evaluations
inside that phase, not one evaluation. Evaluations are placed on their schedule (every `eval_every`
frames): a run's final evaluation a few frames past its last scheduled one (300,080 for 300,000) is the
same evaluation and is counted once. What is evaluated is each task's own policy: for PathNet the best
pathway known at that moment, for fine-tuning its one pathway; the transfer matrix, by contrast, scores
the training episodes of every pathway evolution tries (agents/transfer.py).

Finished phases are stored as JSON cells under DIR/cells/ as they finish: rerunning resumes.
"""
from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from pathzero.agents.common.backend import Job
from pathzero.agents.common.evaluation import read_task_evals
from pathzero.agents.common.runlog import file_name
from pathzero.agents.common.stats import mean_interval
from pathzero.agents.experiment import Experiment, ExperimentRunConfig, check_folder_settings
from pathzero.agents.experiment import method as find_method
from pathzero.agents.experiment import methods, train_or_resume
from pathzero.envs import UsageError, resolve_game

METHODS = tuple(m.name for m in methods(sequence=True))  # the built-in ones: finetune, ewc, wpl, pathnet
REFERENCE = "independent"  # the method of the single-task learner, whose cells are named "single"


def sequence_methods() -> tuple[str, ...]:
    """The methods a sequence can compare (agents/experiment.py registers them)."""
    return tuple(m.name for m in methods(sequence=True))


def method_kind(method: str) -> tuple[str, float | None]:
    """A method's name and its penalty strength: `ewc` -> (ewc, None: the runs' --ewc-lambda), `ewc@1000`
    -> (ewc, 1000), so that one sequence can compare several strengths against the same references."""
    kind, _, strength = method.partition("@")
    if kind not in sequence_methods():
        raise UsageError(f"unknown method {method!r}; choose from {', '.join(sequence_methods())}, or "
                         "ewc@LAMBDA / wpl@ALPHA")
    if not strength:
        if "@" in method:
            raise UsageError(f"method {method!r} lacks its strength: e.g. {kind}@1000")
        return kind, None
    if find_method(kind).strength is None:
        takes = [m.name for m in methods(sequence=True) if m.strength is not None]
        raise UsageError(f"only {' and '.join(takes)} take a strength (e.g. {takes[0]}@1000), got {method!r}")
    try:
        value = float(strength)
    except ValueError:
        raise UsageError(f"the strength of {method!r} must be a number, e.g. {kind}@1000") from None
    if not value >= 0:
        raise UsageError(f"the strength of {method!r} must be >= 0")
    return kind, value


@dataclass(frozen=True)
class ContinualConfig:
    """A continual-learning sequence: games, cycles, budget per phase, methods, seeds, evaluation."""

    games: tuple[str, ...] = ("MinAtar/Breakout", "MinAtar/SpaceInvaders")
    cycles: int = 1
    frames: int = 200_000
    """Frames of every phase (one game, once)."""
    methods: tuple[str, ...] = METHODS
    seeds: int = 3
    eval_every: int = 50_000
    evaluation_episodes: int = 10
    random_episodes: int = 50
    logdir: str = "runs/continual"
    end_evaluations: int = 3
    """Evaluations whose mean is an end point (of a phase, of the sequence): the last this many in the phase."""
    base: ExperimentRunConfig = field(default_factory=lambda: ExperimentRunConfig(game="MinAtar/Breakout"))

    def __post_init__(self) -> None:
        for method in self.methods:
            method_kind(method)  # a one-line error for an unknown method or a bad strength
        if len(set(self.methods)) != len(self.methods):
            raise UsageError(f"--methods lists a method twice: {list(self.methods)}")
        if not self.methods:
            raise UsageError(f"give at least one method of {', '.join(sequence_methods())}")
        if len(self.games) < 2 or len(set(self.games)) != len(self.games):
            raise UsageError(f"--games needs two or more different games, got {list(self.games)}")
        for name in ("cycles", "frames", "seeds", "eval_every", "evaluation_episodes", "random_episodes",
                     "end_evaluations"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.eval_every > self.frames:
            raise UsageError(f"--eval-every {self.eval_every} is longer than a phase (--frames {self.frames}); "
                             "evaluate at least once per phase")
        for game in self.games:
            resolve_game(game)

    @property
    def phases(self) -> int:
        return len(self.games) * self.cycles

    def game(self, phase: int) -> str:
        return self.games[phase % len(self.games)]


def _key(method: str, seed: int, phase: int | None, game: str | None = None) -> str:
    where = f"{phase}" if phase is not None else file_name(str(game))
    return f"{method}__{seed}__{where}"


class Continual(Experiment):
    """Runs (or resumes) a sequence for every method and seed, then writes its figures."""

    desc = "continual"

    def __init__(self, cfg: ContinualConfig) -> None:
        super().__init__(Path(cfg.logdir), cfg.base)
        self.cfg = cfg

    @classmethod
    def from_folder(cls, root: str | Path, summary: dict | None = None) -> "Continual":
        """The sequence a `pathzero continual` folder was made with (settings.json); its methods and seeds
        from continual.json's `summary` when given, else from the finished cells."""
        from pathzero.agents.common.settings import saved_fields

        root = Path(root)
        s = json.loads((root / "settings.json").read_text())
        if summary is not None:
            names, seeds = list(summary["methods"]), int(summary["seeds"])
        else:
            keys = [p.stem.split("__") for p in (root / "cells").glob("*.json")]
            names = sorted({k[0] for k in keys if k[0] not in ("single", "random")})
            seeds = max([int(k[1]) for k in keys if k[0] not in ("single", "random")], default=1)
        base = ExperimentRunConfig(**{**saved_fields(ExperimentRunConfig, s["base"]), "game": s["games"][0],
                                      "progress": False})
        return cls(ContinualConfig(games=tuple(s["games"]), cycles=s["cycles"], frames=s["frames"],
                                   methods=tuple(names), seeds=seeds, eval_every=s["eval_every"],
                                   evaluation_episodes=s["evaluation_episodes"], logdir=str(root), base=base))

    def normalised_lines(self, refs: dict | None = None) -> dict:
        """Every seed's normalised evaluation score per game over the whole sequence (what continual.png
        draws): {"phases": {game: [[start, end], ...]}, "lines": {game: {method: [{"seed", "x", "y"}]}}}.
        `refs`: the references, if the caller has them already."""
        refs = self.references() if refs is None else refs
        frames = self.cfg.frames
        phases = {g: [[p * frames, (p + 1) * frames] for p in range(self.cfg.phases) if self.cfg.game(p) == g]
                  for g in self.cfg.games}
        lines: dict[str, dict[str, list]] = {g: {} for g in self.cfg.games}
        for game in self.cfg.games:
            env_id = resolve_game(game).env_id
            for method in self.cfg.methods:
                for seed in range(1, self.cfg.seeds + 1):
                    points = [(x, self._normalise(game, v, refs)) for x, g, v in self.timeline(method, seed)
                              if g == env_id]
                    lines[game].setdefault(method, []).append(
                        {"seed": seed, "x": [x for x, _ in points], "y": [y for _, y in points]})
        return {"phases": phases, "lines": lines}

    # -- cells -------------------------------------------------------------------------------------
    def _load(self, key: str) -> dict | None:
        path = self.cell_path(key)
        return json.loads(path.read_text()) if path.exists() else None

    def check_settings(self) -> None:
        from pathzero.agents.transfer import comparable_base

        settings = {"games": list(self.cfg.games), "cycles": self.cfg.cycles, "frames": self.cfg.frames,
                    "eval_every": self.cfg.eval_every, "evaluation_episodes": self.cfg.evaluation_episodes,
                    "base": comparable_base(asdict(self.cfg.base))}
        check_folder_settings(self.root / "settings.json", settings, settings, "sequence",
                              normalise=lambda s: {**s, "base": comparable_base(s.get("base") or {})})

    # -- runs --------------------------------------------------------------------------------------
    def run_config(self, method: str, seed: int, phase: int | None, game: str, source: str | None,
                   revisit: bool):
        """The config of one run: `method`'s phase (from the run `source`), or (phase None) the single-task
        learner's run on `game`."""
        name, strength = method_kind(method) if phase is not None else (REFERENCE, None)
        entry = find_method(name)
        values = {"game": game, "total_frames": self.cfg.frames, "seed": self.base.seed * 1000 + seed,
                  "logdir": str(self.root / "runs" / _key(method if phase is not None else "single", seed, phase, game)),
                  "transfer_from": source, "progress": False, "replay_episodes": 0, "eval_every": self.cfg.eval_every,
                  "evaluation_episodes": self.cfg.evaluation_episodes, "eval_tasks": True, "revisit": revisit}
        if strength is not None:
            values[entry.strength] = strength
        return entry.config(self.base, values, from_source=source is not None)

    def _train(self, method: str, seed: int, phase: int | None, game: str, source: str | None,
               revisit: bool) -> Path:
        """Trains (or resumes) one run (see run_config); returns its folder."""
        agent = find_method(method_kind(method)[0] if phase is not None else REFERENCE).agent
        return train_or_resume(self.run_config(method, seed, phase, game, source, revisit), agent)

    def _phase(self, method: str, seed: int, phase: int) -> dict:
        key = _key(method, seed, phase)
        done = self._load(key)
        if done is not None:
            return done
        game = self.cfg.game(phase)
        previous = self._phase(method, seed, phase - 1) if phase else None
        source = None if previous is None else previous["last_run"]
        seen = phase >= len(self.cfg.games)  # a later cycle: the game has a task already
        if find_method(method_kind(method)[0]).freezes and seen:  # a frozen task: nothing to train, only evaluated
            result = {"method": method, "seed": seed, "phase": phase, "game": game, "trained": False,
                      "last_run": source, "run_dir": None}
            return self.store(key, result)
        run_dir = self._train(method, seed, phase, game, None if source is None else str(self.root / source), seen)
        result = {"method": method, "seed": seed, "phase": phase, "game": game, "trained": True,
                  "run_dir": str(run_dir.relative_to(self.root)), "last_run": str(run_dir.relative_to(self.root))}
        return self.store(key, result)

    def _single(self, game: str, seed: int) -> dict:
        key = _key("single", seed, None, game)
        done = self._load(key)
        if done is not None:
            return done
        run_dir = self._train(REFERENCE, seed, None, game, None, False)
        evals = read_task_evals(run_dir)
        return self.store(key, {"game": game, "seed": seed, "run_dir": str(run_dir.relative_to(self.root)),
                                 "evals": [[e["frames"], e["mean_return"]] for e in evals]})

    def _random(self, game: str) -> dict:
        from pathzero.agents.transfer import random_returns

        key = _key("random", 0, None, game)
        done = self._load(key)
        if done is not None:
            return done
        returns = random_returns(game, self.cfg.random_episodes, seed=90_000)
        return self.store(key, {"game": game, "mean": float(np.mean(returns)), "episodes": len(returns)})

    def jobs(self) -> list[Job]:
        """Every run as a job, finished ones marked done: the references, then each method's phases, a
        phase needing the phase before it (its run starts from that one)."""
        seeds, games = range(1, self.cfg.seeds + 1), self.cfg.games
        jobs = [Job(_key("random", 0, None, g), partial(self._random, g)) for g in games]
        jobs += [Job(_key("single", s, None, g), partial(self._single, g, s)) for s in seeds for g in games]
        jobs += [Job(_key(m, s, p), partial(self._phase, m, s, p), (_key(m, s, p - 1),) if p else ())
                 for s in seeds for m in self.cfg.methods for p in range(self.cfg.phases)]
        for job in jobs:
            job.done = self.cell_path(job.key).exists()
        return jobs

    # -- figures -----------------------------------------------------------------------------------
    def timeline(self, method: str, seed: int) -> list[tuple[float, str, float]]:
        """(frames since the sequence began, game, mean return) of every evaluation of the sequence, on
        the evaluation schedule (see `on_schedule`); a phase that trains nothing repeats the last scores
        at its end."""
        out: list[tuple[float, str, float]] = []
        for phase in range(self.cfg.phases):
            cell = self._load(_key(method, seed, phase))
            offset = phase * self.cfg.frames
            if not cell["trained"]:
                last = {}
                for _, game, value in out:
                    last[game] = value
                out += [(offset + self.cfg.frames, game, value) for game, value in last.items()]
                continue
            evals = [(e["frames"], e["game"], e["mean_return"]) for e in read_task_evals(self.root / cell["run_dir"])]
            out += [(offset + x, g, v) for x, g, v in on_schedule(evals, self.cfg.eval_every, self.cfg.frames)]
        return out

    def _normalise(self, game: str, value: float, refs: dict) -> float:
        floor, single = refs[game]
        return (value - floor) / (single - floor) if single != floor else float("nan")

    def _reference_evals(self, game: str) -> list[list[tuple[float, float]]]:
        """The single-task learner's evaluations on `game`, one list per seed, on the schedule."""
        runs = [self._load(_key("single", s, None, game))["evals"] for s in range(1, self.cfg.seeds + 1)]
        return [[(x, v) for x, _, v in on_schedule([(x, game, v) for x, v in run], self.cfg.eval_every,
                                                    self.cfg.frames)] for run in runs]

    def references(self) -> dict[str, tuple[float, float]]:
        """game -> (random mean, single-task learner's end point (the mean of its last `end_evaluations`
        evaluations), mean over seeds)."""
        refs = {}
        for game in self.cfg.games:
            ends = [np.mean([v for _, v in run[-self.cfg.end_evaluations:]]) for run in self._reference_evals(game)]
            refs[game] = (self._load(_key("random", 0, None, game))["mean"], float(np.mean(ends)))
        return refs

    def figures(self, method: str, seed: int, refs: dict) -> dict[str, float]:
        env_ids = {g: resolve_game(g).env_id for g in self.cfg.games}
        line = [(x, g, v) for x, g, v in self.timeline(method, seed)]
        by_id = {env_ids[g]: g for g in self.cfg.games}
        normalised = [(x, by_id[g], self._normalise(by_id[g], v, refs)) for x, g, v in line if g in by_id]
        reference = {g: [[(x, self._normalise(g, v, refs)) for x, v in run] for run in self._reference_evals(g)]
                     for g in self.cfg.games}
        return sequence_metrics(normalised, [self.cfg.game(p) for p in range(self.cfg.phases)], self.cfg.frames,
                                reference, self.cfg.end_evaluations)

    def summary(self) -> dict:
        refs = self.references()
        out: dict[str, Any] = {}
        for method in self.cfg.methods:
            per_seed = [self.figures(method, s, refs) for s in range(1, self.cfg.seeds + 1)]
            entry = {}
            for name in per_seed[0]:
                values = np.array([f[name] for f in per_seed], dtype=float)
                if np.isfinite(values).all():
                    est = mean_interval(values)
                    entry[name] = {"value": est.value, "ci_low": est.low, "ci_high": est.high,
                                   "seeds": values.tolist()}
                else:
                    entry[name] = {"value": None, "ci_low": None, "ci_high": None, "seeds": values.tolist(),
                                   "note": "undefined for a seed: forward transfer needs the single-task learner's "
                                           "mean normalised score over training (AUC_ref) below 1"}
            out[method] = entry
        return out

    def write_outputs(self) -> dict:
        refs = self.references()
        notes = [f"{g}: the single-task learner ({refs[g][1]:.3g}) did not beat random ({refs[g][0]:.3g}); "
                 "normalised scores there are not meaningful" for g in self.cfg.games if refs[g][1] <= refs[g][0]]
        data = {"games": list(self.cfg.games), "cycles": self.cfg.cycles, "frames": self.cfg.frames,
                "methods": list(self.cfg.methods), "seeds": self.cfg.seeds,
                "references": {g: {"random": r, "single_task": s} for g, (r, s) in refs.items()},
                "end_evaluations": self.cfg.end_evaluations,
                "evaluated": "each task's own policy every eval_every frames: PathNet's best pathway at that moment, "
                             "fine-tuning's one pathway (a transfer matrix scores every pathway's training episodes)",
                "notes": notes, "summary": self.summary()}
        (self.root / "continual.json").write_text(json.dumps(data, indent=1) + "\n")
        with (self.root / "continual.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["method", "figure", "value", "ci_low", "ci_high", "seeds"])
            for method, entry in data["summary"].items():
                for name, est in entry.items():
                    writer.writerow([method, name, est["value"], est["ci_low"], est["ci_high"], len(est["seeds"])])
        self.plot(refs).savefig(self.root / "continual.png", dpi=120)
        return data

    def plot(self, refs: dict):
        import matplotlib.pyplot as plt

        games = self.cfg.games
        drawn = self.normalised_lines(refs)
        fig, axes = plt.subplots(len(games), 1, figsize=(7.5, 2.2 * len(games) + 0.6), sharex=True, squeeze=False)
        colours = plt.get_cmap("tab10")
        for row, game in enumerate(games):
            ax = axes[row][0]
            for start, end in drawn["phases"][game]:
                ax.axvspan(start, end, color="0.9", zorder=0)
            for k, method in enumerate(self.cfg.methods):
                lines = [line for line in drawn["lines"][game].get(method, []) if line["x"]]
                for line in lines:
                    ax.plot(line["x"], line["y"], color=colours(k), alpha=0.25, lw=0.8)
                points = [dict(zip(line["x"], line["y"])) for line in lines]
                common = sorted(set.intersection(*(set(p) for p in points))) if points else []
                if common:
                    ax.plot(common, [np.mean([p[x] for p in points]) for x in common], color=colours(k), lw=1.8,
                            label=method if row == 0 else None)
            ax.axhline(1.0, color="0.4", ls="--", lw=0.8)
            ax.axhline(0.0, color="0.4", ls=":", lw=0.8)
            ax.set_ylabel(f"{game}\n(0 random, 1 single)", fontsize=8)
        axes[-1][0].set_xlabel("frames since the sequence began (grey: the game's own training phases)")
        axes[0][0].legend(fontsize=7, ncol=len(self.cfg.methods), loc="upper right")
        fig.suptitle(f"Continual: {' -> '.join(games)} x {self.cfg.cycles}, {self.cfg.seeds} seeds")
        fig.tight_layout()
        return fig


def on_schedule(evals: list[tuple[float, str, float]], every: int, budget: int) -> list[tuple[float, str, float]]:
    """Evaluations (frames, game, value) placed on their schedule point, the nearest multiple of `every`
    (at most `budget`), each game's first evaluation at a point kept: a run's final evaluation a few
    frames past its last scheduled one is that evaluation again."""
    seen, out = set(), []
    for frames, game, value in evals:
        point = min(round(frames / every) * every, budget)
        if (point, game) not in seen:
            seen.add((point, game))
            out.append((float(point), game, value))
    return out


def sequence_metrics(line: list[tuple[float, str, float]], phases: list[str], frames: int,
                     reference: dict[str, list[list[tuple[float, float]]]], window: int) -> dict[str, float]:
    """Continual World's figures (Wolczyk et al. 2021) of one seed's sequence.

    line: (frames since the sequence began, game, normalised score) of every evaluation, on schedule;
    phases: the game trained in each phase, `frames` each; reference: per game, the single-task learner's
    normalised evaluations (frames, score), one list per seed; window: evaluations whose mean is an end point.
    """
    games = list(dict.fromkeys(phases))

    def inside(game: str, phase: int) -> list[float]:
        return [v for x, g, v in line if g == game and phase * frames < x <= (phase + 1) * frames]

    def end(game: str, phase: int) -> float:
        return float(np.mean(inside(game, phase)[-window:]))

    final = {g: end(g, len(phases) - 1) for g in games}
    last_own = {g: max(p for p, game in enumerate(phases) if game == g) for g in games}
    forgetting = [end(g, last_own[g]) - final[g] for g in games]  # the game trained last: 0
    transfers = []
    for g in games:
        first = phases.index(g)
        auc = float(np.mean(inside(g, first)))
        auc_ref = float(np.mean([v for run in reference[g] for _, v in run]))
        transfers.append((auc - auc_ref) / (1 - auc_ref) if auc_ref < 1 else float("nan"))
    return {"performance": float(np.mean(list(final.values()))), "forgetting": float(np.mean(forgetting)),
            "forward_transfer": float(np.nanmean(transfers)) if np.isfinite(transfers).any() else float("nan"),
            **{f"final/{g}": final[g] for g in games}}


def summary_table(data: dict) -> str:
    width = max(10, *(len(m) for m in data["summary"]))
    lines = [f"{'method':<{width}} {'performance':>26} {'forgetting':>26} {'forward transfer':>26}"]

    def text(est: dict) -> str:
        if est["value"] is None:
            return "undefined"
        if est["ci_low"] is None:
            return f"{est['value']:+.3f}"
        return f"{est['value']:+.3f} [{est['ci_low']:+.3f}, {est['ci_high']:+.3f}]"

    for method, entry in data["summary"].items():
        lines.append(f"{method:<{width}} {text(entry['performance']):>26} {text(entry['forgetting']):>26} "
                     f"{text(entry['forward_transfer']):>26}")
    return "\n".join(lines + data["notes"])
