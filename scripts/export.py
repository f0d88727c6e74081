"""`pathzero export RUN DIR`: a trained agent as a shareable model folder (the Hugging Face Hub's layout).

    pathzero export runs/Pong__a3c__1__20261207-120000 models/pong-a3c
    pathzero export runs/MinAtar-Seaquest__pathnet__1__... models/seaquest --task MinAtar-Breakout
    pathzero export runs/tictactoe__alphazero__1__... models/ttt --push my-name/pathzero-tictactoe

DIR gets model.safetensors (the weights), pathzero.json (the rest of the checkpoint), config.json, a replay
video and README.md, a model card with the Hub's metadata and an evaluation of --episodes episodes.
`pathzero.load(DIR)` and `pathzero watch DIR` read it.
"""
from __future__ import annotations

from argparse import ArgumentParser

from pathzero.scripts.common import run_command


def build_parser(prog: str) -> ArgumentParser:
    parser = ArgumentParser(prog=prog, description="Write a trained agent (A3C, PathNet or self-play) as a model "
                            "folder in the Hugging Face Hub's layout: weights as safetensors, config.json, a replay "
                            "video and a model card with its evaluation. pathzero.load and pathzero watch read it.")
    parser.add_argument("run", metavar="RUN", help="a run folder (or checkpoint file) made by pathzero train or selfplay")
    parser.add_argument("out", metavar="DIR", help="the model folder to write (new, empty, or an earlier export)")
    parser.add_argument("--episodes", type=int, default=10,
                        help="episodes (board games: games per opponent) of the card's evaluation (default: 10)")
    parser.add_argument("--task", default=None, help="PathNet: which task to export (default: the run's own)")
    parser.add_argument("--seed", type=int, default=0, help="the evaluation's first environment seed (default: 0)")
    parser.add_argument("--push", metavar="REPO_ID", default=None,
                        help="then upload DIR to the Hugging Face Hub as this model repository (needs "
                             "huggingface_hub and a token; untested here)")
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero export") -> None:
    args = build_parser(prog).parse_args(argv)

    def body() -> int:
        from pathzero.agents.export import export

        out = export(args.run, args.out, episodes=args.episodes, task=args.task, seed=args.seed, push=args.push)
        print(out / "README.md")
        return 0

    run_command(prog, body)


if __name__ == "__main__":
    main()
