"""`python -m benchmarks ray`: the Ray backend against the local one on this machine.

    python -m benchmarks ray --logdir runs/bench-ray

(1) The same small transfer matrix (serial runs, so every run is reproducible) with the local backend, with
Ray limited to one CPU (its overhead: the same one-run-at-a-time schedule through Ray's tasks), and with Ray
on every CPU (runs side by side as their sources finish): wall time, and whether the cells are identical.
(2) A3C on MinAtar Breakout with 2 workers, shared memory against 2 Ray actors and a parameter server: frames/s
and the evaluation curve at the same frames, for --seeds seeds each; the server's load from ray.json.
Finished parts are kept in --logdir (a results.json each) and skipped when the bench runs again.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path

import numpy as np

DEFAULT_DOC = "docs/BENCHMARKS.md"
SETUPS = {"local": ("local", None), "ray-1cpu": ("ray", 1), "ray": ("ray", None)}
RUN_ONLY = ("wall_seconds", "fps", "run_dir")


def _done(folder: Path) -> dict | None:
    from benchmarks.bench import read_results

    return read_results(folder)


def _save(folder: Path, data: dict) -> dict:
    from benchmarks.bench import save_results

    return save_results(folder, data)


def _cells(root: Path) -> dict:
    return {p.name: {k: v for k, v in json.loads(p.read_text()).items() if k not in RUN_ONLY}
            for p in sorted((root / "cells").glob("*.json"))}


def matrix_part(root: Path, name: str, args) -> dict:
    import pathzero
    from pathzero.agents.common.backend import start_ray

    folder = root / "matrix" / name
    done = _done(folder)
    if done is not None:
        return done
    shutil.rmtree(folder, ignore_errors=True)
    backend, cpus = SETUPS[name]
    start = time.perf_counter()
    if backend == "ray":
        ray = start_ray(num_cpus=cpus)  # started here, so that its start-up counts
    pathzero.transfer(games=args.games, methods=["finetune", "pathnet"], frames=args.matrix_frames, seeds=2,
                      logdir=str(folder), serial=True, progress=False, backend=backend)
    wall = time.perf_counter() - start
    if backend == "ray":
        ray.shutdown()
    return _save(folder, {"wall_seconds": wall, "runs": len(list((folder / "cells").glob("*.json")))})


def a3c_part(root: Path, backend: str, seed: int, args) -> dict:
    import torch

    import pathzero

    folder = root / "a3c" / f"{backend}-{seed}"
    done = _done(folder)
    if done is not None:
        return done
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    run = pathzero.train(args.a3c_game, total_frames=args.a3c_frames, logdir=str(folder), workers=2, seed=seed,
                         backend=backend, eval_every=args.eval_every, evaluation_episodes=10, replay_episodes=0,
                         progress=False, verbose=False)
    wall = time.perf_counter() - start
    state = torch.load(run.dir / "checkpoint.pt", weights_only=True)["state"]
    server = json.loads((run.dir / "ray.json").read_text()) if (run.dir / "ray.json").exists() else None
    if backend == "ray":
        import ray
        ray.shutdown()
    return _save(folder, {"frames": state["frames"], "wall_seconds": wall, "fps_with_startup": state["frames"] / wall,
                          "fps_after_startup": state["fps"],
                          "evals": [(e["frames"], e["mean_return"]) for e in run.evals()], "server": server})


def ray_bench(args) -> int:
    from benchmarks.bench import machine, write_section
    from pathzero.agents.common.backend import import_ray
    from pathzero.agents.common.stats import mean_interval

    import_ray()
    root = Path(args.logdir)
    matrix = {name: matrix_part(root, name, args) for name in SETUPS}
    for name, result in matrix.items():
        print(f"matrix, {name}: {result['wall_seconds']:.0f} s", flush=True)
    reference = _cells(root / "matrix" / "local")
    identical = {name: _cells(root / "matrix" / name) == reference for name in SETUPS}
    a3c = {b: [a3c_part(root, b, s, args) for s in range(1, args.seeds + 1)] for b in ("local", "ray")}
    base = matrix["local"]["wall_seconds"]
    matrix_rows = [f"| {name} | {r['runs']} | {r['wall_seconds']:.0f} | {r['wall_seconds'] / base:.3f} | "
                   f"{'yes' if identical[name] else 'NO'} |" for name, r in matrix.items()]

    def fps(backend: str, key: str) -> float:
        return float(np.mean([r[key] for r in a3c[backend]]))

    def curve(backend: str) -> str:
        points = sorted({f for r in a3c[backend] for f, _ in r["evals"]})
        cells: dict[str, str] = {}
        for f in points:  # the final evaluation, a few frames past the last scheduled one, replaces it
            values = [v for r in a3c[backend] for g, v in r["evals"] if g == f]
            est = mean_interval(np.array(values))
            cells[f"{f / 1000:.0f}k"] = f"{est.value:.1f}" + ("" if est.low is None else
                                                           f" [{est.low:.1f}, {est.high:.1f}]")
        return "; ".join(f"{label}: {text}" for label, text in cells.items())

    servers = [r["server"] for r in a3c["ray"] if r["server"]]
    busy = float(np.mean([s["busy_fraction"] for s in servers]))
    rate = float(np.mean([s["updates_per_second"] for s in servers]))
    per_update_ms = float(np.mean([s["busy_seconds"] / max(s["updates"], 1) for s in servers])) * 1000
    grad_mb = servers[0]["gradient_bytes"] / 1e6
    overhead = matrix["ray-1cpu"]["wall_seconds"] / base - 1
    body = f"""## Ray against the local backend

