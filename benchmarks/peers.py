"""`python -m benchmarks peers`: pathzero's A3C against Stable-Baselines3's PPO and A2C and Sample Factory's
APPO on one machine.

    python -m benchmarks peers                          # Pong (20M frames) and Breakout (10M), 3 seeds each
    python -m benchmarks peers --games Pong --seeds 2   # a slice: the first two seeds of Pong
    python -m benchmarks peers --report-only            # the section from the runs finished so far

Every method plays the same games under one protocol: ALE v5 with sticky actions (0.25), 4 emulator
frames per agent step, up to 30 no-op starts, 84x84 grayscale frames stacked by 4; each evaluates every
500,000 frames on 10 whole episodes (no life-loss resets, unclipped game scores, actions sampled from the
policy) with environment seeds no training environment uses. What each learns from is its own recipe:
pathzero trains with the defaults `pathzero train --game X` gives (the ALE preset); the peers with the RL
Zoo's Atari hyperparameters and wrappers (SB3's AtariWrapper: life loss ends a training episode, FIRE on
reset, rewards clipped), as a user of the Zoo gets them; Sample Factory with its own Atari example's settings
and the same wrappers, in an environment of its own (benchmarks/sf_appo.py, `make .venv-sf`).

The methods run one at a time on all cores. Wall time is training time: a peer's evaluations stop its
clock (they run between its updates), pathzero's run in a thread beside its workers and count. Every run
keeps a checkpoint (pathzero's own; the peer's model and evaluations every --checkpoint-minutes), so the
bench resumes where it stopped and runs in slices; each slice notes its machine (slices.json).
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.learning import PlannedRun, read_slices, record_slice, run_planned, where_run

DEFAULT_DOC = "docs/BENCHMARKS.md"
DEFAULT_LOGDIR = "docs/bench-runs/peers"
GAMES = {"Pong": 20_000_000, "Breakout": 10_000_000}  # frames per run
SCORE_AT = 10_000_000  # frames: the score-at-budget column
PONG_TARGETS = (10.0, 18.0)
HOLD = 3  # evaluations in a row at or above the target: "held"
# A run of these games ends once HOLD evaluations in a row reach the return, from SCORE_AT frames on (so every
# run has its score at the budget): "Pong until +18 is held or 20M frames".
HELD_STOP = {"Pong": 18.0}
EVAL_EVERY = 500_000  # frames, as pathzero's ALE preset
EVAL_EPISODES = 10
FRAME_SKIP = 4
STICKY = 0.25
EVAL_SEED = 1_000_003  # pathzero's evaluation seeds (agents.common.evaluation.EVAL_SEED)

# The RL Zoo's Atari hyperparameters (rl-baselines3-zoo hyperparams/ppo.yml and a2c.yml, "atari"); every
# other setting is SB3's default. "lin_X" is a schedule from X down to 0 over the run.
PEERS = {
    "sb3-ppo": {"algo": "PPO", "n_envs": 8, "n_steps": 128, "n_epochs": 4, "batch_size": 256,
                "learning_rate": "lin_2.5e-4", "clip_range": "lin_0.1", "vf_coef": 0.5, "ent_coef": 0.01},
    "sb3-a2c": {"algo": "A2C", "n_envs": 16, "ent_coef": 0.01, "vf_coef": 0.25,
                "policy_kwargs": "RMSpropTFLike(eps=1e-5)"},
}
# Sample Factory's APPO with its own Atari settings (sf_examples.atari), in an environment of its own
# (numpy < 2, gymnasium < 1): `make .venv-sf` (benchmarks/requirements-sf.txt); benchmarks/sf_appo.py runs it.
SF = "sf-appo"
SF_PYTHON = ".venv-sf/bin/python"
SF_STOP_SECONDS = 60  # Sample Factory's grace to stop on SIGINT (it saves a checkpoint) before it is killed
SF_STALL_SECONDS = 900  # no new checkpoint (written every 20 s) for this long: Sample Factory hangs; it is stopped
METHODS = ("pathzero", *PEERS, SF)
LABELS = {"pathzero": "pathzero A3C (defaults)", "sb3-ppo": "SB3 PPO (RL Zoo)", "sb3-a2c": "SB3 A2C (RL Zoo)",
          SF: "Sample Factory APPO (its Atari settings)"}


@dataclass(frozen=True)
class PeerRun:
    method: str
    game: str
    seed: int
    frames: int

    def planned(self) -> PlannedRun:
        return PlannedRun(self.method, self.game, self.seed, self.frames)

    def folder(self, root: Path) -> Path:
        return self.planned().folder(root)  # <root>/<method>/<game>__seed-<s>


def plan(games: list[str], seeds: int, methods: list[str], frames: int | None = None) -> list[PeerRun]:
    """Seed by seed, each game's methods one after the other: a slice that stops early leaves
    comparable runs (every method of the first seeds) rather than one method's every seed."""
    return [PeerRun(m, g, s, frames or GAMES.get(g, SCORE_AT))
            for s in range(1, seeds + 1) for g in games for m in methods]


