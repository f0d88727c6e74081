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

from pathzero.envs.errors import UsageError
from pathzero.scripts.common import ArgumentParser, add_config_flags, given, run_command

AGENTS = ("a3c", "pathnet", "gumbel")


def build_parser(prog: str = "pathzero train", agent: str = "a3c") -> ArgumentParser:
    from pathzero.agents.api import RESUMABLE, config_class
    from pathzero.agents.common.optim import OPTIMIZERS
    from pathzero.agents.common.runner import PRECISIONS
    from pathzero.nets.dual import VALUE_INITS

    what = {"a3c": "A3C with a dual residual network",
            "pathnet": "PathNet: pathways through a residual module grid, evolved while A3C trains them",
            "gumbel": "PathNet's module grid with a Gumbel-softmax pathway search (SNAS) instead of evolution, "
                      "with a FLOPs penalty"}[agent]
    parser = ArgumentParser(prog=prog, description=f"Train an agent on a game: {what}. Settings come from "
                            "the game family's preset (ALE, MinAtar, classic control; printed at the start), "
                            "then --config FILE.toml, then the flags; config.json in the run folder keeps them.",
                            epilog="Frames are emulator frames: one ALE agent step is 4 frames. With the presets on 2 "
                                   "cores, learning shows after about 75,000 frames on CartPole-v1, within 200,000 "
                                   "on MinAtar Breakout and after about 3M on Pong; a smaller --total-frames shows "
                                   "a near-uniform policy (README, 'How long before learning shows'). "
                                   "`pathzero train --agent pathnet --help` lists PathNet's options, --agent gumbel the search's.")
    parser.add_argument("--agent", choices=AGENTS, default="a3c", help="learning algorithm (default: a3c)")
    parser.add_argument("--config", metavar="FILE.toml", default=None,
                        help="a TOML file of settings (names as the flags, e.g. lr = 0.002 or entropy-coef = "
                             "0.02) over the preset; flags win over it")
    parser.add_argument("--resume", metavar="RUN_DIR", default=None,
                        help="continue the run in RUN_DIR (its agent is read from the folder): frames, "
                             "schedule, optimizer and logs go on (a larger --total-frames stretches the "
                             "learning-rate schedule to the new end); only "
                             f"{', '.join('--' + n.replace('_', '-') for n in sorted(RESUMABLE[agent]))} may be changed")
    skip = {"a3c": (), "pathnet": ("blocks", "backend", "ray_address"),
            "gumbel": ("blocks", "evolve", "population", "eval_episodes", "backend", "ray_address")}[agent]
    add_config_flags(parser, config_class(agent), skip=skip,
                     choices={"optimizer": OPTIMIZERS, "combine": ("sum", "mean"), "backend": ("local", "ray"),
                              "precision": PRECISIONS, "value_init": VALUE_INITS})
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero train") -> None:
    argv = sys.argv[1:] if argv is None else argv
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--agent", choices=AGENTS, default=None)
    first.add_argument("--resume", default=None)
    known, _ = first.parse_known_args(argv)

    def body() -> int:
        from pathzero.agents.api import agent_of_run, config_class, train
        from pathzero.agents.common.runner import TrainingError

        chosen = known.agent or "a3c"
        if known.resume is not None and Path(known.resume).is_dir():
            chosen = agent_of_run(known.resume)
            if chosen not in AGENTS:
                raise UsageError(f"{known.resume} is a {chosen} run; resume it with pathzero selfplay --resume")
            if known.agent is not None and known.agent != chosen:
                raise UsageError(f"{known.resume} is a {chosen} run, not {known.agent}; drop --agent when resuming")
        args = build_parser(prog, chosen).parse_args(argv)
        try:
            run = train(agent=None if args.resume else chosen, resume=args.resume, config=args.config,
                        verbose=args.resume is None, **given(args, config_class(chosen)))
        except TrainingError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
        print(f"run folder: {run.dir}")
        return 0

    if "-h" in argv or "--help" in argv:
        build_parser(prog, known.agent or "a3c").parse_args(argv)
    run_command(prog, body)


if __name__ == "__main__":
    main()
