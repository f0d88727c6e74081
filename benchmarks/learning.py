"""`python -m benchmarks learning`: how fast A3C learns, on the suites researchers compare against.

    python -m benchmarks learning --suite minatar          # 5 MinAtar games x 3 seeds x 5M frames
    python -m benchmarks learning --suite pong             # Pong, 3 seeds x 10M frames and 1 seed x 40M
    python -m benchmarks learning --suite atari5           # Atari-5, 1 seed x 10M frames each
    python -m benchmarks learning --suite minatar --report-only   # the section from the runs finished so far

Every run is `pathzero train` with the game's defaults (its family's preset, no tuning flags) in a
folder of its own under --logdir (`<suite>/<game>__seed-<s>/`, `__long__` for the long Pong run).
The bench is resumable: a finished run (its results.json) is skipped, a run cut short (a checkpoint,
no results.json) resumes from its last checkpoint, so the hours a suite takes can run in slices.
Each slice notes the machine it ran on (slices.json beside the run folder, then in results.json), and the
section says which machine ran which run: frames/s compare only within one machine.
Then it writes a section of docs/BENCHMARKS.md per suite: the evaluation curves of every game (each
seed, their mean and its 95% bootstrap interval, the published anchors as dashed lines), the final
scores against the anchors, and per suite what its goal asks (Pong: frames and wall time to +18 and
+20; Atari-5: the estimate of the 57-game median human-normalised score).
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from pathzero.agents.common.runlog import file_name
from pathzero.agents.common.stats import REPS, Estimate, iqm, percentiles

DEFAULT_DOC = "docs/BENCHMARKS.md"
DEFAULT_LOGDIR = "docs/bench-runs/learning"


@dataclass(frozen=True)
class Suite:
    games: tuple[str, ...]
    seeds: int
    frames: int
    long_seeds: int = 0
    long_frames: int = 0


SUITES = {
    "pong": Suite(("Pong",), seeds=3, frames=10_000_000, long_seeds=1, long_frames=40_000_000),
    "minatar": Suite(("MinAtar/Asterix", "MinAtar/Breakout", "MinAtar/Freeway", "MinAtar/Seaquest",
                      "MinAtar/SpaceInvaders"), seeds=3, frames=5_000_000),
    "atari5": Suite(("BattleZone", "DoubleDunk", "NameThisGame", "Phoenix", "Qbert"), seeds=1, frames=10_000_000),
}

# Published anchors (../shared/REFERENCE.md). MinAtar: Young & Tian (2019), AC(lambda) at 5M frames;
# gymnax's PPO after 10M steps (the goal asks for it in half the frames).
MINATAR_AC_LAMBDA = {"Asterix": 19.0, "Breakout": 17.5, "Freeway": 47.0, "Seaquest": 15.0, "SpaceInvaders": 185.0}
MINATAR_PPO_10M = {"Breakout": 28.0, "SpaceInvaders": 131.0}
# Pong with sticky actions, 40M frames: SLM-Lab's A2C and PPO.
PONG_ANCHORS = {"SLM-Lab A2C, 40M": 10.2, "SLM-Lab PPO, 40M": 16.7}
PONG_TARGETS = (18.0, 20.0)

# Atari-5 (Aitchison, Sweetser & Hutter 2023): the 57-game median human-normalised score (in %) is
# estimated as 10 ** sum_g w_g * log10(1 + max(0, HNS_g)) - 1, a regression without intercept. Weights:
# maitchison/PPO tools/plot_util.py (AtariScoreNormalizer.SUBSETS["Atari_5"], cross-validated error 10.4%);
# random and human scores: maitchison/Atari-5 Atari-Human.csv (the Agent57 / DQN Zoo table).
ATARI5_WEIGHTS = {"BattleZone": 0.3819751237831753, "DoubleDunk": 0.0679099488887574,
                  "NameThisGame": 0.310804148620847, "Phoenix": 0.12412619402774641, "Qbert": 0.08048518286466755}
ATARI5_RANDOM_HUMAN = {"BattleZone": (2360.0, 37187.5), "DoubleDunk": (-18.55, -16.4),
                       "NameThisGame": (2292.35, 8049.0), "Phoenix": (761.4, 7242.6), "Qbert": (163.88, 13455.0)}


def human_normalised(game: str, score: float) -> float:
    """(score - random) / (human - random), in percent."""
    random, human = ATARI5_RANDOM_HUMAN[game]
    return 100.0 * (score - random) / (human - random)


def atari5_median_estimate(scores: dict[str, float]) -> float:
    """The Atari-5 estimate of the 57-game median human-normalised score (%) from the five games' scores."""
    missing = sorted(set(ATARI5_WEIGHTS) - set(scores))
    if missing:
        raise ValueError(f"Atari-5 needs a score for every one of its games; missing {', '.join(missing)}")
    log_sum = sum(w * np.log10(1.0 + max(0.0, human_normalised(g, scores[g]))) for g, w in ATARI5_WEIGHTS.items())
    return float(10.0 ** log_sum - 1.0)


