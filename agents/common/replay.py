"""Playing a trained agent and recording what it does as a video."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pathzero.agents.common.rollout import sample_actions
from pathzero.envs import GameSpec, UsageError, make_env

MIN_VIDEO_SIDE = 160  # small boards (MinAtar's 10x10) are scaled up to at least this


@dataclass(frozen=True)
class EpisodeResult:
    ret: float  # unclipped game score
    length: int  # agent steps
    frames: int  # video frames recorded (length + 1: the first observation and one per step)


def _rgb(frame: np.ndarray) -> np.ndarray:
    """A rendered frame as uint8 RGB, small boards scaled up with nearest neighbours."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        frame = (np.clip(frame, 0.0, 1.0) * 255).astype(np.uint8)
    side = min(frame.shape[:2])
    if side < MIN_VIDEO_SIDE:
        k = -(-MIN_VIDEO_SIDE // side)
        frame = frame.repeat(k, axis=0).repeat(k, axis=1)
    if frame.shape[0] % 2 or frame.shape[1] % 2:  # H.264 wants even sides
        frame = frame[: frame.shape[0] // 2 * 2, : frame.shape[1] // 2 * 2]
    return np.ascontiguousarray(frame)


def check_video_support(instead: str) -> None:
    """Raises UsageError when mp4 videos cannot be written: imageio writes them through imageio-ffmpeg (a
    dependency of pathzero), and without it would pick another plugin and fail with a traceback.
    `instead` says how to do without a video."""
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        raise UsageError(f"writing mp4 videos needs imageio-ffmpeg, which is not installed: pip install imageio-ffmpeg "
                         f"({instead})") from None


class VideoWriter:
    """Streams RGB frames to an mp4 (H.264 via imageio-ffmpeg), or a gif when the name ends in .gif.

    Frames go to disk as they come: a long Atari episode never has to fit in memory.
    """

    def __init__(self, path: str | Path, fps: int) -> None:
        import imageio.v2 as imageio

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.frames = 0
        if self.path.suffix.lower() == ".gif":
            self._writer = imageio.get_writer(self.path, mode="I", duration=1000 / fps, loop=0)
        else:
            check_video_support("or write a .gif")
            self._writer = imageio.get_writer(self.path, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1,
                                              ffmpeg_log_level="error", pixelformat="yuv420p")

    def append(self, frame: np.ndarray) -> None:
        self._writer.append_data(_rgb(frame))
        self.frames += 1

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


PLAY_BATCH = 16  # episodes played at once without a video


def play(model: torch.nn.Module, spec: GameSpec, *, episodes: int, seed: int, greedy: bool = False,
         max_steps: int | None = None, video: VideoWriter | None = None,
         stop: threading.Event | None = None, batch: int = PLAY_BATCH) -> list[EpisodeResult]:
    """Plays `episodes` episodes (episode i from env seed `seed + i`), streaming every RGB frame to
    `video` if given. Actions are sampled from the policy with a generator of its own, seeded by
    `seed` (torch's global generator is left alone), or taken greedily. Setting `stop` ends play
    after the current step; the episodes finished by then are returned, in episode order.

    Without a video, up to `batch` episodes play at once on environments of their own, acting with
    one batched forward pass: a small network's forward costs per call about as much as per
    observation, so ten Pong episodes take a fraction of the CPU time of ten played one by one.
    Greedy play gives the same episodes either way; sampled play draws the same distribution from
    another order of random numbers."""
    if video is None and episodes > 1 and batch > 1:
        return _play_batched(model, spec, episodes, seed, greedy, max_steps, stop, batch)
    env = make_env(spec, render=video is not None)
    results: list[EpisodeResult] = []
    generator = torch.Generator().manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one observation per forward pass: a second torch thread only contends
    try:
        for episode in range(episodes):
            if stop is not None and stop.is_set():
                break
            obs, _ = env.reset(seed=seed + episode)
            recorded = 0
            if video is not None:
                video.append(env.render())
                recorded += 1
            ret, length = 0.0, 0
            while True:
                if stop is not None and stop.is_set():
                    return results
                action = int(sample_actions(model, torch.from_numpy(np.asarray(obs)[None]), greedy, generator)[0])
                obs, reward, terminated, truncated, info = env.step(action)
                ret += float(reward)  # no reward clipping here: this is the game score
                length += 1
                if video is not None:
                    video.append(env.render())
                    recorded += 1
                if terminated or truncated or (max_steps is not None and length >= max_steps):
                    break
            results.append(EpisodeResult(ret, length, recorded))
    finally:
        torch.set_num_threads(threads)
        env.close()
    return results


def _play_batched(model: torch.nn.Module, spec: GameSpec, episodes: int, seed: int, greedy: bool,
                  max_steps: int | None, stop: threading.Event | None, batch: int) -> list[EpisodeResult]:
    """`play` without a video: `batch` environments, each taking the next episode when its own ends."""
    envs = [make_env(spec) for _ in range(min(batch, episodes))]
    episode_of = list(range(len(envs)))  # the episode each environment plays
    obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
    returns, lengths = [0.0] * len(envs), [0] * len(envs)
    active, started = list(range(len(envs))), len(envs)
    results: dict[int, EpisodeResult] = {}
    generator = torch.Generator().manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a batch of a few observations: a second torch thread only contends
    try:
        while active and not (stop is not None and stop.is_set()):
            observations = torch.from_numpy(np.stack([np.asarray(obs[k]) for k in active]))
            actions = sample_actions(model, observations, greedy, generator).tolist()
            still = []
            for k, action in zip(active, actions):
                obs[k], reward, terminated, truncated, _ = envs[k].step(action)
                returns[k] += float(reward)  # the game score: no clipping
                lengths[k] += 1
                if terminated or truncated or (max_steps is not None and lengths[k] >= max_steps):
                    results[episode_of[k]] = EpisodeResult(returns[k], lengths[k], 0)
                    if started == episodes:
                        continue
                    episode_of[k], returns[k], lengths[k] = started, 0.0, 0
                    obs[k] = envs[k].reset(seed=seed + started)[0]
                    started += 1
                still.append(k)
            active = still
    finally:
        torch.set_num_threads(threads)
        for env in envs:
            env.close()
    return [results[i] for i in sorted(results)]


def video_fps(spec: GameSpec) -> int:
    return 15 if spec.kind == "ale" else 30  # ALE: 60 Hz / frame skip 4 = real time


def record_replay(model: torch.nn.Module, spec: GameSpec, path: str | Path, *, episodes: int, seed: int,
                  greedy: bool = False, max_steps: int | None = None) -> list[EpisodeResult]:
    """Plays and writes the video in one call; returns the episodes' results."""
    with VideoWriter(path, video_fps(spec)) as video:
        return play(model, spec, episodes=episodes, seed=seed, greedy=greedy, max_steps=max_steps, video=video)
