"""`pathzero train`: train an agent on a game.

    pathzero train --game Pong                      # A3C, one worker per core, 10M frames
    pathzero train --game MinAtar/Breakout --total-frames 2000000
    pathzero train --game MinAtar/Breakout --config my_settings.toml --eval-every 50000
    pathzero train --agent pathnet --game MinAtar/Breakout --total-frames 1000000
    pathzero train --agent pathnet --game MinAtar/Asterix --transfer-from runs/MinAtar-Breakout__pathnet__1__...
    pathzero train --resume runs/Pong__a3c__1__...  # continue a stopped run (A3C or PathNet)

Writes runs/<game>__<agent>__<seed>__<time>/ with config.json, TensorBoard events, episodes.csv,
evals.csv, eval_returns.csv, checkpoint.pt and, at the end, replay.mp4 (PathNet also pathnet_grid.png). The same as
`pathzero.train(...)` in Python (agents/api.py), which this command calls.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pathzero.errors import UsageError
from pathzero.scripts.common import ArgumentParser, add_config_flags, given, run_command



def build_parser(prog: str = "pathzero train", agent: str = "a3c") -> ArgumentParser:
    from pathzero.agents.common.registry import agent as registered
    from pathzero.agents.common.registry import agents

    entry = registered(agent)
    names = [e.name for e in agents("train")]
    if entry.command != "train":
        raise UsageError(f"--agent {agent} trains with pathzero {entry.command}; pathzero train takes {', '.join(names)}")
    parser = ArgumentParser(prog=prog, description=f"Train an agent on a game: {entry.description}. Settings come "
                            "from the game family's preset (ALE, MinAtar, classic control; printed at the start), "
                            "then --config FILE.toml, then the flags; config.json in the run folder keeps them.",
                            epilog="Frames are emulator frames: one ALE agent step is 4 frames. With the presets on 2 "
                                   "cores, learning shows after about 75,000 frames on CartPole-v1, within 200,000 "
                                   "on MinAtar Breakout and after about 3M on Pong; a smaller --total-frames shows "
                                   "a near-uniform policy (README, 'Presets, and how long before learning shows'). "
                                   f"`pathzero train --agent NAME --help` lists an agent's options ({', '.join(names)}).")
    parser.add_argument("--agent", choices=names, default="a3c",
                        help="learning algorithm: " + "; ".join(f"{e.name}: {e.description}" for e in agents("train"))
                             + " (default: a3c)")
    parser.add_argument("--config", metavar="FILE.toml", default=None,
                        help="a TOML file of settings (names as the flags, e.g. lr = 0.002 or entropy-coef = "
                             "0.02) over the preset; flags win over it")
    skip = () if entry.ray else ("backend", "ray_address")  # an agent Ray cannot run has no Ray flags
    parser.add_argument("--resume", metavar="RUN_DIR", default=None,
                        help="continue the run in RUN_DIR (its agent is read from the folder): frames, "
                             "schedule, optimizer and logs go on (a larger --total-frames stretches the "
                             "learning-rate schedule to the new end); only "
                             f"{', '.join('--' + n.replace('_', '-') for n in sorted(set(entry.resumable) - set(skip)))} "
                             "may be changed")
    add_config_flags(parser, entry.config, skip=skip)
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero train") -> None:
    argv = sys.argv[1:] if argv is None else argv
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--agent", default=None)
    first.add_argument("--resume", default=None)
    known, _ = first.parse_known_args(argv)

    def body() -> int:
        from pathzero.agents.api import agent_of_run, train
        from pathzero.agents.common.registry import agent as registered
        from pathzero.agents.common.runner import TrainingError

        chosen = known.agent or "a3c"
        if known.resume is not None and Path(known.resume).is_dir():
            chosen = agent_of_run(known.resume)
            if registered(chosen).command != "train":
                raise UsageError(f"{known.resume} is a {chosen} run; resume it with pathzero "
                                 f"{registered(chosen).command} --resume")
            if known.agent is not None and known.agent != chosen:
                raise UsageError(f"{known.resume} is a {chosen} run, not {known.agent}; drop --agent when resuming")
        args = build_parser(prog, chosen).parse_args(argv)
        try:
            run = train(agent=None if args.resume else chosen, resume=args.resume, config=args.config,
                        verbose=args.resume is None, **given(args, registered(chosen).config))
        except TrainingError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
        print(f"run folder: {run.dir}")
        return 0

    if "-h" in argv or "--help" in argv:
        run_command(prog, lambda: build_parser(prog, known.agent or "a3c").parse_args(argv))
    run_command(prog, body)


if __name__ == "__main__":
    main()