def atari5_median_interval(returns: dict[str, list[float]], reps: int = REPS, seed: int = 0) -> Estimate:
    """The estimate from each game's mean evaluation return, with a 95% percentile-bootstrap interval
    over evaluation episodes: each game's episodes resampled within that game (a stratified
    bootstrap). With one seed per game this is the spread of the evaluation, not of training."""
    arrays = {g: np.asarray(returns[g], dtype=float) for g in returns}
    value = atari5_median_estimate({g: float(a.mean()) for g, a in arrays.items()})
    if min(a.size for a in arrays.values()) < 2:
        return Estimate(value, None, None)
    rng = np.random.default_rng(seed)
    samples = [atari5_median_estimate({g: float(a[rng.integers(0, a.size, a.size)].mean()) for g, a in arrays.items()})
               for _ in range(reps)]
    return Estimate(value, *percentiles(np.array(samples)))


@dataclass(frozen=True)
class PlannedRun:
    suite: str
    game: str
    seed: int
    frames: int
    long: bool = False

    @property
    def short_game(self) -> str:
        return self.game.split("/")[-1]

    def folder(self, root: Path) -> Path:
        slug = file_name(self.game)
        return root / self.suite / f"{slug}__{'long__' if self.long else ''}seed-{self.seed}"


def plan(suite_name: str, games: list[str] | None = None, seeds: int | None = None, frames: int | None = None,
         long_frames: int | None = None) -> list[PlannedRun]:
    suite = SUITES[suite_name]
    frames = suite.frames if frames is None else frames
    long_frames = suite.long_frames if long_frames is None else long_frames
    runs = []
    for game in games or suite.games:
        runs += [PlannedRun(suite_name, game, s, frames) for s in range(1, (seeds or suite.seeds) + 1)]
        if suite.long_seeds and long_frames:
            runs += [PlannedRun(suite_name, game, s, long_frames, long=True) for s in range(1, suite.long_seeds + 1)]
    return runs


def _run_dir(folder: Path) -> Path | None:
    """The pathzero run folder inside a planned run's folder (None before it started)."""
    found = sorted(p.parent for p in folder.glob("*/config.json"))
    return found[-1] if found else None


def _finished(folder: Path) -> dict | None:
    from benchmarks.bench import read_results

    return read_results(folder)


