"""`python -m benchmarks network`: network and batch candidates for a game family, speed against learning.

    python -m benchmarks network --game MinAtar/Breakout --frames 800000 --seeds 3 \\
        --candidate preset: --candidate small:channels=16,envs_per_worker=32

Each candidate is `NAME:` followed by training options (config names, comma-separated) laid over the
game's preset; the first candidate is the baseline. For each candidate the bench measures
- speed: one run of --speed-frames without evaluation, frames/s over the whole `train` call (start-up
  included) and after start-up, and that over the environment alone (random actions, the same processes
  and envs per process) measured in the same invocation;
- learning: --seeds runs of --frames with evaluations every --eval-every frames; the mean evaluation
  return over the curve (its area divided by its length) and the final evaluation, mean over seeds with
  95% bootstrap intervals, and the ratio of the curve's area to the baseline's, paired by seed.
Finished runs are kept in --logdir (results.json per run) and skipped when the bench is run again; the
environment-alone figure is kept with the speed runs (delete ceiling.json to measure speed again).
"""
from __future__ import annotations

import ast
import datetime as dt
import json
import shutil
import time
from pathlib import Path

import numpy as np

DEFAULT_DOC = "docs/BENCHMARKS.md"


def parse_candidate(text: str) -> tuple[str, dict]:
    """'NAME:key=value,key=value' -> (NAME, {key: value}); values are Python literals or strings."""
    from pathzero.envs import UsageError

    name, sep, rest = text.partition(":")
    if not sep or not name.strip():
        raise UsageError(f"--candidate {text!r}: give NAME:key=value,... (NAME: alone for the preset)")
    options = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"--candidate {text!r}: {item!r} is not key=value")
        try:
            options[key.strip().replace("-", "_")] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            options[key.strip().replace("-", "_")] = value.strip()
    return name.strip(), options


def _finished(folder: Path) -> dict | None:
    from benchmarks.bench import read_results

    return read_results(folder)


def _fresh_run(folder: Path, train_kwargs: dict) -> tuple[object, float]:
    """Trains into an emptied `folder` (a run cut short is redone: these runs are minutes)."""
    import pathzero

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    start = time.perf_counter()
    run = pathzero.train(logdir=str(folder), verbose=False, progress=False, replay_episodes=0, **train_kwargs)
    return run, time.perf_counter() - start


def _write_results(folder: Path, data: dict) -> None:
    _write_results_file(folder / "results.json", data)


def speed_run(folder: Path, game: str, frames: int, workers: int, options: dict) -> dict:
    import torch

    done = _finished(folder)
    if done is not None:
        return done
    run, wall = _fresh_run(folder, dict(game=game, total_frames=frames, workers=workers, eval_every=0, seed=1,
                                        **options))
    state = torch.load(run.dir / "checkpoint.pt", weights_only=True)["state"]
    data = {"frames": state["frames"], "wall_seconds": wall, "fps_with_startup": state["frames"] / wall,
            "fps_after_startup": state["fps"], "envs_per_worker": run.config["envs_per_worker"]}
    _write_results(folder, data)
    return data


def learning_run(folder: Path, game: str, frames: int, workers: int, seed: int, eval_every: int,
                 episodes: int, options: dict) -> dict:
    done = _finished(folder)
    if done is not None:
        return done
    run, wall = _fresh_run(folder, dict(game=game, total_frames=frames, workers=workers, eval_every=eval_every,
                                        seed=seed, evaluation_episodes=episodes, **options))
    evals = [(row["frames"], row["mean_return"]) for row in run.evals()]
    data = {"evals": evals, "final": evals[-1][1], "curve_mean": float(np.mean([r for _, r in evals])),
            "wall_seconds": wall}
    _write_results(folder, data)
    return data


def _ceiling(root: Path, names: list[str], measure) -> float:
    """The environment-alone frames/s, measured with the speed runs: kept in ceiling.json while every
    candidate's speed run is kept, measured again (and the speed runs with it) otherwise, so that the
    ratios always come from one sitting."""
    path = root / "ceiling.json"
    if path.is_file() and all(_finished(root / name / "speed") is not None for name in names):
        return json.loads(path.read_text())["fps"]
    for name in names:
        shutil.rmtree(root / name / "speed", ignore_errors=True)
    fps = measure()
    root.mkdir(parents=True, exist_ok=True)
    _write_results_file(path, {"fps": fps})
    return fps


def _write_results_file(path: Path, data: dict) -> None:
    from benchmarks.bench import save_results

    save_results(path.parent, data, path.name)


def _interval(values) -> str:
    from pathzero.agents.common.stats import mean_interval

    est = mean_interval(np.asarray(values, dtype=float))
    return f"{est.value:.2f}" if est.low is None else f"{est.value:.2f} [{est.low:.2f}, {est.high:.2f}]"