Measured {dt.date.today().isoformat()} on {machine()}; `python -m benchmarks ray --matrix-frames {args.matrix_frames}
--a3c-frames {args.a3c_frames} --seeds {args.seeds}` (Ray started in-process on 127.0.0.1, its start-up counted).

**The same transfer matrix** ({' '.join(args.games)}; fine-tuning and PathNet with the diagonal, 2 seeds,
{args.matrix_frames:,} frames per run, serial runs so that a run is reproducible from its seed): local runs one
after another; "ray-1cpu" is Ray limited to one CPU, the same one-at-a-time schedule through Ray tasks (its
overhead); "ray" uses both CPUs, starting each run as soon as its source is done.

| backend | runs | wall s | / local | cells identical to local |
|---|---:|---:|---:|---|
{chr(10).join(matrix_rows)}

Ray's overhead on one CPU: **{overhead:+.1%}** (goal <= +10%: **{'met' if overhead <= 0.10 else 'not met'}**).

**A3C, {args.a3c_game}, 2 workers, {args.a3c_frames:,} frames, {args.seeds} seed(s) each**: shared memory (2
processes, Hogwild) against 2 Ray actors sending gradients to a parameter-server actor.

| workers | frames/s with start-up | frames/s after start-up | / shared memory (after start-up) |
|---|---:|---:|---:|
| shared memory | {fps('local', 'fps_with_startup'):,.0f} | {fps('local', 'fps_after_startup'):,.0f} | 1.000 |
| Ray actors | {fps('ray', 'fps_with_startup'):,.0f} | {fps('ray', 'fps_after_startup'):,.0f} | {fps('ray', 'fps_after_startup') / fps('local', 'fps_after_startup'):.3f} |

Evaluation return (10 episodes, mean over seeds [95% interval]) at the same frames:
- shared memory: {curve('local')}
- Ray actors: {curve('ray')}

The parameter server applied {rate:,.0f} updates/s ({per_update_ms:.2f} ms each, busy {busy:.0%} of its life); one
gradient message and one weights message are {grad_mb:.2f} MB each (float32). docs/SCALING.md works from these
numbers to 100 machines.
"""
    write_section(Path(args.doc), "ray-backend", body, note=args.note)
    print(body)
    return 0


def add_parsers(sub) -> dict:
    ra = sub.add_parser("ray", help="the Ray backend against the local one: a matrix's wall time and cells, A3C's "
                                    "frames/s and learning")
    ra.add_argument("--games", nargs="+", default=["MinAtar/Breakout", "MinAtar/SpaceInvaders"],
                    help="games of the matrix (default: MinAtar/Breakout MinAtar/SpaceInvaders)")
    ra.add_argument("--matrix-frames", type=int, default=20_000, help="frames of each matrix run (default: 20000)")
    ra.add_argument("--a3c-game", default="MinAtar/Breakout", help="game of the A3C runs (default: MinAtar/Breakout)")
    ra.add_argument("--a3c-frames", type=int, default=500_000, help="frames of each A3C run (default: 500000)")
    ra.add_argument("--eval-every", type=int, default=100_000, help="frames between A3C evaluations (default: 100000)")
    ra.add_argument("--seeds", type=int, default=2, help="A3C runs per backend (default: 2)")
    ra.add_argument("--logdir", default="runs/bench-ray", help="where the runs go; finished parts are skipped "
                    "(default: runs/bench-ray)")
    ra.add_argument("--note", default="", help="a remark to add under the numbers")
    ra.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    return {"ray": ray_bench}
