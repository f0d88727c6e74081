"""`pathzero transfer`: a source x target transfer matrix of fine-tuning and PathNet against the
independent learner and PathNet from scratch, with seeds and 95% intervals.

    pathzero transfer --games MinAtar/Breakout MinAtar/SpaceInvaders MinAtar/Asterix \
        --frames 500000 --seeds 5 --logdir runs/transfer
    pathzero transfer --games Pong Breakout --pair Pong Breakout --frames 1000000 --logdir runs/pong_breakout

Writes into --logdir: runs/ (every run folder), cells/ (one JSON per finished run or random
baseline), matrix.csv and matrix.json (one cell per source, target, method and control: score,
interval, AUCs, forgetting, note), heatmap_<method>_vs_<control>.png and curves/<source>__<target>.png;
prints a summary table. Rerun the same command to resume; raise --seeds to add seeds.
"""
from __future__ import annotations

from pathzero.scripts.common import ArgumentParser, add_backend_flags, add_config_flags, given, run_command


def build_parser(prog: str = "pathzero transfer") -> ArgumentParser:
    from pathzero.agents.experiment import ExperimentRunConfig, methods
    from pathzero.agents.transfer import DEFAULT_METHODS, MATRIX_SET, TransferConfig

    defaults = TransferConfig.__dataclass_fields__
    parser = ArgumentParser(
        prog=prog, description="Measure transfer between games: every ordered source -> target pair "
        "(source = target too, as a sanity check), for fine-tuning and PathNet, as a matrix of transfer "
        "scores against two controls, the independent learner (a fixed maximal pathway trained on the target "
        "only) and PathNet from scratch (evolution on the target only). Score = (AUC - AUC_random) / "
        "(AUC_control - AUC_random), AUC = mean return over training, random = a uniform random policy's "
        "mean return; > 1 is positive transfer. Each cell: the ratio of the mean AUCs over seeds with a 95% Fieller interval (paired by seed); "
        "the summary: IQM and mean over cells with seed-jackknife intervals.",
        epilog="Rerun the same command with the same --logdir to resume: finished runs are kept.")
    parser.add_argument("--games", nargs="+", default=list(defaults["games"].default),
                        help="games of the matrix (default: %(default)s); a variant of a game is a game too: "
                             "MinAtar/Breakout+hflip, Breakout+mode=4 (see pathzero train --help, --game)")
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS),
                        choices=[m.name for m in methods(matrix=True)],
                        help="methods to compare (default: %(default)s); independent is always trained, as the "
                             "baseline: " + "; ".join(f"{m.name}: {m.description}" for m in methods(matrix=True)))
    parser.add_argument("--pair", nargs=2, action="append", metavar=("SOURCE", "TARGET"), default=None,
                        help="only this source -> target pair (repeatable; default: every ordered pair)")
    parser.add_argument("--frames", type=int, default=defaults["frames"].default,
                        help="frames of every run (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=defaults["seeds"].default,
                        help="seeds per cell (default: %(default)s)")
    parser.add_argument("--logdir", default=defaults["logdir"].default,
                        help="the matrix folder (default: %(default)s)")
    parser.add_argument("--no-diagonal", action="store_true",
                        help="skip the source = target cells (computed by default: transfer from a game to "
                             "itself must come out clearly positive)")
    parser.add_argument("--random-episodes", type=int, default=defaults["random_episodes"].default,
                        help="episodes of a uniform random policy per game, the floor of the score "
                             "(default: %(default)s)")
    parser.add_argument("--score-episodes", type=int, default=defaults["score_episodes"].default,
                        help="episodes scoring the source policy before and after target training "
                             "(default: %(default)s)")
    parser.add_argument("--bins", type=int, default=defaults["bins"].default,
                        help="points of the learning curves (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_backend_flags(parser)
    runs = parser.add_argument_group("options of every run (as pathzero train --agent pathnet; the tau and "
                                     "flops-penalty options are the gumbel method's)")
    add_config_flags(runs, ExperimentRunConfig, skip=MATRIX_SET)
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero transfer") -> None:
    args = build_parser(prog).parse_args(argv)

    def body() -> int:
        from pathzero.agents.experiment import ExperimentRunConfig
        from pathzero.agents.transfer import MATRIX_SET, summary_table, transfer_matrix

        matrix = transfer_matrix(args.games, methods=args.methods, pairs=args.pair, frames=args.frames,
                                 seeds=args.seeds, logdir=args.logdir, diagonal=not args.no_diagonal,
                                 random_episodes=args.random_episodes, score_episodes=args.score_episodes,
                                 bins=args.bins, progress=not args.no_progress, backend=args.backend,
                                 ray_address=args.ray_address, ray_dashboard=args.ray_dashboard,
                                 **{k: v for k, v in given(args, ExperimentRunConfig).items() if k not in MATRIX_SET})
        print(summary_table(matrix["summary"], matrix["cells"], tuple(args.games)))
        if args.no_progress:  # with progress, transfer_matrix has said where the matrix is
            print(f"matrix folder: {matrix['dir']} (matrix.csv, matrix.json, heatmap_*_vs_*.png, curves/)")
        return 0

    run_command(prog, body)


if __name__ == "__main__":
    main()
