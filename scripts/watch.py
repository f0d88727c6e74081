"""`pathzero watch`: play a trained agent, print each episode's score, and write a video; or
replay a recorded board game move by move.

    pathzero watch runs/Pong__a3c__1__... --episodes 3 --video pong.mp4
    pathzero watch runs/Pong__a3c__1__.../checkpoint.pt --video pong.gif
    pathzero watch runs/tictactoe__alphazero__1__.../evaluate_perfect.jsonl --game-index 3 --video game.gif
"""
from __future__ import annotations

import json
from pathlib import Path

from pathzero.errors import UsageError
from pathzero.scripts.common import ArgumentParser, run_command

RECORD_FPS = 2  # board positions per second in a record's video


def build_parser(prog: str = "pathzero watch") -> ArgumentParser:
    parser = ArgumentParser(prog=prog, description="Play a trained agent, print its scores, write a video.")
    parser.add_argument("path", metavar="RUN_DIR_OR_CHECKPOINT_OR_RECORDS",
                        help="a run folder or its checkpoint.pt, or a .jsonl file of board-game records "
                             "(one game per line, as pathzero evaluate and selfplay write them)")
    parser.add_argument("--episodes", type=int, default=1, help="episodes to play (default: 1)")
    parser.add_argument("--video", default=None,
                        help="write the game's RGB frames here: .mp4 (H.264) or .gif (default: no video)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode (default: 0)")
    parser.add_argument("--greedy", action="store_true",
                        help="take the most likely action instead of sampling from the policy")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="stop each episode after this many agent steps (default: no cap)")
    parser.add_argument("--task", default=None,
                        help="PathNet runs: which task to play (default: the run's own game; a run transferred "
                             "from another game also holds that game's task, e.g. MinAtar-Breakout)")
    parser.add_argument("--game-index", type=int, default=0,
                        help="with a .jsonl file of records: the game to replay, counting lines from 0; its "
                             "video shows x as red discs and o as yellow ones (default: 0)")
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero watch") -> None:
    args = build_parser(prog).parse_args(argv)

    def body() -> int:
        if args.episodes < 1:
            raise UsageError(f"--episodes must be >= 1, got {args.episodes}")
        if args.max_steps is not None and args.max_steps < 1:
            raise UsageError(f"--max-steps must be >= 1, got {args.max_steps}")
        if args.video and not args.video.lower().endswith((".mp4", ".gif")):
            raise UsageError(f"--video {args.video}: the name must end in .mp4 or .gif")
        if args.path.lower().endswith(".jsonl"):
            return watch_record(Path(args.path), args.game_index, args.video)

        from pathzero.agents.api import Agent, load

        agent = load(args.path, task=args.task, greedy=args.greedy)
        if not isinstance(agent, Agent):
            raise UsageError(f"{args.path} is a self-play checkpoint; watch a board game through its records "
                             "(.jsonl from pathzero evaluate) or play it with pathzero play")
        if agent.kind == "pathnet":
            from pathzero.agents.pathnet import pathway_text

            print(f"{agent.spec.env_id}: PathNet checkpoint at {agent.frames:,} frames; task {agent.task} "
                  f"plays along its best pathway {pathway_text(agent.model.pathway)}")
        else:
            print(f"{agent.spec.env_id}: checkpoint at {agent.frames:,} frames")
        results = agent.play(args.episodes, seed=args.seed, max_steps=args.max_steps, video=args.video)
        for i, r in enumerate(results):
            print(f"episode {i + 1}: score {r.ret:g} in {r.length} steps")
        if len(results) > 1:
            scores = [r.ret for r in results]
            print(f"mean score {sum(scores) / len(scores):g} over {len(scores)} episodes")
        if args.video:
            print(f"video: {args.video} ({sum(r.frames for r in results)} frames)")
        return 0

    run_command(prog, body)


def watch_record(path: Path, index: int, video: str | None) -> int:
    """Prints game `index` of a records file position by position, and writes its video if asked."""
    from pathzero.agents.common.replay import VideoWriter
    from pathzero.envs.board_env import board_image
    from pathzero.envs.boards import make_board_game, replay

    if not path.is_file():
        raise UsageError(f"{path} does not exist; give a .jsonl file written by pathzero evaluate or selfplay")
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if not 0 <= index < len(lines):
        raise UsageError(f"--game-index {index} is out of range: {path} holds {len(lines)} game records"
                         + (f" (0..{len(lines) - 1})" if lines else ""))
    try:
        record = json.loads(lines[index])
        game, moves = make_board_game(str(record["game"])), list(record["moves"])
    except (json.JSONDecodeError, KeyError, TypeError):
        raise UsageError(f"line {index + 1} of {path} is not a game record (JSON with keys game and moves)") from None
    states = [replay(game, moves[:n]) for n in range(len(moves) + 1)]  # UsageError at an illegal move
    details = ", ".join(f"{k} {v}" for k, v in record.items() if k not in ("game", "moves"))
    print(f"{path}, game {index + 1} of {len(lines)} (--game-index {index}): {game.name}, {len(moves)} moves"
          + (f" ({details})" if details else ""))
    print(game.render(states[0]))
    for n, move in enumerate(moves):
        print(f"\nmove {n + 1}: {'xo'[game.to_play(states[n])]} plays {move}\n{game.render(states[n + 1])}")
    final = states[-1]
    x_result = game.returns(final)[0]
    print("x wins" if x_result > 0 else "o wins" if x_result < 0 else "draw" if game.is_terminal(final) else
          "the record ends before the game does")
    if video:
        with VideoWriter(video, RECORD_FPS) as writer:
            for state in states:
                writer.append(board_image(game, state))
        print(f"video: {video} ({writer.frames} frames)")
    return 0


if __name__ == "__main__":
    main()