# ---------------------------------------------------------------------------------------------
# The peers: SB3 on the same games, evaluated as pathzero evaluates

def _schedule(value):
    """'lin_X' -> SB3's linear schedule from X to 0; a number stays."""
    if isinstance(value, str) and value.startswith("lin_"):
        start = float(value[4:])
        return lambda progress_remaining: progress_remaining * start
    return value


def peer_env(game: str, n: int, seed: int, training: bool):
    """`n` copies of `game` (ALE v5, sticky 0.25, 1 frame per step underneath) with SB3's AtariWrapper
    (30 no-ops, 4 frames per step with a max over the last two, 84x84 grayscale; in training also life loss
    ends an episode and rewards are clipped), stacked by 4, in SB3's DummyVecEnv (the Zoo's default)."""
    import gymnasium as gym
    from stable_baselines3.common.atari_wrappers import AtariWrapper
    from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

    from pathzero.envs import resolve_game
    from pathzero.envs.games import _register_ale

    _register_ale()
    gym_id = resolve_game(game).gym_id

    def make(rank: int):
        def build():
            env = gym.make(gym_id, frameskip=1, repeat_action_probability=STICKY, full_action_space=False)
            env = AtariWrapper(env, noop_max=30, frame_skip=FRAME_SKIP, screen_size=84,
                               terminal_on_life_loss=training, clip_reward=training)
            env.reset(seed=seed + rank)
            env.action_space.seed(seed + rank)
            return env
        return build

    return VecFrameStack(DummyVecEnv([make(i) for i in range(n)]), 4)


def peer_evaluate(model, game: str, episodes: int, seed: int) -> list[float]:
    """`episodes` whole episodes at once (one batched forward pass per step), actions sampled from the
    policy; returns their unclipped scores."""
    env = peer_env(game, episodes, EVAL_SEED + seed * 1000, training=False)
    obs = env.reset()
    totals, finished = np.zeros(episodes), np.zeros(episodes, dtype=bool)
    while not finished.all():
        actions, _ = model.predict(obs, deterministic=False)
        obs, rewards, dones, _ = env.step(actions)
        totals += np.where(finished, 0.0, rewards)
        finished |= dones
    env.close()
    return [float(x) for x in totals]


STATE = "peer_state.json"
MODEL = "model.zip"


def _make_peer(method: str, env, seed: int):
    import stable_baselines3 as sb3
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

    settings = {k: _schedule(v) for k, v in PEERS[method].items() if k not in ("algo", "n_envs", "policy_kwargs")}
    if method == "sb3-a2c":
        settings["policy_kwargs"] = {"optimizer_class": RMSpropTFLike, "optimizer_kwargs": {"eps": 1e-5}}
    algo = getattr(sb3, PEERS[method]["algo"])
    return algo("CnnPolicy", env, seed=seed, verbose=0, device="cpu", **settings)


