"""`pathzero train`: train an agent on a game.

    pathzero train --game Pong                      # A3C, one worker per core, 10M frames
    pathzero train --game MinAtar/Breakout --total-frames 2000000
    pathzero train --agent pathnet --game MinAtar/Breakout --total-frames 1000000
    pathzero train --agent pathnet --game MinAtar/Asterix --transfer-from runs/MinAtar-Breakout__pathnet__1__...
    pathzero train --resume runs/Pong__a3c__1__...  # continue a stopped run (A3C or PathNet)

Writes runs/<game>__<agent>__<seed>__<time>/ with config.json, TensorBoard events, episodes.csv,
checkpoint.pt and, at the end, replay.mp4 (PathNet also pathnet_grid.png).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from envs.errors import UsageError
from scripts.common import ArgumentParser, add_config_flags, config_from_args, given, run_command

AGENTS = ("a3c", "pathnet")
# Options that may change when a run is resumed; the rest are fixed by the run's config.json.
RESUMABLE = {"total_frames", "workers", "progress", "checkpoint_minutes", "replay_episodes",
             "replay_max_steps", "serial", "target_return"}


def config_class(agent: str) -> type:
    from agents.a3c import A3CConfig
    from agents.pathnet import PathNetConfig

    return {"a3c": A3CConfig, "pathnet": PathNetConfig}[agent]


def agent_of_run(run_dir: str) -> str:
    """Which agent wrote a run folder, told by the fields of its config.json."""
    from agents.common.runlog import read_config

    if not Path(run_dir).is_dir():
        return "a3c"  # train() names the missing folder
    keys = set(read_config(Path(run_dir)))
    pathnet_only = {f.name for f in dataclasses.fields(config_class("pathnet"))} - \
        {f.name for f in dataclasses.fields(config_class("a3c"))}
    return "pathnet" if pathnet_only <= keys else "a3c"


def family_defaults(cls: type, args: argparse.Namespace) -> dict:
    """The preset of the game's family (agents/common/presets.py) under the flags given; prints
    it in one line."""
    from agents.common.presets import describe_preset, preset
    from envs import resolve_game

    flags = given(args, cls)
    spec = resolve_game(flags.get("game", cls.game))
    print(describe_preset(spec, cls, flags))
    return preset(spec, cls)


def build_parser(prog: str = "pathzero train", agent: str = "a3c") -> ArgumentParser:
    from agents.common.optim import OPTIMIZERS

    what = {"a3c": "A3C with a dual residual network",
            "pathnet": "PathNet: pathways through a residual module grid, evolved while A3C trains them"}[agent]
    parser = ArgumentParser(prog=prog, description=f"Train an agent on a game: {what}.",
                            epilog="Frames are emulator frames: one ALE agent step is 4 frames. "
                                   "`pathzero train --agent pathnet --help` lists PathNet's options.")
    parser.add_argument("--agent", choices=AGENTS, default="a3c", help="learning algorithm (default: a3c)")
    parser.add_argument("--resume", metavar="RUN_DIR", default=None,
                        help="continue the run in RUN_DIR (its agent is read from the folder): frames, "
                             "schedule, optimizer and logs go on (a larger --total-frames stretches the "
                             "learning-rate schedule to the new end); only "
                             f"{', '.join('--' + n.replace('_', '-') for n in sorted(RESUMABLE))} may be changed")
    add_config_flags(parser, config_class(agent), skip=("blocks",) if agent == "pathnet" else (),
                     choices={"optimizer": OPTIMIZERS, "combine": ("sum", "mean")})
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero train") -> None:
    argv = sys.argv[1:] if argv is None else argv
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--agent", choices=AGENTS, default=None)
    first.add_argument("--resume", default=None)
    known, _ = first.parse_known_args(argv)
    agent = known.agent or "a3c"

    def body() -> int:
        from agents.a3c import TrainingError, train
        from agents.pathnet import train_pathnet

        chosen = agent
        if known.resume is not None:
            chosen = agent_of_run(known.resume)
            if known.agent is not None and known.agent != chosen:
                raise UsageError(f"{known.resume} is a {chosen} run, not {known.agent}; drop --agent when resuming")
        args = build_parser(prog, chosen).parse_args(argv)
        cls = config_class(chosen)
        defaults = None
        if args.resume is None:  # a resumed run keeps its config.json
            defaults = family_defaults(cls, args)
        cfg = config_from_args(cls, args, args.resume, RESUMABLE, "pathzero train", defaults)
        try:
            run_dir = (train_pathnet if chosen == "pathnet" else train)(cfg, resume=args.resume)
        except TrainingError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
        print(f"run folder: {run_dir}")
        return 0

    if "-h" in argv or "--help" in argv:
        build_parser(prog, agent).parse_args(argv)
    run_command(prog, body)


if __name__ == "__main__":
    main()
