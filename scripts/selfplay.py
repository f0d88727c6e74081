"""`pathzero selfplay`: AlphaZero-style self-play on a board game, with the same dual network.

    pathzero selfplay --game tictactoe --iterations 20
    pathzero selfplay --game connect_four --iterations 200 --simulations 100 --workers 4
    pathzero selfplay --resume runs/tictactoe__alphazero__1__...

    pathzero selfplay --game connect_four --gate-games 40 --gate-threshold 0.55   # AlphaGo Zero's gate

Writes runs/<game>__alphazero__<seed>__<time>/ with config.json, checkpoint.pt (latest and best
network, optimizer, replay buffer), TensorBoard (losses, win and loss rates against random and, for
tic-tac-toe, perfect play; with a gate, the arena's score and decision) and evaluation_games.jsonl
(every evaluation game's moves).
"""
from __future__ import annotations

import sys

from scripts.common import ArgumentParser, add_config_flags, config_from_args, run_command

RESUMABLE = {"iterations", "progress", "eval_games", "workers", "parallel_games", "max_minutes", "eval_every",
             "eval_opponents", "eval_simulations", "opponent_simulations"}


def build_parser(prog: str = "pathzero selfplay") -> ArgumentParser:
    from agents.alphazero import AlphaZeroConfig

    parser = ArgumentParser(prog=prog, description="AlphaZero-style self-play on tic-tac-toe or Connect Four.")
    parser.add_argument("--resume", metavar="RUN_DIR", default=None,
                        help="continue the run in RUN_DIR (network, optimizer and replay buffer); only "
                             "--iterations, --max-minutes, the evaluation flags, --workers, --parallel-games "
                             "and --progress may change")
    add_config_flags(parser, AlphaZeroConfig)
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero selfplay") -> None:
    args = build_parser(prog).parse_args(argv)

    def body() -> int:
        from agents.alphazero import AlphaZeroConfig, SelfPlayError, train_alphazero

        cfg = config_from_args(AlphaZeroConfig, args, args.resume, RESUMABLE, "pathzero selfplay")
        try:
            run_dir = train_alphazero(cfg, resume=args.resume)
        except SelfPlayError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
        print(f"run folder: {run_dir}")
        return 0

    run_command(prog, body)


if __name__ == "__main__":
    main()
