"""`pathzero play`: play a board game against a self-play network in the terminal.

    pathzero play --checkpoint runs/tictactoe__alphazero__1__...
    pathzero play --game connect_four --checkpoint runs/connect_four__alphazero__1__... --first agent

Moves are read from stdin, one per line (OpenSpiel's action ids); a malformed or illegal move is
explained and asked for again. `quit` or end of input (Ctrl-D) ends the game.
"""
from __future__ import annotations

from pathzero.scripts.common import ArgumentParser, run_command

MOVE_HELP = {"tictactoe": "a cell 0-8, numbered row by row from the top left:\n012\n345\n678",
             "connect_four": "a column 0-6 (numbered under the board)"}


def build_parser(prog: str = "pathzero play") -> ArgumentParser:
    parser = ArgumentParser(prog=prog, description="Play tic-tac-toe or Connect Four against a self-play network.")
    parser.add_argument("--checkpoint", required=True,
                        help="a checkpoint written by pathzero selfplay, or its run folder")
    parser.add_argument("--game", default=None,
                        help="the board game the checkpoint must be for (default: the checkpoint's game)")
    parser.add_argument("--first", choices=("human", "agent"), default="human",
                        help="who moves first, as x (default: human)")
    parser.add_argument("--simulations", type=int, default=64,
                        help="MCTS simulations per move of the agent; more is stronger and slower (default: 64)")
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero play") -> None:
    args = build_parser(prog).parse_args(argv)

    def body() -> int:
        from pathzero.agents.alphazero import load_player

        agent = load_player(args.checkpoint, simulations=args.simulations, game=args.game)
        game = agent.game
        human = 0 if args.first == "human" else 1
        print(f"{game.name}: you play {'xo'[human]}, the agent plays {'xo'[1 - human]}. "
              f"A move is {MOVE_HELP[game.name]}\n'quit' or Ctrl-D ends the game.")
        state, history = game.initial_state(), []
        while not game.is_terminal(state):
            print(f"\n{game.render(state)}")
            if game.to_play(state) != human:
                move = agent.select_move(list(history))
                print(f"agent plays {move}")
            else:
                try:
                    text = input("your move: ").strip()
                except EOFError:
                    print("\nend of input: game abandoned")
                    return 0
                if text.lower() in ("q", "quit", "exit"):
                    print("game abandoned")
                    return 0
                legal = game.legal_actions(state)
                try:
                    move = int(text)
                except ValueError:
                    print(f"{text!r} is not a move; enter a number, one of {legal}")
                    continue
                if move not in legal:
                    print(f"{move} is not a legal move now; legal: {legal}")
                    continue
            state = game.apply(state, move)
            history.append(move)
        result = game.returns(state)[human]
        print(f"\n{game.render(state)}\n" + ("you win" if result > 0 else "draw" if result == 0 else "the agent wins"))
        return 0

    run_command(prog, body)


if __name__ == "__main__":
    main()