def run_peer(run: PeerRun, root: Path, checkpoint_minutes: float = 10.0, stop_at: int | None = None,
             eval_every: int = EVAL_EVERY, episodes: int = EVAL_EPISODES) -> dict | None:
    """Trains (or resumes, or skips) one SB3 run; returns its results, or None when `stop_at` frames
    (a test's interruption) cut it short after a checkpoint."""
    import stable_baselines3 as sb3
    import torch
    from stable_baselines3.common.callbacks import BaseCallback

    from benchmarks.bench import read_results
    from pathzero.agents.common.runlog import write_atomic
    from pathzero.agents.common.stats import mean_interval

    folder = run.folder(root)
    done = read_results(folder)
    if done is not None:
        return done
    n_envs = PEERS[run.method]["n_envs"]
    state_path, model_path = folder / STATE, folder / MODEL
    if state_path.is_file() and model_path.is_file():
        state = json.loads(state_path.read_text())
        print(f"{run.method} {run.game} seed {run.seed}: resuming at {state['frames']:,} frames", flush=True)
        env = peer_env(run.game, n_envs, run.seed * 100 + len(read_slices(folder)), training=True)
        model = getattr(sb3, PEERS[run.method]["algo"]).load(model_path, env=env, device="cpu")
    else:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        print(f"{run.method} {run.game} seed {run.seed}: {run.frames:,} frames into {folder}", flush=True)
        state = {"frames": 0, "wall_seconds": 0.0, "evals": [], "eval_seconds": 0.0}
        env = peer_env(run.game, n_envs, run.seed * 100, training=True)
        model = _make_peer(run.method, env, run.seed)
    record_slice(folder, state["frames"])

    def evaluate(frames: int) -> None:
        t0 = time.perf_counter()
        returns = peer_evaluate(model, run.game, episodes, run.seed)
        est = mean_interval(np.asarray(returns))
        state["evals"].append([frames, est.value, est.low, est.high, state["wall_seconds"]])
        state.setdefault("returns", {})[str(frames)] = returns
        state["eval_seconds"] += time.perf_counter() - t0

    def checkpoint() -> None:
        model.save(model_path)
        write_atomic(state_path, json.dumps(state))

    class Clock(BaseCallback):
        """Evaluates every `eval_every` frames with the training clock stopped, checkpoints."""

        def _on_training_start(self) -> None:
            self.mark = self.saved = time.perf_counter()

        def _on_step(self) -> bool:
            now = time.perf_counter()
            state["wall_seconds"] += now - self.mark
            state["frames"] = frames = int(self.num_timesteps) * FRAME_SKIP
            last = state["evals"][-1][0] if state["evals"] else 0
            if frames >= (last // eval_every + 1) * eval_every:  # as pathzero: the first at eval_every frames
                evaluate(frames)
                if ends_held(run.game, state["evals"], frames):
                    state["held"] = True
                    return False
            if time.perf_counter() - self.saved >= checkpoint_minutes * 60 or (stop_at and frames >= stop_at):
                checkpoint()
                self.saved = time.perf_counter()
            self.mark = time.perf_counter()
            return not (stop_at and frames >= stop_at)

    remaining = max(run.frames - state["frames"], 0) // FRAME_SKIP
    model.learn(total_timesteps=remaining, reset_num_timesteps=state["frames"] == 0, callback=Clock())
    env.close()
    if stop_at and state["frames"] < run.frames and not state.get("held"):
        return None
    if not state["evals"] or state["evals"][-1][0] < state["frames"]:
        evaluate(state["frames"])
    checkpoint()
    settings = {**PEERS[run.method], "eval_every": eval_every, "evaluation_episodes": episodes}
    return _save_peer(run, folder, state, state["evals"], state["returns"][str(state["evals"][-1][0])], settings,
                      f"stable-baselines3 {sb3.__version__}, torch {torch.__version__}")


def _save_peer(run: PeerRun, folder: Path, state: dict, evals: list, final_returns: list, settings: dict,
               version: str) -> dict:
    """One finished peer run's results (the same fields for SB3 and Sample Factory), saved in its folder:
    `evals` as [frames, mean, low, high, wall seconds] rows, `state` its frames, times and whether it held."""
    from benchmarks.bench import save_results

    data = {"method": run.method, "game": run.game, "seed": run.seed, "planned_frames": run.frames,
            "frames": state["frames"], "wall_seconds": state["wall_seconds"], "eval_seconds": state["eval_seconds"],
            "fps": state["frames"] / max(state["wall_seconds"], 1e-9), "evals": evals,
            "final_returns": final_returns, "settings": settings, "ended_held": bool(state.get("held")),
            "version": version, "slices": read_slices(folder)}
    return save_results(folder, data)


def check_sf_python(python: str) -> None:
    from pathzero.envs import UsageError

    if not Path(python).is_file():
        raise UsageError(f"{SF} runs in Sample Factory's own environment, and {python} is not there: run "
                         "`make .venv-sf` (or give --sf-python)")


def run_sf(run: PeerRun, root: Path, python: str = SF_PYTHON, workers: int = 2, eval_every: int = EVAL_EVERY,
           episodes: int = EVAL_EPISODES, save_every_sec: int = 20, poll_seconds: float = 30.0) -> dict:
    """Trains (or resumes, or skips) one Sample Factory run in its own environment (benchmarks/sf_appo.py);
    its results in run_peer's form. Ctrl-C or SIGTERM stop Sample Factory (SIGINT, then SIGKILL after
    SF_STOP_SECONDS) before they stop this process."""
    import os
    import signal
    import subprocess
    import sys

    from benchmarks.bench import read_results
    from benchmarks.sf_appo import checkpoints as sf_checkpoints
    from pathzero.agents.common.stats import mean_interval

    folder = run.folder(root)
    done = read_results(folder)
    if done is not None:
        return done
    check_sf_python(python)
    state_path = folder / "sf_state.json"
    found = sf_checkpoints(folder)
    frames = found[-1][0] if found else 0
    if not state_path.is_file():
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{run.method} {run.game} seed {run.seed}: " + (f"resuming at {frames:,} frames" if frames else
          f"{run.frames:,} frames into {folder}"), flush=True)
    record_slice(folder, frames)
    script = Path(__file__).with_name("sf_appo.py")
    command = [python, str(script), "--game", run.game, "--seed", str(run.seed), "--frames", str(run.frames),
               "--folder", str(folder), "--workers", str(workers), "--eval-every", str(eval_every),
               "--episodes", str(episodes), "--save-every-sec", str(save_every_sec)]
    if run.game in HELD_STOP:
        command += ["--end-held", str(HELD_STOP[run.game]), "--hold", str(HOLD), "--end-from", str(SCORE_AT)]

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    with (folder / "sf.log").open("a") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        previous = signal.signal(signal.SIGTERM, interrupted)
        try:
            seen, moved = frames, time.monotonic()
            while True:  # a deadline for the wait: no new checkpoint for SF_STALL_SECONDS is a hang
                try:
                    code = proc.wait(timeout=poll_seconds)
                    break
                except subprocess.TimeoutExpired:
                    found = sf_checkpoints(folder)
                    if found and found[-1][0] > seen:
                        seen, moved = found[-1][0], time.monotonic()
                    elif time.monotonic() - moved > SF_STALL_SECONDS:
                        raise RuntimeError(f"{run.method} {run.game} seed {run.seed}: no new checkpoint for "
                                           f"{SF_STALL_SECONDS} s, stopped; its log is {folder / 'sf.log'}") from None
        finally:
            signal.signal(signal.SIGTERM, previous)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=SF_STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=SF_STOP_SECONDS)
    state = json.loads(state_path.read_text()) if state_path.is_file() else {}
    if code != 0 or not state.get("finished") or not state.get("evals"):
        print((folder / "sf.log").read_text()[-3000:], file=sys.stderr)
        raise RuntimeError(f"{run.method} {run.game} seed {run.seed} stopped (exit code {code}) before "
                           f"{run.frames:,} frames: its log is {folder / 'sf.log'}")
    evals = []
    for frames_at, wall, returns in state["evals"]:
        est = mean_interval(np.asarray(returns, dtype=float))
        evals.append([frames_at, est.value, est.low, est.high, wall])
    settings = {**state["settings"], "eval_every": eval_every, "evaluation_episodes": episodes}
    return _save_peer(run, folder, state, evals, state["evals"][-1][2], settings, state["version"])