def run_planned(run: PlannedRun, root: Path, workers: int, options: dict, progress: bool) -> dict:
    """Trains (or resumes, or skips) one planned run; returns its results."""
    import pathzero
    import torch

    from benchmarks.bench import save_results
    from pathzero.agents.common.evaluation import read_eval_returns
    from pathzero.agents.common.runlog import read_episodes
    from pathzero.envs import UsageError

    folder = run.folder(root)
    done = _finished(folder)
    if done is not None:
        if done["planned_frames"] != run.frames:
            raise UsageError(f"{folder} holds a run of {done['planned_frames']:,} frames, not {run.frames:,}; "
                             f"give another --logdir for another budget")
        return done
    run_dir = _run_dir(folder) if folder.is_dir() else None
    common = dict(workers=workers, total_frames=run.frames, verbose=False, progress=progress)
    if run_dir is not None and (run_dir / "checkpoint.pt").is_file():
        print(f"{run.game} seed {run.seed}: resuming {run_dir}", flush=True)
        resumed_at = int(torch.load(run_dir / "checkpoint.pt", weights_only=True)["state"]["frames"])
        record_slice(folder, resumed_at)
        result = pathzero.train(resume=run_dir, **common)
    else:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        print(f"{run.game} seed {run.seed}: {run.frames:,} frames into {folder}", flush=True)
        record_slice(folder, 0)
        result = pathzero.train(game=run.game, seed=run.seed, logdir=str(folder), replay_episodes=0, **common,
                                **options)
    state = torch.load(result.dir / "checkpoint.pt", weights_only=True)["state"]
    episodes = read_episodes(result.dir)
    evals = result.evals()
    data = {"game": run.game, "seed": run.seed, "planned_frames": run.frames, "frames": int(state["frames"]),
            "wall_seconds": float(state["wall_seconds"]), "resumes": int(state["resumes"]),
            "fps": float(state["frames"]) / max(float(state["wall_seconds"]), 1e-9),
            "config": json.loads((result.dir / "config.json").read_text()),
            "evals": [[r["frames"], r["mean_return"], r["ci_low"], r["ci_high"], r["wall_seconds"]] for r in evals],
            "final_returns": read_eval_returns(result.dir).get(int(evals[-1]["frames"])) if evals else None,
            "last20_training_mean": float(np.mean([e["return"] for e in episodes[-20:]])) if episodes else None,
            "slices": read_slices(folder)}
    return save_results(folder, data)


SLICES = "slices.json"


def read_slices(folder: Path) -> list[dict]:
    path = Path(folder) / SLICES
    return json.loads(path.read_text()) if path.is_file() else []


def record_slice(folder: Path, from_frames: int) -> None:
    """Notes in the planned run's folder (beside its run folder, so it travels with it) that a slice of
    the run starts now, on this machine, at `from_frames`: a run resumed across sessions may finish on
    another machine than it started on, and its frames/s are only comparable within one."""
    from benchmarks.bench import machine
    from pathzero.agents.common.runlog import write_atomic

    slices = [x for x in read_slices(folder) if x["from_frames"] < from_frames]  # a start that reached no checkpoint
    slices.append({"machine": machine(), "from_frames": int(from_frames),
                   "started": dt.datetime.now().isoformat(timespec="seconds")})
    write_atomic(Path(folder) / SLICES, json.dumps(slices, indent=1) + "\n")


def where_run(done: dict[str, dict]) -> str:
    """Which machines (their CPUs) ran which runs, from the slices each run kept, e.g.
    "AMD EPYC: Qbert s1, Phoenix s1 from 5.84M frames; Intel(R) Xeon(R) Processor: Phoenix s1 to 5.84M frames"."""
    by_cpu: dict[str, list[str]] = {}
    for label, res in done.items():
        slices = sorted(res.get("slices") or [], key=lambda x: x["from_frames"])
        if not slices:
            by_cpu.setdefault("not recorded", []).append(label)
            continue
        if slices[0]["from_frames"] > 0:
            by_cpu.setdefault("not recorded", []).append(f"{label} to {slices[0]['from_frames'] / 1e6:.3g}M frames")
        for i, piece in enumerate(slices):
            cpu = piece["machine"].split(",")[0]
            end = slices[i + 1]["from_frames"] if i + 1 < len(slices) else None
            span = "" if (piece["from_frames"] == 0 and end is None) else (
                (f" from {piece['from_frames'] / 1e6:.3g}M" if piece["from_frames"] else "")
                + (f" to {end / 1e6:.3g}M" if end is not None else "") + " frames")
            by_cpu.setdefault(cpu, []).append(label + span)
    return "; ".join(f"{cpu}: {', '.join(labels)}" for cpu, labels in by_cpu.items())