def network(args) -> int:
    from benchmarks.bench import env_ceiling_fps, machine, write_section
    from pathzero.agents.a3c import A3CConfig
    from pathzero.agents.common.presets import apply_preset
    from pathzero.agents.common.stats import normalised_ratio
    from pathzero.envs import UsageError

    candidates = [parse_candidate(c) for c in args.candidate] or [("preset", {})]
    names = [n for n, _ in candidates]
    if len(set(names)) != len(names):
        raise UsageError(f"--candidate names must differ, got {names}")
    if min(args.frames, args.speed_frames, args.eval_every) < 1000 or args.seeds < 1 or args.workers < 1:
        raise UsageError("--frames, --speed-frames and --eval-every must be >= 1000; --seeds and --workers >= 1")
    root = Path(args.logdir)
    base_cfg = A3CConfig(**apply_preset(A3CConfig, args.game, {"game": args.game}))
    ceiling = _ceiling(root, [name for name, _ in candidates], lambda: env_ceiling_fps(
        args.game, args.workers, base_cfg.envs_per_worker, args.speed_frames, clip_rewards=base_cfg.clip_rewards))
    print(f"environment alone: {ceiling:,.0f} frames/s", flush=True)
    speed, learning = {}, {}
    for name, options in candidates:
        speed[name] = speed_run(root / name / "speed", args.game, args.speed_frames, args.workers, options)
        print(f"{name}: {speed[name]['fps_with_startup']:,.0f} frames/s with start-up", flush=True)
        learning[name] = [learning_run(root / name / f"seed-{s}", args.game, args.frames, args.workers, s,
                                       args.eval_every, args.evaluation_episodes, options)
                          for s in range(1, args.seeds + 1)]
        print(f"{name}: curve mean {np.mean([r['curve_mean'] for r in learning[name]]):.2f}", flush=True)
    base = names[0]
    base_curve = np.array([r["curve_mean"] for r in learning[base]])
    rows = []
    for name, options in candidates:
        sp = speed[name]
        curve = np.array([r["curve_mean"] for r in learning[name]])
        ratio, _ = normalised_ratio(curve, base_curve, 0.0)
        ratio_text = f"{ratio.value:.2f}" + ("" if ratio.low is None else f" [{ratio.low:.2f}, {ratio.high:.2f}]")
        shown = ", ".join(f"{k}={v}" for k, v in options.items()) or "(the preset)"
        rows.append(f"| {name} | {shown} | {sp['fps_with_startup']:,.0f} | {sp['fps_with_startup'] / ceiling:.4f} | "
                    f"{sp['fps_with_startup'] / speed[base]['fps_with_startup']:.2f} | "
                    f"{_interval([r['final'] for r in learning[name]])} | {_interval(curve)} | {ratio_text} |")
    flags = " ".join(f"--candidate '{c}'" for c in args.candidate)
    name_flag = f" --name {args.name}" if args.name else ""
    title = f"{args.game} ({args.name})" if args.name else args.game
    body = f"""## Network candidates: {title}

Measured {dt.date.today().isoformat()} on {machine()}. Command: `python -m benchmarks network --game {args.game}
--frames {args.frames} --speed-frames {args.speed_frames} --seeds {args.seeds} --workers {args.workers}
--eval-every {args.eval_every} --evaluation-episodes {args.evaluation_episodes} --logdir {args.logdir}{name_flag} {flags}`.

Each candidate's options are laid over the game's preset. Speed: one run of {args.speed_frames:,} frames without
evaluations, {args.workers} workers, frames/s over the whole `train` call (spawn, imports, envs, final checkpoint);
the environment alone (random actions, {args.workers} processes x {base_cfg.envs_per_worker} envs) made
{ceiling:,.0f} frames/s in the same invocation. Learning: {args.seeds} seeds x {args.frames:,} frames, evaluated
every {args.eval_every:,} frames ({args.evaluation_episodes} episodes); "curve" is the mean evaluation return over the
run (area under the curve / its length), "vs {base}" that area over the baseline's, paired by seed. Mean over
seeds, 95% bootstrap intervals.

| candidate | options | frames/s | / env alone | speed vs {base} | final return | curve | curve vs {base} |
|---|---|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}
"""
    write_section(Path(args.doc), f"network-{args.game.replace('/', '-')}" + (f"-{args.name}" if args.name else ""),
                  body, note=args.note)
    print(body)
    return 0


def add_parsers(sub) -> dict:
    ne = sub.add_parser("network", help="network/batch candidates: frames/s against learning per frame, with seeds")
    ne.add_argument("--game", default="MinAtar/Breakout", help="game (default: MinAtar/Breakout)")
    ne.add_argument("--candidate", action="append", default=[], metavar="NAME:OPTIONS",
                    help="a candidate, e.g. small:channels=16,envs_per_worker=32 (repeat; the first is the "
                         "baseline; default: the preset alone)")
    ne.add_argument("--frames", type=int, default=800_000, help="frames of each learning run (default: 800000)")
    ne.add_argument("--speed-frames", type=int, default=300_000,
                    help="frames of each speed run and of the environment-alone measurement (default: 300000)")
    ne.add_argument("--seeds", type=int, default=3, help="learning runs per candidate (default: 3)")
    ne.add_argument("--workers", type=int, default=2, help="workers of every run (default: 2)")
    ne.add_argument("--eval-every", type=int, default=100_000, help="frames between evaluations (default: 100000)")
    ne.add_argument("--evaluation-episodes", type=int, default=10, help="episodes per evaluation (default: 10)")
    ne.add_argument("--logdir", default="runs/bench-network", help="where the runs go; finished ones are skipped "
                    "(default: runs/bench-network)")
    ne.add_argument("--name", default="", help="names the section, so that several comparisons on one game "
                    "keep sections of their own (default: the game alone)")
    ne.add_argument("--note", default="", help="a remark to add under the numbers")
    ne.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    return {"network": network}