def run_pathzero(run: PeerRun, root: Path, workers: int, options: dict) -> dict:
    if run.game in HELD_STOP:  # pathzero's own option for the same rule
        options = {**options, "target_eval_return": HELD_STOP[run.game], "target_eval_hold": HOLD,
                   "target_eval_from": SCORE_AT}
    res = run_planned(run.planned(), root, workers, options, progress=False)
    res.setdefault("method", run.method)
    res.setdefault("ended_held", ends_held(run.game, res["evals"], res["frames"]) and res["frames"] < run.frames)
    return res


# ---------------------------------------------------------------------------------------------
# The report

def at_frames(evals: list, frames: int) -> float | None:
    """The mean return of the first evaluation at or after `frames` (None if the run has none)."""
    for row in evals:
        if row[0] >= frames:
            return row[1]
    return None


def first_held(evals: list, target: float, hold: int = 1) -> tuple[float, float] | None:
    """(frames, wall seconds) of the first evaluation that starts `hold` evaluations in a row at or above
    `target`; with hold = 1, the first to reach it."""
    means = [row[1] for row in evals]
    for i in range(len(evals) - hold + 1):
        if all(m >= target for m in means[i:i + hold]):
            return evals[i][0], evals[i][4]
    return None


def holds_at_end(evals: list, target: float, hold: int = HOLD) -> bool:
    return len(evals) >= hold and all(row[1] >= target for row in evals[-hold:])


