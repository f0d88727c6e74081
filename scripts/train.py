"""`pathzero train`: train an agent on a game.

    pathzero train --game Pong                      # A3C, one worker per core, 10M frames
    pathzero train --game MinAtar/Breakout --total-frames 2000000
    pathzero train --resume runs/Pong__a3c__1__...  # continue a stopped run

Writes runs/<game>__a3c__<seed>__<time>/ with config.json, TensorBoard events, episodes.csv,
checkpoint.pt and, at the end, replay.mp4.
"""
from __future__ import annotations

import sys
from pathlib import Path

from scripts.common import ArgumentParser, add_config_flags, given, run_command

# Options that may change when a run is resumed; the rest are fixed by the run's config.json.
RESUMABLE = {"total_frames", "workers", "progress", "checkpoint_minutes", "replay_episodes",
             "replay_max_steps", "serial", "target_return"}


def build_parser(prog: str = "pathzero train") -> ArgumentParser:
    from agents.a3c import A3CConfig
    from agents.common.optim import OPTIMIZERS

    parser = ArgumentParser(prog=prog, description="Train an agent on a game: A3C with a dual residual network.",
                            epilog="Frames are emulator frames: one ALE agent step is 4 frames.")
    parser.add_argument("--agent", choices=["a3c"], default="a3c", help="learning algorithm (default: a3c)")
    parser.add_argument("--resume", metavar="RUN_DIR", default=None,
                        help="continue the run in RUN_DIR: frames, schedule, optimizer and logs go on "
                             "(a larger --total-frames stretches the learning-rate schedule to the new end); "
                             f"only {', '.join('--' + n.replace('_', '-') for n in sorted(RESUMABLE))} "
                             "may be changed")
    add_config_flags(parser, A3CConfig, choices={"optimizer": OPTIMIZERS})
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero train") -> None:
    args = build_parser(prog).parse_args(argv)

    def body() -> int:
        from agents.a3c import A3CConfig, TrainingError, train
        from agents.common.runlog import read_config
        from envs import UsageError

        overrides = given(args, A3CConfig)
        if args.resume is not None:
            run_dir = Path(args.resume)
            if not (run_dir / "config.json").is_file():
                raise UsageError(f"{run_dir} is not a run folder (no config.json); give a folder made by "
                                 "pathzero train, e.g. runs/Pong__a3c__1__20260101-120000")
            fixed = sorted(set(overrides) - RESUMABLE)
            if fixed:
                raise UsageError(f"--{fixed[0].replace('_', '-')} cannot change when resuming; it is fixed by "
                                 f"{run_dir / 'config.json'} (start a new run to change it)")
            try:
                cfg = A3CConfig(**{**read_config(run_dir), **overrides})
            except TypeError as exc:  # keys of another tool's config
                raise UsageError(f"{run_dir}/config.json is not an A3C config ({exc})") from None
        else:
            cfg = A3CConfig(**overrides)
        try:
            run_dir = train(cfg, resume=args.resume)
        except TrainingError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
        print(f"run folder: {run_dir}")
        return 0

    run_command(prog, body)


if __name__ == "__main__":
    main()
