"""`python -m benchmarks`: measure, side by side in one run, and write docs/BENCHMARKS.md.

    python -m benchmarks throughput --game Pong            # env-only ceiling vs pathzero A3C vs SB3 A2C
    python -m benchmarks throughput --game MinAtar/Breakout --workers 2 --pathnet --sb3-frames 0
    python -m benchmarks curve runs/pong10m/Pong__a3c__... # learning-curve PNG and summary of a run

Every number is written with the machine, the date and the command that produced it, and
speeds are given as ratios against baselines measured in the same run.
"""
from __future__ import annotations

import datetime as dt
import queue
import threading
import multiprocessing as mp
import json
import os
import platform
import re
import time
from pathlib import Path

from pathzero.scripts.common import ArgumentParser, run_command

DEFAULT_DOC = Path("docs/BENCHMARKS.md")


# ---------------------------------------------------------------------------------------------
# Measurements

def _ceiling_worker(game: str, n_envs: int, frames: int, seed: int, clip_rewards: bool, ready, go,
                    results, vector: bool = False) -> None:
    import numpy as np
    import torch

    from pathzero.agents.common.rollout import EnvBatch, VectorEnvBatch
    from pathzero.envs import make_env, resolve_game

    torch.set_num_threads(1)
    spec = resolve_game(game)
    envs = (VectorEnvBatch if vector else EnvBatch)(spec, n_envs, seed, clip_rewards=clip_rewards, life_loss=False)
    rng = np.random.default_rng(seed)
    probe = make_env(spec)
    n_actions = probe.action_space.n
    probe.close()
    ready.wait(timeout=600)
    go.wait(timeout=600)
    start, done = time.perf_counter(), 0
    while done < frames:
        envs.step(rng.integers(0, n_actions, size=n_envs))
        done += n_envs * spec.frames_per_step
    results.put((done, time.perf_counter() - start))


def env_ceiling_fps(game: str, workers: int, envs_per_worker: int, frames: int, clip_rewards: bool = True,
                    vector: bool = False) -> float:
    """Emulator frames/s of random actions through the same wrappers (or ale-py's vector environment),
    processes and env counts."""
    ctx = mp.get_context("spawn")
    ready, go, results = ctx.Barrier(workers + 1), ctx.Barrier(workers + 1), ctx.Queue()
    procs = [ctx.Process(target=_ceiling_worker,
                         args=(game, envs_per_worker, frames // workers, 100 * w, clip_rewards, ready, go, results,
                               vector))
             for w in range(workers)]
    for p in procs:
        p.start()
    try:
        ready.wait(timeout=600)  # every env is built: time the stepping only
        start = time.perf_counter()
        go.wait(timeout=600)
        done = sum(results.get(timeout=3600)[0] for _ in procs)
    except (threading.BrokenBarrierError, queue.Empty):
        for p in procs:
            p.terminate()
        raise RuntimeError("an environment-only benchmark process failed; run it alone to see why") from None
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    return done / elapsed


def training_config(agent: str, game: str, given: dict):
    """The config `pathzero train --agent AGENT` builds from these flags: the game family's preset
    under the flags given."""
    from pathzero.agents.common.presets import apply_preset
    from pathzero.agents.common.registry import agent as registered

    cls = registered(agent).config
    return cls(**apply_preset(cls, game, {"game": game, **given}))


def train_fps(cfg) -> tuple[float, float]:
    """(frames/s after start-up, frames/s of the whole `train` call) of a training run: the second
    counts spawning the workers, their imports, building the envs and the final checkpoint."""
    from pathzero.agents.common.checkpoint import load_checkpoint

    pathnet = hasattr(cfg, "grid")
    if pathnet:
        from pathzero.agents.pathnet import train_pathnet as run
    else:
        from pathzero.agents.a3c import train as run
    start = time.perf_counter()
    run_dir = run(cfg)
    wall = time.perf_counter() - start
    state = load_checkpoint(run_dir, "pathzero-pathnet" if pathnet else "pathzero-a3c")["state"]
    return state["fps"], state["frames"] / wall


