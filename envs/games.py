"""`make_env(game)`: every game pathzero plays, behind one function and one naming scheme.

Accepted names:
- any ALE game, as `Pong`, `pong`, `space_invaders`, `SpaceInvaders` or `ALE/Pong-v5`;
- any MinAtar game, as `MinAtar/Breakout` or `MinAtar/Breakout-v1`;
- any registered gymnasium id, such as `CartPole-v1`, or `package.module:EnvId` to import the
  module that registers a custom environment first (gymnasium's own convention).

A *variant* of an ALE or MinAtar game is the game's name followed by `+` and one or more settings or
observation transforms, each once: `Breakout+mode=4`, `MinAtar/Breakout+hflip+sticky=0`. A variant is a
game of its own everywhere a game is named (run folders, matrix cells, resume, watch):

- ALE settings: `mode=N`, `difficulty=N` (the game's flavours, Machado et al. 2018; the game lists what
  it offers). MinAtar settings: `sticky=P` (sticky-action probability, default 0.1), `ramping=0|1`
  (difficulty ramping, default on).
- Transforms of what the agent sees, in the style of Progressive Networks' "Pong Soup" (Rusu et al.
  2016): `hflip`, `vflip` (mirror images), `invert` (ALE: 255 - pixel; MinAtar: every plane negated),
  `noise=P` (ALE: additive Gaussian noise with standard deviation P x 255; MinAtar: each cell of each
  plane flipped with probability P, every step) and, on ALE, `zoom` (the 84x84 frame shrunk to 75%
  and placed 10 pixels from the top-left corner on black). ALE transforms act on each 84x84 frame
  before frames are stacked. Videos show the game's own screen, untransformed.

ALE games follow Machado et al. (2018): `ALE/<Game>-v5` with sticky actions 0.25 and the
108,000-frame episode cap, built with `frameskip=1` and wrapped by gymnasium's
`AtariPreprocessing` (frame skip 4, 84x84 grayscale, up to 30 no-op starts) and
`FrameStackObservation(4)`. One agent step is 4 emulator frames; pathzero counts emulator frames.

`RecordEpisodeStatistics` sits inside any reward clipping, so `info["episode"]["r"]` is always
the unclipped game score: the number to log and report.
"""
from __future__ import annotations

import contextlib
import difflib
import importlib
import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import (AtariPreprocessing, ClipReward, FrameStackObservation,
                                RecordEpisodeStatistics, TransformObservation)

from pathzero.errors import UsageError

# Rendering needs no screen: pygame (classic control) draws off-screen.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

ALE_FRAME_SKIP = 4
STICKY_ACTIONS = 0.25
MINATAR_VERSION = "v1"  # the minimal action set


# Variant elements: a setting takes a value (KEY=VALUE), a transform is a bare word (noise takes a value).
ALE_SETTINGS = ("mode", "difficulty")
MINATAR_SETTINGS = ("sticky", "ramping")
TRANSFORMS = ("hflip", "vflip", "zoom", "invert", "noise")  # the order they are applied and named in
VALUED = ALE_SETTINGS + MINATAR_SETTINGS + ("noise",)
ZOOM, ZOOM_AT = 63, 10  # zoom: 84 * 0.75 pixels, placed this far from the top-left corner


@dataclass(frozen=True)
class GameSpec:
    """A resolved game name: what kind of game it is and how to build it."""

    kind: str  # "ale", "minatar" or "gym"
    env_id: str  # the gymnasium id, with the variant after a "+" (`MinAtar/Breakout-v1+hflip`)
    name: str  # a short, file-name-safe name for run folders
    variant: tuple[tuple[str, str], ...] = ()  # (key, value) in canonical order; value "" for a bare transform

    @property
    def gym_id(self) -> str:
        """The id gymnasium registers: env_id without the variant."""
        return self.env_id.split("+", 1)[0]

    @property
    def settings(self) -> dict[str, str]:
        return {k: v for k, v in self.variant if k not in TRANSFORMS}

    @property
    def transforms(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.variant if k in TRANSFORMS]

    @property
    def frames_per_step(self) -> int:
        """Emulator frames per agent step (4 on ALE, 1 elsewhere)."""
        return ALE_FRAME_SKIP if self.kind == "ale" else 1