def ends_held(game: str, evals: list, frames: int) -> bool:
    """Whether a run of `game` at `frames` with these evaluations ends now (HELD_STOP)."""
    target = HELD_STOP.get(game)
    return target is not None and frames >= SCORE_AT and holds_at_end(evals, target)


def _t(values: list[float], digits: int = 1, scale: float = 1.0) -> str:
    from pathzero.agents.common.stats import t_interval

    if not values:
        return "-"
    est = t_interval(np.asarray(values, dtype=float) * scale)
    if est.low is None:
        return f"{est.value:.{digits}f}"
    return f"{est.value:.{digits}f} [{est.low:.{digits}f}, {est.high:.{digits}f}]"


def plot_peers(results: dict[str, dict[str, list[dict]]], out: Path) -> None:
    """Per game, the evaluation return against frames and against training hours: each seed faint, the
    mean over seeds bold (at the evaluations every seed has)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    games = [g for g in results if any(results[g].values())]
    fig, axes = plt.subplots(len(games), 2, figsize=(11, 3.8 * len(games)), dpi=90, squeeze=False)
    for row, game in zip(axes, games):
        for index, method in enumerate(METHODS):
            runs = results[game].get(method) or []
            if not runs:
                continue
            color = f"C{index}"
            for res in runs:
                ev = np.array([r[:5] for r in res["evals"]], dtype=float)
                row[0].plot(ev[:, 0] / 1e6, ev[:, 1], color=color, lw=0.7, alpha=0.3)
                row[1].plot(ev[:, 4] / 3600, ev[:, 1], color=color, lw=0.7, alpha=0.3)
            length = min(len(res["evals"]) for res in runs)
            ev = np.array([[r[:5] for r in res["evals"][:length]] for res in runs], dtype=float)  # [seeds, k, 5]
            label = f"{LABELS[method]} ({len(runs)} seed{'s' if len(runs) != 1 else ''})"
            row[0].plot(ev[0, :, 0] / 1e6, ev[:, :, 1].mean(axis=0), color=color, lw=2.2, label=label)
            row[1].plot(ev[:, :, 4].mean(axis=0) / 3600, ev[:, :, 1].mean(axis=0), color=color, lw=2.2, label=label)
        for ax, xlabel in zip(row, ("emulator frames (millions)", "training wall-clock hours")):
            ax.set_title(game)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("evaluation return (10 episodes)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="best")
            if game == "Pong":
                for target in PONG_TARGETS:
                    ax.axhline(target, ls=":", lw=0.8, color="grey")
    fig.suptitle("pathzero against its peers on one machine: evaluation return (seeds faint, mean bold)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def report(runs: list[PeerRun], root: Path, doc: Path, command: str, note: str, eval_every: int = EVAL_EVERY,
           episodes: int = EVAL_EPISODES) -> str:
    from benchmarks.bench import machine, read_results, write_section

    results: dict[str, dict[str, list[dict]]] = {}
    done = {}
    for run in runs:
        res = read_results(run.folder(root))
        results.setdefault(run.game, {}).setdefault(run.method, [])
        if res is not None:
            results[run.game][run.method].append(res)
            done[f"{run.method} {run.game} s{run.seed}"] = res
    picture = root / "peers.png"
    if done:
        plot_peers(results, picture)
    try:
        shown = picture.relative_to(doc.parent)
    except ValueError:
        shown = picture
    pending = len(runs) - len(done)
    lines = []
    for game, by_method in results.items():
        pong = game == "Pong"
        head = ["method", "seeds", f"score at {SCORE_AT / 1e6:g}M frames [95% t-interval]", "final score",
                "frames/s (training)"]
        if pong:
            head[3:3] = [f"hours to +{t:g} (first evaluation)" for t in PONG_TARGETS] + [
                f"hours to +18 held ({HOLD} in a row)", "holds +18 at the end"]
        lines += [f"**{game}** ({GAMES.get(game, SCORE_AT) / 1e6:g}M frames per run)", "",
                  "| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
        for method in METHODS:
            res = by_method.get(method) or []
            if not res:
                continue
            at = [x for x in (at_frames(r["evals"], SCORE_AT) for r in res) if x is not None]
            cells = [LABELS[method], str(len(res)), _t(at), _t([r["evals"][-1][1] for r in res])]
            if pong:
                for target in PONG_TARGETS:
                    hit = [first_held(r["evals"], target) for r in res]
                    cells.insert(-1, _t([h[1] for h in hit if h], 2, 1 / 3600) + f" ({sum(h is not None for h in hit)}"
                                 f"/{len(res)} reached)")
                held = [first_held(r["evals"], 18.0, HOLD) for r in res]
                cells.insert(-1, _t([h[1] for h in held if h], 2, 1 / 3600) + f" ({sum(h is not None for h in held)}"
                             f"/{len(res)})")
                cells.insert(-1, f"{sum(holds_at_end(r['evals'], 18.0) for r in res)}/{len(res)}")
            cells.append(f"{np.mean([r['fps'] for r in res]):,.0f}")
            lines.append("| " + " | ".join(cells) + " |")
        ended = [f"{LABELS[m]} seed {r['seed']} at {r['frames'] / 1e6:.1f}M" for m in METHODS
                 for r in by_method.get(m) or [] if r.get("ended_held")]
        if game in HELD_STOP:
            lines += ["", f"A run ends once {HOLD} evaluations in a row reach {HELD_STOP[game]:+g}, from "
                          f"{SCORE_AT / 1e6:g}M frames on; ended so: {', '.join(ended) or 'none'}."]
        lines.append("")
    versions = sorted({r.get("version", "") for r in done.values() if r.get("version")})
    settings = "; ".join(f"{m}: " + ", ".join(f"{k} {v}" for k, v in PEERS[m].items()) for m in PEERS)
    sf_runs = [r for r in done.values() if r["method"] == SF]
    sf_settings = (", ".join(f"{k} {v}" for k, v in sf_runs[0]["settings"].items()
                             if k not in ("eval_every", "evaluation_episodes")) if sf_runs else "written when a run finishes")
    shown_versions = ", ".join(versions) or "versions written when a peer run finishes"
    status = "all runs finished" if not pending else f"**{pending} of {len(runs)} runs not finished yet**"
    sf_text = "" if SF not in {r.method for r in runs} else f""" Sample Factory's APPO runs with its own Atari
