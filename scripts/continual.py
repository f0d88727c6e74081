"""`pathzero continual`: one agent through a sequence of games, per method, with seeds: how much it
keeps (forgetting), how much the earlier games help (forward transfer), and how well it ends.

    pathzero continual --games MinAtar/Breakout MinAtar/SpaceInvaders MinAtar/Seaquest --frames 300000 \\
        --cycles 1 --seeds 5 --logdir runs/continual
    pathzero continual --games MinAtar/Breakout MinAtar/Asterix --cycles 2 --methods finetune ewc --seeds 3

Writes into --logdir: runs/ (every phase's run folder), cells/ (one JSON per finished phase or reference),
continual.json and continual.csv (per method: performance, forgetting and forward transfer with 95%
intervals), continual.png (every game's evaluation score over the whole sequence, one line per method,
its own training phases shaded). Rerun the same command to resume.
"""
from __future__ import annotations

from pathzero.scripts.common import ArgumentParser, add_backend_flags, add_config_flags, given, run_command


def build_parser(prog: str = "pathzero continual") -> ArgumentParser:
    from pathzero.agents.continual import METHODS, ContinualConfig
    from pathzero.agents.pathnet import PathNetConfig
    from pathzero.agents.transfer import MATRIX_SET

    defaults = ContinualConfig.__dataclass_fields__
    parser = ArgumentParser(
        prog=prog, description="Train one agent through a sequence of games (each for --frames, the sequence "
        "--cycles times), per method: finetune, ewc, wpl (fine-tuning with an anchor on earlier tasks' weights) "
        "and pathnet (frozen pathways). Every --eval-every frames every task learned so far is evaluated. "
        "Reports performance at the end, forgetting and forward transfer (Continual World's definitions), "
        "normalised per game by a random policy (0) and the single-task learner (1), with seeds and 95% "
        "intervals.", epilog="Rerun the same command with the same --logdir to resume.")
    parser.add_argument("--games", nargs="+", default=list(defaults["games"].default),
                        help="the sequence (default: %(default)s); a variant of a game is a game too: "
                             "MinAtar/Breakout+hflip, Breakout+mode=4 (see pathzero train --help, --game)")
    parser.add_argument("--cycles", type=int, default=defaults["cycles"].default,
                        help="times the sequence is trained (default: %(default)s)")
    parser.add_argument("--frames", type=int, default=defaults["frames"].default,
                        help="frames of every phase, one game once (default: %(default)s)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), metavar="METHOD",
                        help=f"methods to compare: {', '.join(METHODS)}, or ewc@LAMBDA / wpl@ALPHA for a penalty of "
                             "that strength, several of which can share one --logdir (default: all four)")
    parser.add_argument("--seeds", type=int, default=defaults["seeds"].default, help="seeds (default: %(default)s)")
    parser.add_argument("--eval-every", type=int, default=defaults["eval_every"].default,
                        help="frames between evaluations of every task (default: %(default)s)")
    parser.add_argument("--evaluation-episodes", type=int, default=defaults["evaluation_episodes"].default,
                        help="episodes per task per evaluation (default: %(default)s)")
    parser.add_argument("--random-episodes", type=int, default=defaults["random_episodes"].default,
                        help="episodes of a uniform random policy per game, the 0 of the scores (default: %(default)s)")
    parser.add_argument("--end-evaluations", type=int, default=defaults["end_evaluations"].default,
                        help="evaluations whose mean is an end point of a phase or of the sequence: the last this "
                             "many inside the phase (default: %(default)s)")
    parser.add_argument("--logdir", default=defaults["logdir"].default, help="the sequence's folder (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_backend_flags(parser)
    runs = parser.add_argument_group("options of every run (as pathzero train --agent pathnet)")
    add_config_flags(runs, PathNetConfig, skip=(*MATRIX_SET, "eval_tasks", "revisit"))
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero continual") -> None:
    args = build_parser(prog).parse_args(argv)

    def body() -> int:
        from pathzero.agents.continual import summary_table
        from pathzero.agents.api import continual
        from pathzero.agents.pathnet import PathNetConfig
        from pathzero.agents.transfer import MATRIX_SET

        options = {k: v for k, v in given(args, PathNetConfig).items() if k not in (*MATRIX_SET, "eval_tasks", "revisit")}
        data = continual(args.games, cycles=args.cycles, frames=args.frames, methods=args.methods, seeds=args.seeds,
                         eval_every=args.eval_every, evaluation_episodes=args.evaluation_episodes,
                         random_episodes=args.random_episodes, end_evaluations=args.end_evaluations, logdir=args.logdir, progress=not args.no_progress,
                         backend=args.backend, ray_address=args.ray_address, ray_dashboard=args.ray_dashboard,
                         **options)
        print(summary_table(data))
        if args.no_progress:  # with progress, continual has said where the sequence is
            print(f"sequence folder: {data['dir']} (continual.json, continual.csv, continual.png)")
        return 0

    run_command(prog, body)


if __name__ == "__main__":
    main()