def a3c_fps(game: str, workers: int, envs_per_worker: int, frames: int, logdir: Path, vector: bool = False,
            precision: str = "fp32") -> float:
    """pathzero A3C training frames/s (after start-up), with the defaults `pathzero train` gives."""
    cfg = training_config("a3c", game, {"workers": workers, "envs_per_worker": envs_per_worker,
                                        "total_frames": frames, "logdir": str(logdir), "progress": False,
                                        "replay_episodes": 0, "vector_env": vector, "precision": precision})
    return train_fps(cfg)[0]


def sb3_a2c_fps(game: str, n_envs: int, frames: int, net=None) -> float:
    """stable-baselines3 A2C frames/s on the same envs, one process using every core. `net` (a
    NetConfig): its policy and value heads sit on pathzero's trunk of that size, as in pathzero's
    network; None: SB3's own CnnPolicy (the Nature DQN convolutions and 512 units) or MlpPolicy."""
    import torch
    from stable_baselines3 import A2C
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
    from stable_baselines3.common.vec_env import DummyVecEnv

    from pathzero.envs import make_env, resolve_game
    from pathzero.nets.dual import make_trunk, orthogonal_init

    class PathzeroTrunk(BaseFeaturesExtractor):
        def __init__(self, observation_space, net_cfg) -> None:
            trunk = make_trunk(observation_space.shape, net_cfg)
            super().__init__(observation_space, trunk.out_features)
            self.trunk = trunk
            orthogonal_init(self.trunk)

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return self.trunk(obs)

    spec = resolve_game(game)
    torch.set_num_threads(os.cpu_count() or 1)
    venv = DummyVecEnv([lambda: make_env(spec, clip_rewards=True) for _ in range(n_envs)])
    policy = "CnnPolicy" if spec.kind == "ale" else "MlpPolicy"
    kwargs = {} if net is None else {"policy_kwargs": {"features_extractor_class": PathzeroTrunk, "net_arch": [],
                                                       "features_extractor_kwargs": {"net_cfg": net}}}
    model = A2C(policy, venv, n_steps=5, device="cpu", seed=0, verbose=0, **kwargs)
    steps = frames // spec.frames_per_step
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    elapsed = time.perf_counter() - start
    venv.close()
    return steps * spec.frames_per_step / elapsed


# ---------------------------------------------------------------------------------------------
# The report

def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}"


def read_results(folder: Path) -> dict | None:
    """A resumable bench's finished part: `folder`/results.json, or None while it is not finished."""
    path = Path(folder) / "results.json"
    return json.loads(path.read_text()) if path.is_file() else None


def read_output(folder: Path, name: str, command: str) -> dict:
    """`folder`/`name` (the JSON a pathzero command wrote there), or one line saying which folder to give."""
    from pathzero.envs import UsageError

    path = Path(folder) / name
    if not path.is_file():
        raise UsageError(f"{folder} holds no {name}; give a folder written by pathzero {command}")
    return json.loads(path.read_text())


def save_results(folder: Path, data: dict, name: str = "results.json") -> dict:
    """Writes `folder`/results.json (or `name`) atomically: a bench cut short never leaves half a file."""
    from pathzero.agents.common.runlog import write_atomic

    write_atomic(Path(folder) / name, json.dumps(data, indent=1))
    return data


NOTE_MARK = "<!-- note (kept when the bench reruns without --note) -->"


