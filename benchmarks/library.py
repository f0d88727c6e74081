"""`python -m benchmarks api` and `python -m benchmarks suite`: pathzero as a library.

    python -m benchmarks api --frames 100000 --repeats 3   # pathzero.train vs the pathzero train command
    python -m benchmarks suite                            # a fresh clone's `make test`: wall time, pass count

`api` runs the same serial (reproducible) MinAtar run through the Python API and through the
command, alternately, each in a fresh Python process (a script calling pathzero.train pays the same
start-up as the command), and reports both wall times, their ratio and whether the runs' episodes
are identical. `suite` clones the repository into a temporary folder and runs `make test` there,
as CI does: a new venv, the pinned versions, the whole suite.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DOC = "docs/BENCHMARKS.md"


def _settings(frames: int, seed: int) -> dict:
    return {"game": "MinAtar/Breakout", "serial": True, "total_frames": frames, "seed": seed, "eval_every": 0,
            "replay_episodes": 0, "progress": False}


def _flags(settings: dict) -> list[str]:
    flags = []
    for key, value in settings.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            flags.append(flag if value else f"--no-{key.replace('_', '-')}")
        else:
            flags += [flag, str(value)]
    return flags


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def api(args) -> int:
    from benchmarks.bench import machine, write_section
    from pathzero.agents.common.runlog import read_episodes
    from pathzero.envs import UsageError

    if args.frames < 1000 or args.repeats < 1:
        raise UsageError("--frames must be >= 1000 and --repeats >= 1")
    root = Path(tempfile.mkdtemp(prefix="pathzero-bench-api-"))
    times = {"api": [], "cli": []}
    for r in range(args.repeats):
        for way in ("api", "cli") if r % 2 == 0 else ("cli", "api"):  # alternate which goes first
            settings = dict(_settings(args.frames, args.seed), logdir=str(root / f"{way}{r}"))
            if way == "api":
                code = f"import pathzero; pathzero.train(verbose=False, **{settings!r})"
                command = [sys.executable, "-c", code]
            else:
                command = [sys.executable, "-m", "pathzero", "train", *_flags(settings)]
            times[way].append(_timed(command))
            print(f"repeat {r + 1}: {way} {times[way][-1]:.1f} s", flush=True)
    runs = {way: next((root / f"{way}0").iterdir()) for way in times}
    same = [e["return"] for e in read_episodes(runs["api"])] == [e["return"] for e in read_episodes(runs["cli"])]
    configs = {way: {k: v for k, v in json.loads((run / "config.json").read_text()).items() if k != "logdir"}
               for way, run in runs.items()}
    api_s, cli_s = statistics.median(times["api"]), statistics.median(times["cli"])
    body = f"""## The Python API against the command

Measured {dt.date.today().isoformat()} on {machine()}; `python -m benchmarks api --frames {args.frames} --repeats {args.repeats}`.
The same serial run (MinAtar/Breakout, {args.frames:,} frames, seed {args.seed}, the MinAtar preset, no evaluation)
through `pathzero.train(...)` in a fresh Python process and through `pathzero train ...`, alternately, {args.repeats}
times each; wall clock with start-up.

| way | median wall s | runs (s) |
|---|---:|---|
| `pathzero.train` (Python API) | {api_s:.1f} | {', '.join(f'{t:.1f}' for t in times['api'])} |
| `pathzero train` (command) | {cli_s:.1f} | {', '.join(f'{t:.1f}' for t in times['cli'])} |

API / command wall time: **{api_s / cli_s:.3f}**. Same config.json (but the folder): {configs['api'] == configs['cli']};
same training episodes (serial mode is reproducible): {same}.
"""
    write_section(Path(args.doc), "api-overhead", body, note=args.note)
    print(f"API {api_s:.1f} s, command {cli_s:.1f} s (ratio {api_s / cli_s:.3f}); same episodes: {same}")
    return 0


def suite(args) -> int:
    repo = Path(args.repo).resolve()
    work = Path(tempfile.mkdtemp(prefix="pathzero-bench-suite-"))
    try:
        return _suite(args, repo, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the clone holds a whole venv


def _suite(args, repo: Path, work: Path) -> int:
    from benchmarks.bench import machine, write_section

    subprocess.run(["git", "clone", "--quiet", str(repo), str(work / "clone")], check=True)
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}  # a make of its own
    result = subprocess.run(["make", "--no-print-directory", "test"], cwd=work / "clone", capture_output=True,
                            text=True, env=env)
    wall = time.perf_counter() - start
    lines = result.stdout.strip().splitlines()
    # pytest's summary: the last line that counts passed or failed tests
    tail = [next((line for line in reversed(lines) if re.search(r"\d+ (passed|failed)", line)), lines[-1] if lines else "")]
    counts = dict((kind, int(n)) for n, kind in re.findall(r"(\d+) (passed|failed|skipped|errors?)", tail[0]))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    body = f"""## The test suite from a fresh clone

Measured {dt.date.today().isoformat()} on {machine()}; `python -m benchmarks suite` at commit {commit}: `git clone`, then
`make test` in the clone (a brand-new .venv, the pinned versions of constraints.txt, the whole suite), as CI does.

| exit code | passed | failed | skipped | wall (install + tests) |
|---:|---:|---:|---:|---:|
| {result.returncode} | {counts.get('passed', 0)} | {counts.get('failed', 0)} | {counts.get('skipped', 0)} | {wall / 60:.1f} min |

pytest's last line: `{tail[0]}`
"""
    write_section(Path(args.doc), "test-suite", body, note=args.note)
    print(f"make test in a fresh clone: exit {result.returncode}, {tail[0]} ({wall / 60:.1f} min)")
    return 0


def add_parsers(sub) -> dict:
    ap = sub.add_parser("api", help="pathzero.train against the pathzero train command on the same run")
    ap.add_argument("--frames", type=int, default=100_000, help="frames of each run (default: 100000)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each way (default: 3)")
    ap.add_argument("--seed", type=int, default=1, help="seed of every run (default: 1)")
    ap.add_argument("--note", default="", help="a remark to add under the numbers")
    ap.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    su = sub.add_parser("suite", help="make test in a fresh clone of the repository: wall time and pass count")
    su.add_argument("--repo", default=".", help="the repository to clone (default: .)")
    su.add_argument("--note", default="", help="a remark to add under the numbers")
    su.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    return {"api": api, "suite": suite}