def _key(name: str) -> str:
    """Normalises a game name: `ALE/Space_Invaders-v5` and `spaceinvaders` give the same key."""
    name = name.strip()
    name = re.sub(r"^(ALE|MinAtar)/", "", name, flags=re.I)
    name = re.sub(r"(NoFrameskip)?-v\d+$", "", name, flags=re.I)
    return re.sub(r"[^a-z0-9]", "", name.lower())


# Each family's environments are registered when a game of it is first named: importing ale_py, and above
# all minatar (which imports seaborn, pandas and matplotlib: about a second), is then paid only by the runs,
# and the worker processes, that play such a game.
@lru_cache(maxsize=1)
def _register_ale() -> None:
    import ale_py

    gym.register_envs(ale_py)
    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)  # no banner on every env


@lru_cache(maxsize=1)
def _register_minatar() -> None:
    with _without("matplotlib", "seaborn"):  # minatar imports them for its own display only; MinAtarFrames draws
        import minatar.gym

    if "MinAtar/Breakout-v1" not in gym.registry:
        minatar.gym.register_envs()


@contextlib.contextmanager
def _without(*names: str) -> Iterator[None]:
    """Inside, importing any of `names` not imported yet fails quietly (ImportError, warnings off); after, they
    import as usual."""
    import logging
    import sys

    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # what `import name` then refuses
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


class MinAtarFrames(gym.Wrapper):
    """A MinAtar game drawn as minatar draws it (each object plane a colour of seaborn's cubehelix palette,
    empty cells black; float RGB [10, 10, 3]), without minatar's own renderer and the seaborn import it needs."""

    def render(self):
        if self.env.render_mode != "rgb_array":
            return self.env.render()
        state = self.unwrapped.game.state()  # [10, 10, C] bool
        planes = state.shape[-1]
        index = np.amax(state * np.arange(1, planes + 1), axis=2)
        return _cubehelix(planes)[index]


@lru_cache(maxsize=None)
def _cubehelix(n: int) -> np.ndarray:
    """Black, then n colours of matplotlib's cubehelix map at n evenly spaced inner points (seaborn's
    color_palette("cubehelix", n))."""
    import matplotlib

    colours = matplotlib.colormaps["cubehelix"](np.linspace(0, 1, n + 2)[1:-1])[:, :3]
    return np.vstack([np.zeros((1, 3)), colours])


def _ale_ids() -> dict[str, str]:
    _register_ale()
    return {_key(k): k for k in gym.registry if k.startswith("ALE/") and k.endswith("-v5")}


def _minatar_ids() -> dict[str, str]:
    _register_minatar()
    return {_key(k): k for k in gym.registry
            if k.startswith("MinAtar/") and k.endswith(f"-{MINATAR_VERSION}")}


def known_games() -> list[str]:
    """Display names of every ALE and MinAtar game (gymnasium ids are accepted too)."""
    ale = [k[len("ALE/"):-len("-v5")] for k in _ale_ids().values()]
    mini = [k[:-len(f"-{MINATAR_VERSION}")] for k in _minatar_ids().values()]
    return sorted(ale) + sorted(mini)