def write_section(doc: Path, name: str, body: str, note: str = "") -> None:
    """Replaces (or appends) the section between <!-- bench:NAME --> markers. A `note` (the benches'
    --note: what the numbers mean) goes under the numbers; a rerun without one keeps the section's note."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n\nWritten by `python -m benchmarks`; rerun it to refresh.\n"
    pattern = re.compile(re.escape(start) + "(.*?)" + re.escape(end), re.S)
    found = pattern.search(text)
    if not note.strip() and found and NOTE_MARK in found.group(1):
        note = found.group(1).split(NOTE_MARK, 1)[1]
    if note.strip():
        body = body.rstrip() + "\n\n" + NOTE_MARK + "\n" + note.strip() + "\n"
    block = f"{start}\n{body.strip()}\n{end}"
    text = pattern.sub(lambda _: block, text) if found else text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


def speed_flags(vector: bool, precision: str) -> str:
    """The `pathzero train` flags of a speed variant ('defaults' for none)."""
    flags = (["--vector-env"] if vector else []) + ([f"--precision {precision}"] if precision != "fp32" else [])
    return " ".join(flags) or "defaults"


def speed_variants(kind: str, vector: bool, precision: str) -> list[tuple[bool, str]]:
    """The (vector env, precision) variants other than (vector, precision): the C++ vector environment
    for ALE games only, fp32 and bf16 arithmetic."""
    from pathzero.agents.common.config import PRECISIONS

    vectors = (False, True) if kind == "ale" else (False,)
    return [(v, p) for v in vectors for p in PRECISIONS if (v, p) != (vector, precision)]


def throughput(args) -> int:
    from pathzero.agents.a3c import A3CConfig
    from pathzero.agents.common.presets import describe_preset
    from pathzero.envs import UsageError, resolve_game

    spec = resolve_game(args.game)
    if args.frames < 1000 or args.workers < 1 or (args.envs_per_worker is not None and args.envs_per_worker < 1):
        raise UsageError("--frames must be >= 1000, --workers and --envs-per-worker >= 1")
    if args.vector_env and spec.kind != "ale":
        raise UsageError(f"--vector-env steps ALE games only; {spec.env_id} is a {spec.kind} game (drop the flag)")
    run = {"workers": args.workers, "total_frames": args.frames, "logdir": str(args.logdir), "progress": False,
           "replay_episodes": 0, **({"vector_env": True} if args.vector_env else {}),
           **({"precision": args.precision} if args.precision != "fp32" else {})}
    if args.envs_per_worker is not None:
        run["envs_per_worker"] = args.envs_per_worker
    cfg = training_config("a3c", args.game, run)
    epw = cfg.envs_per_worker
    n_envs = args.workers * epw
    preset_line = describe_preset(spec, A3CConfig, {k: v for k, v in run.items() if k == "envs_per_worker"})
    print(f"measuring {spec.env_id}: {args.workers} processes x {epw} envs, {args.frames:,} frames each; {preset_line}")
    a = env_ceiling_fps(spec.env_id, args.workers, epw, args.frames, cfg.clip_rewards, vector=args.vector_env)
    print(f"(a) env-only ceiling: {a:,.0f} frames/s")
    b, b_wall = train_fps(cfg)
    print(f"(b) pathzero A3C:     {b:,.0f} frames/s after start-up, {b_wall:,.0f} with start-up")
    rows = [("(a) environment only, random actions", a, "", f"{b / a:.3f}"),
            ("(b) pathzero A3C training", b, f"{b_wall:,.0f}", "1.00")]
    p = p_wall = None
    if args.pathnet:
        pcfg = training_config("pathnet", args.game, run)
        p, p_wall = train_fps(pcfg)
        print(f"(p) pathzero PathNet: {p:,.0f} frames/s after start-up, {p_wall:,.0f} with start-up")
        rows.append((f"(p) pathzero PathNet training (grid {pcfg.layers}x{pcfg.modules}, {pcfg.active} active, "
                     f"{pcfg.channels} channels)", p, f"{p_wall:,.0f}", f"{b / p:.2f}"))
    sweep = []
    for n in args.sweep:
        if n != epw:
            fps = a3c_fps(args.game, args.workers, n, args.frames, Path(args.logdir), vector=args.vector_env,
                          precision=args.precision)
            print(f"    A3C with {n} envs per worker: {fps:,.0f} frames/s")
            sweep.append((n, fps))
    options = []
    if args.speed_options:
        for vector, precision in speed_variants(spec.kind, args.vector_env, args.precision):
            fps = a3c_fps(args.game, args.workers, epw, args.frames, Path(args.logdir), vector=vector,
                          precision=precision)
            name = speed_flags(vector, precision)
            print(f"    A3C with {name}: {fps:,.0f} frames/s")
            options.append((name, fps))
    c = None
    sb3_frames = args.frames if args.sb3_frames is None else args.sb3_frames
    if not args.skip_sb3 and sb3_frames > 0:
        c = sb3_a2c_fps(args.game, n_envs, sb3_frames, net=cfg.net if args.sb3_net == "pathzero" else None)
        print(f"(c) SB3 A2C:          {c:,.0f} frames/s")
        sb3_what = ("pathzero's network (the same trunk and sizes)" if args.sb3_net == "pathzero"
                    else "its own CnnPolicy (Nature DQN network)")
        rows.append((f"(c) stable-baselines3 A2C with {sb3_what}, {n_envs} envs", c, "", f"{b / c:.2f}"))
    table = "\n".join(f"| {name} | {fps:,.0f} | {wall} | {ratio} |" for name, fps, wall, ratio in rows)
    goal_c = f"b/c = **{b / c:.2f}** (goal >= 4)" if c else "b/c not measured"
    pathnet_line = (f"; PathNet p/a = **{p / a:.3f}** after start-up, **{p_wall / a:.3f}** with start-up; PathNet "
                    f"over A3C p/b = **{p / b:.2f}** after start-up, **{p_wall / b_wall:.2f}** with start-up (goal >= 0.7: "
                    f"**{'met' if p / b >= 0.7 else 'not met'}**)" if p else "")
    command = (f"python -m benchmarks throughput --game {args.game} --workers {args.workers}"
               + (f" --envs-per-worker {args.envs_per_worker}" if args.envs_per_worker is not None else "")
               + f" --frames {args.frames}" + (f" --sb3-frames {args.sb3_frames}" if args.sb3_frames is not None else "")
               + (" --skip-sb3" if args.skip_sb3 else "") + (" --pathnet" if args.pathnet else "")
               + (" --sweep " + ",".join(map(str, args.sweep)) if args.sweep else "")
               + (" --speed-options" if args.speed_options else "")
               + (" --vector-env" if args.vector_env else "")
               + (f" --precision {args.precision}" if args.precision != "fp32" else "")
               + (f" --sb3-net {args.sb3_net}" if args.sb3_net != "pathzero" and c else "")
               + (f" --name {args.name}" if args.name else ""))
    stepped = " (ale-py's C++ vector environment)" if args.vector_env else ""
    stepped += ", learning in bfloat16" if args.precision == "bf16" else ""
    stepped += f" ({args.name})" if args.name else ""
    body = f"""## Throughput: {spec.env_id}{stepped}