def _curve(results: list[dict], every: int) -> tuple[np.ndarray, np.ndarray]:
    """Evaluation points shared by every seed (frames rounded to the evaluation interval) and the
    [seeds, points] returns there."""
    keyed = [{int(round(f / every)): r for f, r, *_ in res["evals"]} for res in results]
    common = sorted(set.intersection(*(set(k) for k in keyed)))
    return np.array(common, dtype=float) * every, np.array([[k[c] for c in common] for k in keyed])


def curve_band(results: list[dict], every: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A curve's 95% band (frames, low, high): over seeds, or for a lone seed over each evaluation's
    episodes (its evals rows' own interval), so that a single-seed curve is never drawn bare."""
    if len(results) == 1:
        rows = [(f, lo, hi) for f, _, lo, hi, *_ in results[0]["evals"] if lo is not None and hi is not None]
        return tuple(np.array([row[i] for row in rows], dtype=float) for i in range(3))
    frames, returns = _curve(results, every)
    bands = [_interval(col) for col in returns.T]
    return frames, np.array([b.low for b in bands], dtype=float), np.array([b.high for b in bands], dtype=float)


def _interval(values):
    """The mean of `values` with its 95% bootstrap interval (low and high are None for one value)."""
    from pathzero.agents.common.stats import mean_interval

    return mean_interval(np.asarray(values, dtype=float))


def _shown(est: Estimate, digits: int = 1) -> str:
    """'value [low, high]', or the value alone without an interval."""
    value = f"{est.value:.{digits}f}"
    return value if est.low is None else f"{value} [{est.low:.{digits}f}, {est.high:.{digits}f}]"


def _estimate(values) -> str:
    return _shown(_interval(values))


def final_cell(results: list[dict]) -> str:
    """The final evaluations' mean with its interval over seeds; a lone seed's interval is over its
    final evaluation's episodes instead, marked as such (a number is never shown without one)."""
    finals = [res["evals"][-1] for res in results if res["evals"]]
    if not finals:
        return "-"
    if len(finals) == 1 and finals[0][2] is not None and finals[0][3] is not None:
        mean, low, high = finals[0][1:4]
        return f"{mean:.1f} [{low:.1f}, {high:.1f}] (episodes)"
    return _estimate([f[1] for f in finals])


# The aggregate over games follows Agarwal et al. (2021, "Deep RL at the edge of the statistical precipice"):
# the interquartile mean (IQM) over all runs of all tasks, with a *stratified* bootstrap (the runs of each task
# are resampled within that task). The `rliable` package implements the same; it is computed here because
# rliable 1.2.0, the newest release, fails with the current `arch` (8.0 rejects its `random_state` keyword)
# and `arch` 7.2 does not import under pandas 3.

def stratified(scores: np.ndarray, stat: Callable[[np.ndarray], float] = iqm, reps: int = REPS,
               seed: int = 0) -> Estimate:
    """`stat` (default: the IQM) of scores [runs, tasks], with a stratified bootstrap interval: each
    task's runs are resampled within that task."""
    scores = np.asarray(scores, dtype=float)
    runs, tasks = scores.shape
    value = float(stat(scores))
    if runs < 2:
        return Estimate(value, None, None)
    rng = np.random.default_rng(seed)
    columns = np.arange(tasks)
    samples = np.empty(reps)
    for r in range(reps):
        picks = rng.integers(0, runs, size=(runs, tasks))
        samples[r] = stat(scores[picks, columns])
    low, high = percentiles(samples)
    return Estimate(value, low, high)


def minatar_aggregate(finals: dict[str, list[float]]) -> tuple[int, Estimate, Estimate] | None:
    """Final scores over the AC(lambda) baseline's, aggregated over the five games as Agarwal et al.
    (2021) recommend: (runs per game, IQM, mean), each with a stratified bootstrap interval (a game's
    seeds resampled within that game). None until every game has a finished run; with unequal seed
    counts the first seeds that every game has are used."""
    runs = min(len(finals.get(g, [])) for g in MINATAR_AC_LAMBDA)
    if runs == 0:
        return None
    scores = np.array([[finals[g][r] / MINATAR_AC_LAMBDA[g] for g in MINATAR_AC_LAMBDA] for r in range(runs)])
    return runs, stratified(scores), stratified(scores, np.mean)


def first_reaching(evals: list, target: float) -> tuple[float, float] | None:
    """(frames, wall seconds) of the first evaluation whose mean return reaches `target`."""
    for frames, mean, _low, _high, wall in evals:
        if mean >= target:
            return frames, wall
    return None


def plot_suite(groups: dict[str, list[dict]], anchors: dict[str, dict[str, float]], out: Path, title: str) -> None:
    """One panel per game: every seed's evaluation curve, their mean and its 95% bootstrap band."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    games = list(dict.fromkeys(label.split(" (")[0] for label in groups))
    cols = min(3, len(games))
    rows = (len(games) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), dpi=90, squeeze=False)
    for ax, game in zip(axes.flat, games):
        for index, (label, results) in enumerate((k, v) for k, v in groups.items() if k.split(" (")[0] == game):
            every = results[0]["config"]["eval_every"] or 1
            frames, returns = _curve(results, every)
            if not len(frames):
                continue
            color = f"C{index}"
            for seed_returns in returns:
                ax.plot(frames / 1e6, seed_returns, color=color, lw=0.6, alpha=0.35)
            name = label.split(" (")[1][:-1] if " (" in label else "pathzero A3C"
            seeds = f"{len(results)} seed" + ("s" if len(results) != 1 else "")
            ax.plot(frames / 1e6, returns.mean(axis=0), color=color, lw=2, label=f"{name} ({seeds})")
            at, low, high = curve_band(results, every)
            if len(at):
                ax.fill_between(at / 1e6, low, high, color=color, alpha=0.2)
        for k, (name, value) in enumerate(anchors.get(game, {}).items()):
            ax.axhline(value, ls="--", lw=1, color=f"C{k + 3}", label=name)
        ax.set_title(game)
        ax.set_xlabel("emulator frames (millions)")
        ax.set_ylabel("evaluation return")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for ax in list(axes.flat)[len(games):]:
        ax.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def _anchors(suite: str) -> dict[str, dict[str, float]]:
    if suite == "minatar":
        return {g: {"AC(lambda), 5M": v, **({"gymnax PPO, 10M": MINATAR_PPO_10M[g]} if g in MINATAR_PPO_10M else {})}
                for g, v in MINATAR_AC_LAMBDA.items()}
    if suite == "pong":
        return {"Pong": dict(PONG_ANCHORS)}
    return {}


def report(suite: str, runs: list[PlannedRun], root: Path, doc: Path, command: str, note: str) -> str:
    from benchmarks.bench import machine, write_section

    finished = {r: _finished(r.folder(root)) for r in runs}
    done = {r: res for r, res in finished.items() if res is not None}
    groups: dict[str, list[dict]] = {}
    for r, res in done.items():
        label = r.short_game + (f" ({r.frames / 1e6:g}M)" if SUITES[suite].long_seeds else "")
        groups.setdefault(label, []).append(res)
    picture = root / f"{suite}.png"
    if groups:
        plot_suite(groups, _anchors(suite), picture, f"pathzero A3C: {suite} suite, evaluation returns")
    try:
        shown_picture = picture.relative_to(doc.parent)
    except ValueError:
        shown_picture = picture
    pending = len(runs) - len(done)
    status = "all runs finished" if not pending else f"**{pending} of {len(runs)} runs not finished yet**"
    rows = []
    for label, results in groups.items():
        game = label.split(" (")[0]
        finals = [res["evals"][-1][1] for res in results if res["evals"]]
        hours = np.mean([res["wall_seconds"] for res in results]) / 3600
        fps = np.mean([res["fps"] for res in results])
        frames = results[0]["planned_frames"]
        cells = [label, str(len(results)), f"{frames / 1e6:g}M", final_cell(results)]
        if suite == "minatar":
            est = _interval(finals)
            for anchors in (MINATAR_AC_LAMBDA, MINATAR_PPO_10M):
                if game in anchors:
                    cells.append(f"{anchors[game]:g} ({_verdict(est, anchors[game])})")
                else:
                    cells.append("-")
        if suite == "pong":
            for target in PONG_TARGETS:
                reached = [first_reaching(res["evals"], target) for res in results]
                cells.append("; ".join("-" if x is None else f"{x[0] / 1e6:.1f}M, {x[1] / 3600:.1f} h" for x in reached))
        if suite == "atari5":
            cells.append(f"{np.mean([human_normalised(game, f) for f in finals]):.1f}%" if finals else "-")
        cells += [f"{hours:.2f}", f"{fps:,.0f}"]
        rows.append("| " + " | ".join(cells) + " |")
    head = ["game", "seeds", "frames", "final evaluation, mean [95% CI]"]
    if suite == "minatar":
        head += ["AC(lambda) at 5M", "gymnax PPO at 10M"]
    if suite == "pong":
        head += ["frames, hours to +18 (per seed)", "to +20"]
    if suite == "atari5":
        head += ["human-normalised"]
    head += ["hours per run", "frames/s with evaluations"]
    table = "| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n" + "\n".join(rows)
    extra = ""
    if suite == "minatar":
        finals = {label.split(" (")[0]: [res["evals"][-1][1] for res in results if res["evals"]]
                  for label, results in groups.items()}
        aggregate = minatar_aggregate(finals)
        if aggregate is None:
            extra = "\nThe aggregate over the five games needs a finished run of every game.\n"
        else:
            runs, iqm_est, mean_est = aggregate
            extra = (f"\nFinal score over AC(lambda)'s at 5M frames, all five games ({runs} run(s) each): "
                     f"IQM **{_shown(iqm_est, 2)}**, mean {_shown(mean_est, 2)} (1 = the baseline; stratified "
                     f"bootstrap over seeds within each game, Agarwal et al. 2021).\n")
    if suite == "atari5":
        scores = {r.short_game: res["evals"][-1][1] for r, res in done.items() if res["evals"]}
        if set(ATARI5_WEIGHTS) <= set(scores):
            returns = {r.short_game: res.get("final_returns") for r, res in done.items()}
            if all(returns.get(g) for g in ATARI5_WEIGHTS):
                est = atari5_median_interval(returns)
                shown = (f"**{est.value:.1f}% [{est.low:.1f}, {est.high:.1f}]** (95% bootstrap interval over each game's final evaluation "
                         "episodes, resampled within the game; one seed per game, so the spread between seeds "
                         "is not in it)")
            else:
                shown = (f"**{atari5_median_estimate(scores):.1f}%** (no interval: a run without its final "
                         "evaluation's episode returns, from before eval_returns.csv)")
            extra = (f"\nAtari-5 estimate of the 57-game median human-normalised score: {shown}. "
                     "Aitchison et al. 2023: 10 ** sum_g w_g log10(1 + HNS_g) - 1, weights from maitchison/PPO, "
                     "cross-validated error about 10%.\n")
        else:
            extra = "\nThe Atari-5 estimate needs all five games.\n"
    body = f"""## Learning: A3C on the {suite} suite

Written {dt.date.today().isoformat()} on {machine()}; {status}.
Where the runs ran (a run resumed in another session may change machines, and frames/s compare only within
one): {where_run({f"{r.short_game} s{r.seed}" + (" (long)" if r.long else ""): res for r, res in done.items()}) or "-"}.
Command: `{command}` (resumable; `--report-only` writes this section from the finished runs).
Every run is `pathzero train --game GAME --seed S --total-frames F --workers W` with the game's preset and
no tuning flags. Scores are evaluation returns (whole episodes, unclipped, {', '.join(sorted({str(res['config']['evaluation_episodes']) for res in done.values()})) or '10'} episodes per
evaluation); the final one is at the end of the budget. Intervals and bands: 95% bootstrap over seeds (a
single seed: over each evaluation's episodes, marked "episodes"). Wall time includes start-up and the evaluations.

![{suite} curves]({shown_picture})

{table}
{extra}"""
    write_section(doc, f"learning-suite-{suite}", body, note=note)
    return body


def _verdict(est, anchor: float) -> str:
    mean, low = est.value, est.low
    if low is not None and low > anchor:
        return "above, interval too"
    return "mean above" if mean > anchor else "below"


def learning(args) -> int:
    from pathzero.envs import UsageError, resolve_game

    if args.workers < 1 or (args.seeds is not None and args.seeds < 1):
        raise UsageError("--workers and --seeds must be >= 1")
    if args.frames is not None and args.frames < 1000:
        raise UsageError(f"--frames must be >= 1000, got {args.frames}")
    suites = args.suite or ["minatar"]
    if args.games and len(suites) != 1:
        raise UsageError("--games replaces one suite's games: give a single --suite with it")
    for game in args.games or []:
        resolve_game(game)  # a one-line error for an unknown game, before anything runs
    root = Path(args.logdir)
    options = {k: v for k, v in (("eval_every", args.eval_every),
                                 ("evaluation_episodes", args.evaluation_episodes)) if v is not None}
    for suite in suites:
        runs = plan(suite, args.games, args.seeds, args.frames, args.long_frames)
        if not args.report_only:
            start = time.perf_counter()
            for index, run in enumerate(runs, 1):
                res = run_planned(run, root, args.workers, options, progress=args.progress)
                final = res["evals"][-1][1] if res["evals"] else float("nan")
                print(f"[{suite} {index}/{len(runs)}] {run.game} seed {run.seed}: {res['frames']:,} frames, "
                      f"final evaluation {final:.1f} ({time.perf_counter() - start:.0f} s so far)", flush=True)
        command = "python -m benchmarks learning --suite " + suite + "".join(
            f" {flag} {value}" for flag, value in (("--games", " ".join(args.games or [])), ("--seeds", args.seeds),
                                                   ("--frames", args.frames), ("--long-frames", args.long_frames),
                                                   ("--eval-every", args.eval_every),
                                                   ("--evaluation-episodes", args.evaluation_episodes))
            if value) + f" --workers {args.workers}"
        body = report(suite, runs, root, Path(args.doc), command, args.note)
        print(body)
    return 0


def evaluation_speed(args) -> int:
    """How long an evaluation's episodes take played one by one and in a batch, same policy, same run."""
    from benchmarks.bench import machine, training_config, write_section
    from pathzero.agents.common.replay import play
    from pathzero.envs import UsageError, resolve_game

    if args.episodes < 2 or args.batch < 2:
        raise UsageError(f"--episodes and --batch must be >= 2 (one by one is the baseline), got {args.episodes} "
                         f"and {args.batch}")
    if args.checkpoint:
        import pathzero

        agent = pathzero.load(args.checkpoint)
        model, spec, policy = agent.model, agent.spec, f"the policy of `{args.checkpoint}`"
    else:
        from pathzero.agents.a3c import build_model

        spec = resolve_game(args.game)
        model = build_model(spec, training_config("a3c", args.game, {}).net)
        policy = "a freshly initialised A3C network of the game's preset (near-uniform policy)"
    model.eval()
    rows = []
    for batch in (1, args.batch):
        start = time.perf_counter()
        results = play(model, spec, episodes=args.episodes, seed=args.seed, greedy=True, batch=batch)
        seconds = time.perf_counter() - start
        steps = sum(r.length for r in results)
        rows.append((batch, steps, seconds))
        print(f"batch {batch}: {args.episodes} episodes, {steps:,} steps in {seconds:.1f} s")
    (_, _, base), (_, _, batched) = rows
    table = "\n".join(f"| {'one by one' if b == 1 else f'{b} at once'} | {steps:,} | {sec:.1f} | "
                      f"{steps / sec:,.0f} | {base / sec:.2f} |" for b, steps, sec in rows)
    command = (f"python -m benchmarks evaluation --game {spec.env_id if not args.checkpoint else args.game} "
               f"--episodes {args.episodes} --batch {args.batch} --seed {args.seed}"
               + (f" --checkpoint {args.checkpoint}" if args.checkpoint else ""))
    body = f"""## Evaluation speed: {spec.env_id}

Measured {dt.date.today().isoformat()} on {machine()}. Command: `{command}`.
The episodes an evaluation plays (`--evaluation-episodes`; env seeds seed, seed + 1, ...), played by
{policy} in one process and one torch thread, as the background evaluation of `pathzero train` plays
them: one by one (one observation per forward pass), and {args.batch} at once (one batched forward pass
for every episode still running). Actions are greedy here, so both rows play the very same episodes
(the evaluation samples its actions: the same work per step).

| how | agent steps | seconds | steps/s | speed vs one by one |
|---|---:|---:|---:|---:|
{table}

Batched play took **{batched / base:.2f}** of the time. During training the evaluation thread shares
the cores with the workers, so what it saves goes to training.
"""
    write_section(Path(args.doc), f"evaluation-{spec.name}", body)
    print(body)
    return 0


def add_parsers(sub) -> dict:
    le = sub.add_parser("learning", help="A3C learning speed on the Pong, MinAtar and Atari-5 suites (resumable)",
                        description="Trains every run of a suite with the game's defaults (resumable: finished "
                                    "runs are skipped, interrupted ones resume) and writes its curves and scores "
                                    "against the published anchors to docs/BENCHMARKS.md.")
    le.add_argument("--suite", action="append", choices=sorted(SUITES), default=[],
                    help="pong (3 seeds x 10M frames, 1 seed x 40M), minatar (5 games x 3 seeds x 5M) or atari5 "
                         "(5 games x 1 seed x 10M); repeat for several (default: minatar)")
    le.add_argument("--games", nargs="+", help="replace the suite's games (e.g. to run one game first)")
    le.add_argument("--seeds", type=int, help="seeds per game (default: the suite's)")
    le.add_argument("--frames", type=int, help="frames per run (default: the suite's)")
    le.add_argument("--long-frames", type=int, help="frames of the long Pong run (default: 40000000; 0: none)")
    le.add_argument("--workers", type=int, default=2, help="workers per run (default: 2)")
    le.add_argument("--eval-every", type=int, help="frames between evaluations (default: the game's preset)")
    le.add_argument("--evaluation-episodes", type=int, help="episodes per evaluation (default: the preset's)")
    le.add_argument("--logdir", default=DEFAULT_LOGDIR, help=f"where the runs go (default: {DEFAULT_LOGDIR})")
    le.add_argument("--report-only", action="store_true", help="write the sections from the finished runs only")
    le.add_argument("--progress", action="store_true", help="a progress bar per run")
    le.add_argument("--note", default="", help="a remark to add under the numbers")
    le.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    ev = sub.add_parser("evaluation", help="an evaluation's episodes played one by one against in a batch",
                        description="Times the episodes of one evaluation played one by one and in a batch "
                                    "(one forward pass for all), with the same policy, and writes a section.")
    ev.add_argument("--game", default="Pong", help="game (default: Pong; ignored with --checkpoint)")
    ev.add_argument("--checkpoint", help="a run folder or checkpoint whose policy plays (default: a fresh network)")
    ev.add_argument("--episodes", type=int, default=10, help="episodes (default: 10, the presets' evaluation)")
    ev.add_argument("--batch", type=int, default=16, help="episodes at once in the batched row (default: 16)")
    ev.add_argument("--seed", type=int, default=0, help="the first episode's env seed (default: 0)")
    ev.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    return {"learning": learning, "evaluation": evaluation_speed}
