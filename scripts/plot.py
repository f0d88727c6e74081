"""`pathzero plot RUN_DIR`: a run's learning curve as a PNG, without TensorBoard.

    pathzero plot runs/MinAtar-Breakout__a3c__1__20261207-120000
    pathzero plot runs/Pong__a3c__1__... --out pong.png

Training returns (each faint, their moving mean bold) and evaluations (mean and 95% interval) against
emulator frames and against wall-clock hours; resumed runs continue on both axes.
"""
from __future__ import annotations

from argparse import ArgumentParser

from pathzero.scripts.common import run_command


def build_parser(prog: str) -> ArgumentParser:
    parser = ArgumentParser(prog=prog, description="Draw a run's learning curve (training episodes and evaluations, "
                            "against frames and wall-clock hours) as a PNG.")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run folder made by pathzero train")
    parser.add_argument("--out", default=None, help="the PNG to write (default: RUN_DIR/learning_curve.png)")
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero plot") -> None:
    args = build_parser(prog).parse_args(argv)

    def body() -> int:
        from pathlib import Path

        from pathzero.agents.api import Run
        from pathzero.envs import UsageError

        if not (Path(args.run_dir) / "config.json").is_file():
            raise UsageError(f"{args.run_dir} is not a run folder (no config.json); give a folder made by pathzero train")
        print(Run(Path(args.run_dir)).plot(args.out))
        return 0

    run_command(prog, body)


if __name__ == "__main__":
    main()
