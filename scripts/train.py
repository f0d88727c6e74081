"""`pathzero train`: train an agent on a game.

    pathzero train --game Pong                      # A3C, one worker per core, 10M frames
    pathzero train --game MinAtar/Breakout --total-frames 2000000
    pathzero train --resume runs/Pong__a3c__1__...  # continue a stopped run

Writes runs/<game>__a3c__<seed>__<time>/ with config.json, TensorBoard events, episodes.csv,
checkpoint.pt and, at the end, replay.mp4.
"""
from __future__ import annotations

import sys

from scripts.common import ArgumentParser, add_config_flags, config_from_args, run_command

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

        cfg = config_from_args(A3CConfig, args, args.resume, RESUMABLE, "pathzero train")
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