def resolve_game(game: str) -> GameSpec:
    """Turns a user's game name into a GameSpec, or raises UsageError naming close matches."""
    if not isinstance(game, str) or not game.strip():
        raise UsageError("the game name is empty; give e.g. Pong, MinAtar/Breakout or CartPole-v1")
    game = game.strip()
    if game.lower().startswith("minatar/"):
        _register_minatar()
    elif not (game in gym.registry and "ale_py" not in str(gym.registry[game].entry_point)):
        _register_ale()  # an ALE name, an old ALE id, or an unknown one (its close matches are looked up)
    if "+" in game:
        base, _, variant = game.partition("+")
        return with_variant(resolve_game(base), variant)
    if ":" in game:
        module, _, env_id = game.partition(":")
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UsageError(f"cannot import {module!r} for {game!r} ({exc}); give package.module:EnvId "
                             "with an importable module that registers EnvId") from None
        if env_id not in gym.registry:
            raise UsageError(f"{module} registers no environment {env_id!r}; check the id after the colon")
        return GameSpec("gym", game, re.sub(r"[^A-Za-z0-9_.-]", "-", env_id))
    is_minatar = game.lower().startswith("minatar/")
    if not is_minatar and game in gym.registry and not game.startswith("ALE/"):
        if "ale_py" in str(gym.registry[game].entry_point):
            v5 = _ale_ids().get(_key(game))
            raise UsageError(f"{game} is an old ALE id without the v5 protocol (sticky actions, full "
                             f"preprocessing); use {v5.split('/')[1].rsplit('-', 1)[0] if v5 else 'the game name'} "
                             f"or {v5 or 'ALE/<Game>-v5'}")
        return GameSpec("gym", game, re.sub(r"[^A-Za-z0-9_.-]", "-", game))
    key = _key(game)
    if is_minatar:
        if key in _minatar_ids():
            env_id = _minatar_ids()[key]
            return GameSpec("minatar", env_id, "MinAtar-" + env_id.split("/")[1].rsplit("-", 1)[0])
    elif key in _ale_ids():
        env_id = _ale_ids()[key]
        return GameSpec("ale", env_id, env_id.split("/")[1].rsplit("-", 1)[0])
    family = {_key(n): n for n in known_games() if n.startswith("MinAtar/") == is_minatar}  # the same family only
    if not is_minatar:
        for env_id in gym.registry:  # other gymnasium ids, matched case-insensitively
            if "/" not in env_id and "ale_py" not in str(gym.registry[env_id].entry_point):
                family.setdefault(env_id.lower(), env_id)
    close = [family[k] for k in difflib.get_close_matches(key, family, n=3, cutoff=0.75)]
    close += [family[k] for k in difflib.get_close_matches(game.lower(), family, n=2, cutoff=0.8)
              if family[k] not in close]
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UsageError(f"unknown game {game!r}; {hint}(any ALE game such as Pong, a MinAtar game such as "
                     f"MinAtar/Breakout, or a gymnasium id such as CartPole-v1)")


def variant_help(spec: GameSpec) -> str:
    """What variants `spec`'s game offers, in words."""
    if spec.kind == "ale":
        modes, difficulties = ale_flavours(spec.gym_id)
        return (f"mode=N ({', '.join(map(str, modes))}), difficulty=N ({', '.join(map(str, difficulties))}), "
                "hflip, vflip, zoom, invert, noise=P")
    return "sticky=P, ramping=0|1, hflip, vflip, invert, noise=P"


