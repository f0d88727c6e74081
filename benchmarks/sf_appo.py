"""One Sample Factory APPO run under the peers benchmark's protocol (benchmarks/peers.py starts it).

Sample Factory 2.1 needs numpy < 2 and gymnasium < 1, which pathzero's environment cannot hold, so this file
runs in an environment of its own (`make .venv-sf`: benchmarks/requirements-sf.txt) and imports nothing of
pathzero's; it writes what it measured to <folder>/sf_state.json, and peers.py makes the results from it.

    .venv-sf/bin/python benchmarks/sf_appo.py --game Pong --seed 1 --frames 20000000 --folder F

Training: Sample Factory's own Atari settings (sf_examples.atari: APPO with PPO's clipped loss, 4 epochs of
4 minibatches over rollouts of 128, batch 256, Adam 2.5e-4 decaying linearly, GAE 0.95, normalised inputs and
returns; its wrappers: 30 no-ops, 4 frames per step with a max over the last two, life loss ends a training
episode, FIRE on reset, rewards clipped, 84x84 grayscale stacked by 4) on ALE v5 with sticky actions 0.25, on
`--workers` rollout workers of 4 environments each (8 environments, as the Zoo's PPO), on the CPU.
Evaluation: a thread beside the training (as pathzero's) loads each checkpoint that passes the next multiple
of `--eval-every` frames (Sample Factory checkpoints every `--save-every-sec` seconds, so an evaluation lands up
to that long after its mark; its own frame count is recorded) and plays `--episodes` whole episodes: no
life-loss ends, unclipped scores, actions sampled from the policy. Rerun to resume: Sample Factory restarts
from its latest checkpoint and the evaluations so far are kept.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from pathlib import Path

# The protocol's constants, as benchmarks/peers.py has them (this file cannot import it: it runs in Sample
# Factory's environment, whose gymnasium < 1 pathzero (gymnasium >= 1) cannot use)
STICKY = 0.25
EVAL_SEED = 1_000_003  # pathzero's evaluation seeds


def make_env(game: str, training: bool, render_mode=None):
    """ALE v5 `game` under Sample Factory's Atari wrappers; evaluation drops life-loss ends and clipping."""
    import gymnasium as gym
    from sample_factory.envs.env_wrappers import (ClipRewardEnv, EpisodicLifeEnv, FireResetEnv, MaxAndSkipEnv,
                                                  NoopResetEnv, NumpyObsWrapper)

    env = gym.make(f"ALE/{game}-v5", frameskip=1, repeat_action_probability=STICKY, full_action_space=False,
                   render_mode=render_mode)
    env = gym.wrappers.RecordEpisodeStatistics(env)
    env = NoopResetEnv(env, noop_max=30)
    env = MaxAndSkipEnv(env, skip=4)
    if training:
        env = EpisodicLifeEnv(env)
    if "FIRE" in env.unwrapped.get_action_meanings():
        env = FireResetEnv(env)
    if training:
        env = ClipRewardEnv(env)
    env = gym.wrappers.ResizeObservation(env, (84, 84))
    env = gym.wrappers.GrayScaleObservation(env)
    env = gym.wrappers.FrameStack(env, 4)
    return NumpyObsWrapper(env)


def env_name(game: str) -> str:
    return f"pz_{game}"


def make_training_env(full_env_name: str, cfg=None, env_config=None, render_mode=None):
    """Sample Factory's env factory (module level: its worker processes unpickle it)."""
    return make_env(full_env_name.removeprefix("pz_"), True, render_mode)


def register(game: str) -> None:
    from sample_factory.envs.env_utils import register_env

    register_env(env_name(game), make_training_env)


def sf_config(args, argv_extra=()):
    from sample_factory.cfg.arguments import parse_full_cfg, parse_sf_args
    from sf_examples.atari.atari_params import atari_override_defaults

    argv = [f"--env={env_name(args.game)}", f"--experiment=sf", f"--train_dir={Path(args.folder).resolve()}",
            "--device=cpu", f"--num_workers={args.workers}", "--num_envs_per_worker=4",
            f"--train_for_env_steps={args.frames}", f"--seed={args.seed}", "--with_wandb=False",
            f"--save_every_sec={args.save_every_sec}", "--keep_checkpoints=3", *argv_extra]
    parser, partial = parse_sf_args(argv=argv)
    atari_override_defaults(partial.env, parser)
    return parse_full_cfg(parser, argv)


class Interrupted(Exception):
    """The run was told to stop (Ctrl-C or SIGTERM) while an evaluation played."""


def evaluate(cfg, checkpoint: Path, game: str, episodes: int, seed: int, abort=None) -> list[float]:
    """`episodes` whole episodes of the checkpoint's policy at once, actions sampled; unclipped scores.
    `abort` (a threading.Event) set stops it with Interrupted."""
    import numpy as np
    import torch
    from sample_factory.algo.utils.rl_utils import prepare_and_normalize_obs
    from sample_factory.model.actor_critic import create_actor_critic
    from sample_factory.model.model_utils import get_rnn_size

    envs = [make_env(game, training=False) for _ in range(episodes)]
    from gymnasium import spaces

    model = create_actor_critic(cfg, spaces.Dict({"obs": envs[0].observation_space}), envs[0].action_space)
    model.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True)["model"])
    model.eval()
    obs = [env.reset(seed=EVAL_SEED + seed * 1000 + i)[0] for i, env in enumerate(envs)]
    totals, finished = np.zeros(episodes), np.zeros(episodes, dtype=bool)
    rnn = torch.zeros([episodes, get_rnn_size(cfg)])
    with torch.no_grad():
        while not finished.all():
            if abort is not None and abort.is_set():
                raise Interrupted
            batch = prepare_and_normalize_obs(model, {"obs": torch.as_tensor(np.stack(obs))})
            actions = model(batch, rnn)["actions"].view(-1).numpy()
            for i, env in enumerate(envs):
                if finished[i]:
                    continue
                obs[i], reward, terminated, truncated, _ = env.step(int(actions[i]))
                totals[i] += reward
                finished[i] = terminated or truncated
    for env in envs:
        env.close()
    return [float(x) for x in totals]


def checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(frames, path) of Sample Factory's checkpoints, oldest first (names end in _<env steps>.pth)."""
    out = []
    for path in (folder / "sf" / "checkpoint_p0").glob("checkpoint_*.pth"):
        try:
            out.append((int(path.stem.rsplit("_", 1)[1]), path))
        except (IndexError, ValueError):
            continue
    return sorted(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--game", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--frames", type=int, required=True)
    p.add_argument("--folder", required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--eval-every", type=int, default=500_000)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--save-every-sec", type=int, default=20)
    p.add_argument("--end-held", type=float, default=None,
                   help="end the run once --hold evaluations in a row reach this mean return, from --end-from frames on")
    p.add_argument("--hold", type=int, default=3)
    p.add_argument("--end-from", type=int, default=0)
    args = p.parse_args(argv)

    from importlib.metadata import version

    import torch
    from sample_factory.train import run_rl

    torch.set_num_threads(1)
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    state_path = folder / "sf_state.json"
    state = json.loads(state_path.read_text()) if state_path.is_file() else {"evals": [], "wall_seconds": 0.0,
                                                                              "eval_seconds": 0.0, "frames": 0}
    state["version"] = f"sample-factory {version('sample-factory')}, torch {torch.__version__}"
    register(args.game)
    cfg = sf_config(args)
    state["settings"] = {k: getattr(cfg, k) for k in (
        "num_workers", "num_envs_per_worker", "rollout", "batch_size", "num_epochs", "num_batches_per_epoch",
        "learning_rate", "lr_schedule", "ppo_clip_ratio", "gae_lambda", "exploration_loss_coeff", "value_loss_coeff",
        "normalize_input", "normalize_returns", "async_rl", "max_grad_norm", "adam_eps")}
    lock, stop, abort = threading.Lock(), threading.Event(), threading.Event()
    started, wall_before = time.time(), state["wall_seconds"]  # training seconds: this slice's on top of earlier ones

    def save() -> None:
        with lock:
            tmp = state_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            os.replace(tmp, state_path)

    def due(frames: int) -> bool:
        last = state["evals"][-1][0] if state["evals"] else 0
        return frames >= (last // args.eval_every + 1) * args.eval_every or (frames >= args.frames > last)

    def evaluator() -> None:
        torch.set_num_threads(1)
        while not abort.is_set():
            final = stop.is_set()
            found = checkpoints(folder)
            if found and due(found[-1][0]):
                frames, path = found[-1]
                t0 = time.perf_counter()
                try:
                    written = path.stat().st_mtime  # its wall time: when the checkpoint was written
                    returns = evaluate(cfg, path, args.game, args.episodes, args.seed, abort)
                except (FileNotFoundError, RuntimeError, EOFError):  # removed or half written: the next one
                    returns = None
                if returns is not None:
                    with lock:
                        state["evals"].append([frames, wall_before + written - started, returns])
                        state["eval_seconds"] += time.perf_counter() - t0
                        state["frames"] = frames
                        state["wall_seconds"] = max(state["wall_seconds"], wall_before + time.time() - started)
                    save()
                    means = [float(sum(e[2]) / len(e[2])) for e in state["evals"][-args.hold:]]
                    if (args.end_held is not None and frames >= args.end_from and len(means) == args.hold
                            and min(means) >= args.end_held):
                        state["held"] = True
                        os.kill(os.getpid(), signal.SIGINT)  # Sample Factory stops (and checkpoints) as on Ctrl-C
                        return
                    continue
            if final:
                return
            stop.wait(2.0)

    failed: list[BaseException] = []

    def evaluate_all() -> None:
        try:
            evaluator()
        except Interrupted:
            pass
        except BaseException as error:  # training stops (as on Ctrl-C); the main thread re-raises it
            failed.append(error)
            os.kill(os.getpid(), signal.SIGINT)

    # Ctrl-C and SIGTERM stop Sample Factory's event loop (KeyboardInterrupt in this, the main thread; its
    # workers ignore SIGINT), even where this process was started with SIGINT ignored (in the background)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    save()  # the run has started: peers.py resumes it from Sample Factory's checkpoints from now on
    thread = threading.Thread(target=evaluate_all, daemon=True)
    thread.start()
    status = run_rl(cfg)
    trained = wall_before + time.time() - started
    if status == 0 or state.get("held"):
        stop.set()  # the last evaluation, after training: not training time (none when it ended held)
    else:
        abort.set()  # interrupted: no last evaluation
    thread.join()
    if failed:
        raise failed[0]
    found = checkpoints(folder)
    state["frames"] = found[-1][0] if found else state["frames"]
    state["wall_seconds"] = trained
    state["finished"] = bool(state.get("held")) or (status == 0 and bool(found) and found[-1][0] >= args.frames)
    save()
    return 0 if state["finished"] else 130 if status == 2 else 1  # 2: Sample Factory's INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
