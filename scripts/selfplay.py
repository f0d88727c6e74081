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

from pathzero.scripts.common import ArgumentParser, add_config_flags, given, run_command


def build_parser(prog: str = "pathzero selfplay") -> ArgumentParser:
    from pathzero.agents.alphazero import AlphaZeroConfig

    parser = ArgumentParser(prog=prog, description="AlphaZero-style self-play on tic-tac-toe or Connect Four. "
                            "Settings come from the game's preset (printed at the start), then --config FILE.toml, "
                            "then the flags. The same as pathzero.train(agent='alphazero', ...) in Python.")
    parser.add_argument("--config", metavar="FILE.toml", default=None,
                        help="a TOML file of settings (names as the flags) over the preset; flags win over it")
    parser.add_argument("--resume", metavar="RUN_DIR", default=None,
                        help="continue the run in RUN_DIR (network, optimizer and replay buffer); only "
                             "--iterations, --max-minutes, the evaluation flags, --workers, --parallel-games "
                             "and --progress may change")
    add_config_flags(parser, AlphaZeroConfig)
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero selfplay") -> None:
    args = build_parser(prog).parse_args(argv)

    def body() -> int:
        from pathzero.agents.alphazero import AlphaZeroConfig, SelfPlayError
        from pathzero.agents.api import train

        try:
            run = train(agent="alphazero", resume=args.resume, config=args.config, verbose=args.resume is None,
                        **given(args, AlphaZeroConfig))
        except SelfPlayError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
        print(f"run folder: {run.dir}")
        return 0

    run_command(prog, body)


if __name__ == "__main__":
    main()
