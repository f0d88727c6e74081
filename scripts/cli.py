"""`pathzero <command>`: one module per command under scripts/, each also runnable as
`python -m pathzero.scripts.<command>`."""
from __future__ import annotations

import importlib
import os
import sys

COMMANDS = {
    "train": "train an agent on a game (A3C or PathNet), with logs, checkpoints and a replay video",
    "transfer": "a source x target transfer matrix of scratch, fine-tuning and PathNet, with heatmaps",
    "watch": "play a trained agent, print its scores and write a video; or replay a board-game record",
    "continual": "one agent through a sequence of games per method: forgetting, forward transfer, final score",
    "selfplay": "AlphaZero-style self-play on tic-tac-toe or Connect Four (same dual network)",
    "evaluate": "play a self-play network against random, perfect or OpenSpiel MCTS play, both colours",
    "play": "play tic-tac-toe or Connect Four against a self-play network in the terminal",
    "plot": "a run's learning curve as a PNG: training returns and evaluations, against frames and hours",
    "report": "a run, matrix or continual folder as a web page: curves, heatmaps, replays (opens offline)",
    "export": "a trained agent as a shareable model folder (safetensors, model card, video; Hugging Face layout)",
}
# Commands that are gone, with where their work is done now.
MOVED = {
    "bench": "benchmarks run from a pathzero checkout: `python -m benchmarks <subcommand> ...` or "
             "`make bench-*`",
}


def usage() -> str:
    lines = ["usage: pathzero <command> [options]   (pathzero <command> --help for its options; pathzero --version)", "",
             "commands:"]
    lines += [f"  {name:<9} {text}" for name, text in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    try:
        try:
            _dispatch(sys.argv[1:] if argv is None else argv)
        finally:
            sys.stdout.flush()  # inside the try: a pipe closed early fails here, not at the interpreter's exit
    except BrokenPipeError:
        # The reader went away (`pathzero --help | head`): stop quietly, as Unix tools do, instead of a
        # traceback. stdout goes to /dev/null so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)


def _dispatch(argv: list[str]) -> None:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        sys.exit(0)
    name, rest = argv[0], argv[1:]
    if name in ("--version", "-V", "version"):
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"pathzero {version('pathzero')}")
        except PackageNotFoundError:  # run from a source tree that is not installed
            print("pathzero (not installed)")
        sys.exit(0)
    if name in MOVED:
        print(f"pathzero: error: `pathzero {name}` is gone; {MOVED[name]}", file=sys.stderr)
        sys.exit(2)
    if name not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(name, COMMANDS, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}? " if close else ""
        print(f"pathzero: error: unknown command {name!r}; {hint}choose one of {', '.join(COMMANDS)}",
              file=sys.stderr)
        sys.exit(2)
    module = importlib.import_module(f"pathzero.scripts.{name}")
    module.main(rest, prog=f"pathzero {name}")


if __name__ == "__main__":
    main()