Measured {dt.date.today().isoformat()} on {machine()}.
Command: `{command}`

Frames are emulator frames (one agent step = {spec.frames_per_step} frames). (a) steps the same wrappers with random
actions in the same {args.workers} processes x {epw} envs, timed after start-up (processes spawned, environments
built); (b) is `pathzero train` with the defaults it gives this game ({preset_line}; {args.workers} Hogwild
workers, {epw} envs each, one batched forward per step), timed after start-up (from the first update) and over
the whole `train` call (workers spawned and imported, envs built, final checkpoint written);
(c) is stable-baselines3's A2C on the same {n_envs} envs in one process using all cores.

| what | frames/s (after start-up) | frames/s (with start-up) | b / row |
|---|---:|---:|---:|
{table}

b/a = **{b / a:.3f}** after start-up, **{b_wall / a:.3f}** with start-up{pathnet_line}; {goal_c}.
"""
    if sweep:
        body += ("\nThe choice of envs per worker (one batched forward pass acts for all of them), same run:\n\n"
                 "| envs per worker | A3C frames/s | vs the default |\n|---:|---:|---:|\n"
                 + "\n".join(f"| {n}{' (default)' if n == epw else ''} | {fps:,.0f} | {fps / b:.2f} |"
                              for n, fps in sorted(sweep + [(epw, b)])) + "\n")
    if options:
        body += ("\nWhat each speed option buys, same run, same envs per worker (each row is one `pathzero train` "
                 "of the same frames; the vector environment's own ceiling is higher, so only the frames/s compare):\n\n"
                 "| options | A3C frames/s (after start-up) | vs (b) |\n|---|---:|---:|\n"
                 + "\n".join(f"| {name} | {fps:,.0f} | {fps / b:.2f} |"
                              for name, fps in [(speed_flags(args.vector_env, args.precision) + " (b)", b)] + options)
                 + "\n")
    write_section(Path(args.doc), f"throughput-{spec.name}" + ("-vector" if args.vector_env else "")
                  + ("-bf16" if args.precision == "bf16" else "") + (f"-{args.name}" if args.name else ""),
                  body, note=args.note)
    print(f"b/a = {b / a:.3f} after start-up, {b_wall / a:.3f} with start-up"
          + (f"; p/a = {p / a:.3f}, {p_wall / a:.3f}; p/b = {p / b:.2f}" if p else "") + (f", b/c = {b / c:.2f}" if c else "")
          + f"; written to {args.doc}")
    return 0


def plot_curve(run_dir: Path, out: Path, window: int = 20) -> dict:
    """Learning-curve PNG of a run (agents.pictures.run_curve: against frames and against hours); returns
    its summary."""
    from pathzero.agents.api import agent_of_run
    from pathzero.agents.pictures import plt, run_curve

    fig, summary = run_curve(run_dir, agent_of_run(run_dir), window)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return summary


def curve(args) -> int:
    from pathzero.envs import UsageError

    run_dir = Path(args.run_dir)
    if not (run_dir / "config.json").is_file():
        raise UsageError(f"{run_dir} is not a run folder (no config.json); give a folder made by pathzero train")
    out = Path(args.out) if args.out else Path(args.doc).parent / f"{run_dir.name.split('__')[0]}_learning_curve.png"
    s = plot_curve(run_dir, out)
    cfg = s["config"]
    title = f"Learning: {cfg['game']}" + (f" ({args.section})" if args.section else "")
    body = f"""## {title}