@lru_cache(maxsize=None)
def ale_flavours(gym_id: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The modes and difficulties an ALE game offers (`ale.getAvailableModes()` and `...Difficulties()`)."""
    env = gym.make(gym_id)
    try:
        ale = env.unwrapped.ale
        return tuple(int(m) for m in ale.getAvailableModes()), tuple(int(d) for d in ale.getAvailableDifficulties())
    finally:
        env.close()


def with_variant(spec: GameSpec, text: str) -> GameSpec:
    """`spec` as the variant `text` ("hflip+mode=4"), checked: each element known to the game, each
    value in range; UsageError names what the game offers otherwise."""
    if spec.kind not in ("ale", "minatar") or spec.variant:
        raise UsageError(f"variants ('+...') exist for ALE and MinAtar games only, not {spec.env_id}")
    allowed = (ALE_SETTINGS + ("hflip", "vflip", "zoom", "invert", "noise") if spec.kind == "ale"
               else MINATAR_SETTINGS + ("hflip", "vflip", "invert", "noise"))
    chosen: dict[str, str] = {}
    for part in text.split("+"):
        key, eq, value = part.strip().partition("=")
        key, value = key.strip().lower(), value.strip()
        if key not in allowed or (key in VALUED) != bool(eq) or (eq and not value):
            form = f"{key}=VALUE" if key in VALUED else key
            wrong = (f"{part!r} should be written {form}" if key in allowed else f"unknown variant {part!r}")
            raise UsageError(f"{wrong} for {spec.env_id}; it offers {variant_help(spec)} (joined with +, "
                             f"e.g. {spec.name.replace('MinAtar-', 'MinAtar/')}+hflip)")
        if key in chosen:
            raise UsageError(f"variant {key!r} is given twice in {text!r}; give each once")
        chosen[key] = _check_value(spec, key, value) if key in VALUED else ""
    order = (ALE_SETTINGS + MINATAR_SETTINGS + TRANSFORMS)
    variant = tuple((k, chosen[k]) for k in order if k in chosen)
    suffix = "+".join(f"{k}={v}" if k in VALUED else k for k, v in variant)
    return GameSpec(spec.kind, f"{spec.env_id}+{suffix}", f"{spec.name}+{suffix}", variant)


def _check_value(spec: GameSpec, key: str, value: str) -> str:
    """A variant's value in canonical form, or UsageError saying what is allowed."""
    if key in ("mode", "difficulty"):
        modes, difficulties = ale_flavours(spec.gym_id)
        offered = modes if key == "mode" else difficulties
        if not value.isdigit() or int(value) not in offered:
            raise UsageError(f"{spec.env_id} has no {key} {value!r}; its {key}s: {', '.join(map(str, offered))}")
        return str(int(value))
    if key == "ramping":
        if value not in ("0", "1"):
            raise UsageError(f"ramping is 0 (off) or 1 (on, MinAtar's default), got {value!r}")
        return value
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not 0 <= number <= 1:
        raise UsageError(f"{key}={value!r}: give a probability between 0 and 1 (e.g. {key}=0.05)")
    return f"{number:g}"


class ObservationVariant(gym.ObservationWrapper):
    """Applies a variant's observation transforms to each observation [..., H, W] (uint8 pixels or bool
    planes); noise is drawn from a generator seeded by `reset(seed=...)`."""

    def __init__(self, env: gym.Env, transforms: list[tuple[str, str]]) -> None:
        super().__init__(env)
        self.transforms = transforms
        self.rng = np.random.default_rng()
        space = env.observation_space
        if any(k == "zoom" for k, _ in transforms) and space.shape[-2:] != (84, 84):
            raise UsageError("zoom transforms 84x84 frames (ALE games) only")

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.rng = np.random.default_rng(seed + 7_919)
        return super().reset(seed=seed, options=options)

    def observation(self, obs: np.ndarray) -> np.ndarray:
        return transform_observation(obs, self.transforms, self.rng)


def transform_observation(obs: np.ndarray, transforms: list[tuple[str, str]], rng: np.random.Generator) -> np.ndarray:
    """`obs` [..., H, W] under each transform in turn (see the module's docstring)."""
    pixels = obs.dtype != np.bool_
    for key, value in transforms:
        if key == "hflip":
            obs = obs[..., :, ::-1]
        elif key == "vflip":
            obs = obs[..., ::-1, :]
        elif key == "invert":
            obs = 255 - obs if pixels else ~obs
        elif key == "zoom":
            import cv2

            small = cv2.resize(np.ascontiguousarray(obs), (ZOOM, ZOOM), interpolation=cv2.INTER_AREA)
            obs = np.zeros_like(obs)
            obs[..., ZOOM_AT:ZOOM_AT + ZOOM, ZOOM_AT:ZOOM_AT + ZOOM] = small
        elif key == "noise":
            p = float(value)
            if pixels:
                obs = np.clip(obs + rng.normal(0.0, p * 255.0, obs.shape), 0, 255).astype(np.uint8)
            else:
                obs = obs ^ (rng.random(obs.shape) < p)
    return np.ascontiguousarray(obs)


def _channels_first(env: gym.Env) -> gym.Env:
    """MinAtar gives [10, 10, C] bool planes; the nets take [C, 10, 10] (still bool: 0/1, not pixels)."""
    h, w, c = env.observation_space.shape
    space = gym.spaces.Box(0, 1, shape=(c, h, w), dtype=np.bool_)
    return TransformObservation(env, lambda o: np.ascontiguousarray(o.transpose(2, 0, 1)), space)


def ale_rom(spec: GameSpec) -> str:
    """The ROM name ale-py's vector environment takes: ALE/SpaceInvaders-v5 -> space_invaders."""
    name = spec.env_id.split("/", 1)[-1].rsplit("-v", 1)[0]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def make_vector_env(game: str | GameSpec, n: int, *, threads: int = 1, sticky_actions: float = STICKY_ACTIONS):
    """n ALE games stepped together in C++ threads by ale-py's `AtariVectorEnv`, with the protocol of
    `make_env`: v5 sticky actions, the 108,000-frame cap, up to 30 no-ops, frame skip 4 with the max of
    the last two frames, 84x84 grayscale, a stack of 4. Rewards and lives come raw (no clipping, no
    life-loss ends); an ended game resets in the same step, its last observation in info["final_obs"]."""
    spec = game if isinstance(game, GameSpec) else resolve_game(game)
    if spec.kind != "ale":
        raise UsageError(f"--vector-env steps ALE games only; {spec.env_id} is a {spec.kind} game (drop the flag)")
    if spec.variant:
        raise UsageError(f"--vector-env plays the games themselves, not variants such as {spec.env_id}; drop the flag")
    from ale_py.vector_env import AtariVectorEnv

    return AtariVectorEnv(ale_rom(spec), n, num_threads=threads, repeat_action_probability=sticky_actions,
                          max_num_frames_per_episode=108_000, noop_max=30, frameskip=ALE_FRAME_SKIP, maxpool=True,
                          img_height=84, img_width=84, grayscale=True, stack_num=4, episodic_life=False,
                          reward_clipping=False, use_fire_reset=False, full_action_space=False,
                          autoreset_mode="SameStep")


def make_env(game: str | GameSpec, *, clip_rewards: bool = False, render: bool = False,
             sticky_actions: float = STICKY_ACTIONS) -> gym.Env:
    """Builds the environment for `game` with pathzero's standard wrappers.

    `clip_rewards` clips the training reward to [-1, 1]; the episode score in
    `info["episode"]` stays unclipped. `render=True` makes `env.render()` return RGB frames.
    """
    spec = game if isinstance(game, GameSpec) else resolve_game(game)
    render_mode = "rgb_array" if render else None
    {"ale": _register_ale, "minatar": _register_minatar}.get(spec.kind, lambda: None)()  # a spec from another process
    if spec.kind == "ale":
        # obs_type="grayscale": AtariPreprocessing reads the screen itself, so the base env need not
        # copy an RGB frame every emulator frame; render() still gives RGB.
        flavour = {k: int(v) for k, v in spec.settings.items()}  # mode=, difficulty=
        env = gym.make(spec.gym_id, frameskip=1, repeat_action_probability=sticky_actions,
                       obs_type="grayscale", render_mode=render_mode, **flavour)
        env = AtariPreprocessing(env, noop_max=30, frame_skip=ALE_FRAME_SKIP, screen_size=84,
                                 grayscale_obs=True, terminal_on_life_loss=False)
        if spec.transforms:
            env = ObservationVariant(env, spec.transforms)
        env = FrameStackObservation(env, stack_size=4)
    elif spec.kind == "minatar":
        settings = spec.settings
        options = {**({"sticky_action_prob": float(settings["sticky"])} if "sticky" in settings else {}),
                   **({"difficulty_ramping": settings["ramping"] == "1"} if "ramping" in settings else {})}
        # MinAtar renders float RGB without a declared fps: the passive checker would warn at every replay
        env = _channels_first(MinAtarFrames(gym.make(spec.gym_id, render_mode=render_mode, disable_env_checker=True,
                                                     **options)))
        if spec.transforms:
            env = ObservationVariant(env, spec.transforms)
    else:
        env = gym.make(spec.env_id.split(":")[-1], render_mode=render_mode)
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise UsageError(f"{spec.env_id} has a {type(env.action_space).__name__} action space; "
                         "pathzero's agents need a Discrete one (e.g. CartPole-v1, an ALE or MinAtar game)")
    env = RecordEpisodeStatistics(env)
    if clip_rewards:
        env = ClipReward(env, -1.0, 1.0)
    return env