settings (sf_examples.atari: {sf_settings}) and wrappers (as SB3's), on `--workers` rollout workers of 4
environments, in an environment of its own (benchmarks/requirements-sf.txt); its evaluations run in a thread
beside its training and count, as pathzero's, each on the first checkpoint (written every 20 s) past its mark,
at that checkpoint's frames."""
    body = f"""## Peers: pathzero against Stable-Baselines3 and Sample Factory on one machine

Measured on {machine()}; {dt.date.today().isoformat()} is the date of this report. Command: `{command}`.
Runs: {len(done)} finished ({status}); {where_run(done) or "none yet"}.

One protocol for every method: ALE v5, sticky actions 0.25, 4 frames per step, 30 no-op starts, 84x84x4;
an evaluation every {eval_every:,} frames of {episodes} whole episodes (unclipped scores, no life-loss resets,
actions sampled). pathzero trains with `pathzero train --game X` defaults (2 workers); the peers with the RL Zoo's
Atari settings ({settings}; SB3's AtariWrapper, DummyVecEnv, frame stack 4), {shown_versions}. Hours are training wall-clock hours on all cores, one method at a time: a peer's
evaluations stop its clock, pathzero's run beside its workers and count.{sf_text} Intervals are t-intervals over seeds.

{chr(10).join(lines)}
![peers: evaluation return against frames and hours]({shown})
"""
    write_section(doc, "peers", body, note)
    return body


def peers(args) -> int:
    from pathzero.envs import UsageError, resolve_game

    if args.seeds < 1 or args.workers < 1:
        raise UsageError("--seeds and --workers must be >= 1")
    for game in args.games:
        if resolve_game(game).kind != "ale":
            raise UsageError(f"--games takes ALE games (e.g. Pong Breakout); {game} is not one")
    unknown = sorted(set(args.methods) - set(METHODS))
    if unknown:
        raise UsageError(f"unknown --methods {' '.join(unknown)}; choose from {' '.join(METHODS)}")
    if any(m in PEERS for m in args.methods):
        try:
            import stable_baselines3  # noqa: F401
        except ImportError:
            raise UsageError("the peers need stable-baselines3: pip install -e '.[bench]'") from None
    if SF in args.methods and not args.report_only:
        check_sf_python(args.sf_python)
    root = Path(args.logdir)
    runs = plan(args.games, args.seeds, args.methods, args.frames)
    options = {}  # pathzero's ALE preset evaluates as the protocol does; other values are passed on
    if args.eval_every != EVAL_EVERY:
        options["eval_every"] = args.eval_every
    if args.evaluation_episodes != EVAL_EPISODES:
        options["evaluation_episodes"] = args.evaluation_episodes
    if not args.report_only:
        start = time.perf_counter()
        for index, run in enumerate(runs, 1):
            if run.method == "pathzero":
                res = run_pathzero(run, root, args.workers, options)
            elif run.method == SF:
                res = run_sf(run, root, args.sf_python, args.workers, args.eval_every, args.evaluation_episodes)
            else:
                res = run_peer(run, root, args.checkpoint_minutes, eval_every=args.eval_every,
                               episodes=args.evaluation_episodes)
            print(f"[peers {index}/{len(runs)}] {run.method} {run.game} seed {run.seed}: {res['frames']:,} frames, "
                  f"final evaluation {res['evals'][-1][1]:.1f} ({time.perf_counter() - start:.0f} s so far)",
                  flush=True)
    command = ("python -m benchmarks peers --games " + " ".join(args.games) + f" --seeds {args.seeds}"
               + (" --methods " + " ".join(args.methods) if tuple(args.methods) != METHODS else "")
               + (f" --frames {args.frames}" if args.frames else "")
               + (f" --eval-every {args.eval_every}" if args.eval_every != EVAL_EVERY else "")
               + (f" --evaluation-episodes {args.evaluation_episodes}" if args.evaluation_episodes != EVAL_EPISODES
                  else ""))
    print(report(runs, root, Path(args.doc), command, args.note, args.eval_every, args.evaluation_episodes))
    return 0


def add_parsers(sub) -> dict:
    pe = sub.add_parser("peers", help="pathzero A3C against SB3 PPO and A2C and Sample Factory APPO on one "
                                      "machine (resumable)",
                        description="Trains pathzero (its defaults), Stable-Baselines3's PPO and A2C (the RL "
                                    "Zoo's Atari settings) and Sample Factory's APPO (its Atari example's "
                                    "settings, in its own environment: make .venv-sf) "
                                    "on the same games under one evaluation protocol, one "
                                    "at a time, and writes their curves against frames and hours, the score at "
                                    "10M frames and the hours to Pong +10 and +18 to docs/BENCHMARKS.md. "
                                    "Resumable: finished runs are skipped, interrupted ones resume.")
    pe.add_argument("--games", nargs="+", default=list(GAMES), help="ALE games (default: Pong Breakout)")
    pe.add_argument("--seeds", type=int, default=3, help="seeds per game and method (default: 3)")
    pe.add_argument("--methods", nargs="+", default=list(METHODS), help=f"default: {' '.join(METHODS)}")
    pe.add_argument("--frames", type=int, default=None,
                    help="frames per run (default: Pong 20M, Breakout 10M)")
    pe.add_argument("--workers", type=int, default=2, help="pathzero's workers and Sample Factory's rollout "
                    "workers (default: 2)")
    pe.add_argument("--sf-python", default=SF_PYTHON,
                    help=f"the Python of Sample Factory's own environment (default: {SF_PYTHON}, made by "
                         "`make .venv-sf`)")
    pe.add_argument("--eval-every", type=int, default=EVAL_EVERY, help=f"frames (default: {EVAL_EVERY})")
    pe.add_argument("--evaluation-episodes", type=int, default=EVAL_EPISODES,
                    help=f"episodes per evaluation (default: {EVAL_EPISODES})")
    pe.add_argument("--checkpoint-minutes", type=float, default=10.0,
                    help="a peer's checkpoint interval (default: 10)")
    pe.add_argument("--logdir", default=DEFAULT_LOGDIR, help=f"where the runs go (default: {DEFAULT_LOGDIR})")
    pe.add_argument("--report-only", action="store_true", help="write the section from the finished runs only")
    pe.add_argument("--note", default="", help="a remark to add under the numbers (kept when rerun without one)")
    pe.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    return {"peers": peers}