Measured {dt.date.today().isoformat()} on {machine()}.
Run: `pathzero train --game {cfg['game']} {'--serial' if cfg.get('serial') else f"--workers {cfg['workers']}"} --total-frames {cfg['total_frames']}` (defaults otherwise){f"; resumed {s['sessions'] - 1} time(s)" if s['sessions'] > 1 else ""};
plot: `python -m benchmarks curve RUN_DIR`.

![learning curve]({out.relative_to(Path(args.doc).parent) if out.is_relative_to(Path(args.doc).parent) else out})

After {s['frames']:,} emulator frames ({s['hours']:.2f} h wall clock, {s['episodes']} episodes): mean
unclipped score of the last {s['window']} episodes **{s['final_mean']:.1f}**, best such mean {s['best_mean']:.1f}.
"""
    write_section(Path(args.doc), args.section or f"learning-{run_dir.name.split('__')[0]}", body, note=args.note)
    print(f"{out}: final mean {s['final_mean']:.1f}, best {s['best_mean']:.1f} over {s['frames']:,} frames; "
          f"written to {args.doc}")
    return 0


# Modules adding more benchmarks: each has add_parsers(sub) -> {subcommand: handler(args) -> exit code}.
BENCH_MODULES = ("benchmarks.digits", "benchmarks.pathnet", "benchmarks.boards", "benchmarks.library",
                 "benchmarks.continual", "benchmarks.network",
                 "benchmarks.ray_backend", "benchmarks.learning", "benchmarks.peers",
                 "benchmarks.report_speed")


def build_parser(prog: str = "python -m benchmarks") -> tuple[ArgumentParser, dict]:
    import importlib

    parser = ArgumentParser(prog=prog, description="Measure throughput and learning; write docs/BENCHMARKS.md.")
    sub = parser.add_subparsers(dest="what", required=True)
    handlers = {"throughput": throughput, "curve": curve}
    tp = sub.add_parser("throughput", help="env-only ceiling vs pathzero A3C vs stable-baselines3 A2C")
    tp.add_argument("--game", default="Pong", help="game to measure (default: Pong)")
    tp.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: one per core)")
    tp.add_argument("--envs-per-worker", type=int, default=None,
                    help="envs per process (default: what pathzero train gives the game)")
    tp.add_argument("--frames", type=int, default=400_000, help="emulator frames per measurement (default: 400000)")
    tp.add_argument("--sb3-frames", type=int, default=None,
                    help="frames for SB3 if fewer; 0 skips SB3 (default: --frames)")
    tp.add_argument("--pathnet", action="store_true", help="also time a PathNet training run (an extra row)")
    tp.add_argument("--sweep", type=lambda t: [int(x) for x in t.split(",")], default=[],
                    help="also measure A3C with these envs per worker, e.g. 1,4,8 (default: none)")
    tp.add_argument("--skip-sb3", action="store_true", help="do not measure stable-baselines3")
    tp.add_argument("--vector-env", action="store_true",
                    help="ALE: step the games in ale-py's C++ vector environment, in (a) and in training; a "
                         "section of its own")
    tp.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                    help="pathzero's learning arithmetic (pathzero train --precision); bf16: a section of its own")
    tp.add_argument("--speed-options", action="store_true",
                    help="also measure A3C with the other speed options (--vector-env for ALE games, --precision "
                         "fp32/bf16, and both), each against (b) in the same run")
    tp.add_argument("--sb3-net", choices=("pathzero", "nature"), default="pathzero",
                    help="SB3's network: pathzero's trunk and sizes (default, the same network) or SB3's own "
                         "Nature-DQN CnnPolicy")
    tp.add_argument("--name", default="",
                    help="names the section, so that a measurement on another machine keeps a section of its own "
                         "beside the first (default: the game and options alone)")
    tp.add_argument("--note", default="", help="a remark to add under the numbers (kept when rerun without one)")
    tp.add_argument("--logdir", default="runs/bench", help="where the A3C measurement run goes")
    tp.add_argument("--doc", default=str(DEFAULT_DOC), help="markdown file to update (default: docs/BENCHMARKS.md)")
    cu = sub.add_parser("curve", help="learning-curve PNG and summary of a training run")
    cu.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by pathzero train")
    cu.add_argument("--out", default=None, help="PNG path (default: docs/<game>_learning_curve.png)")
    cu.add_argument("--note", default="", help="a remark to add under the numbers")
    cu.add_argument("--section", default=None,
                    help="name of the section to write (default: learning-<game>; a new name adds a section)")
    cu.add_argument("--doc", default=str(DEFAULT_DOC), help="markdown file to update (default: docs/BENCHMARKS.md)")
    for module in BENCH_MODULES:
        handlers.update(importlib.import_module(module).add_parsers(sub))
    return parser, handlers


def main(argv: list[str] | None = None, prog: str = "python -m benchmarks") -> None:
    parser, handlers = build_parser(prog)
    args = parser.parse_args(argv)
    run_command(prog, lambda: handlers[args.what](args))


if __name__ == "__main__":
    main()
