"""`pathzero watch`: play a trained agent, print each episode's score, and write a video.

    pathzero watch runs/Pong__a3c__1__... --episodes 3 --video pong.mp4
    pathzero watch runs/Pong__a3c__1__.../checkpoint.pt --video pong.gif
"""
from __future__ import annotations

from scripts.common import ArgumentParser, run_command


def build_parser(prog: str = "pathzero watch") -> ArgumentParser:
    parser = ArgumentParser(prog=prog, description="Play a trained agent, print its scores, write a video.")
    parser.add_argument("path", metavar="RUN_DIR_OR_CHECKPOINT", help="a run folder or its checkpoint.pt")
    parser.add_argument("--episodes", type=int, default=1, help="episodes to play (default: 1)")
    parser.add_argument("--video", default=None,
                        help="write the game's RGB frames here: .mp4 (H.264) or .gif (default: no video)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode (default: 0)")
    parser.add_argument("--greedy", action="store_true",
                        help="take the most likely action instead of sampling from the policy")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="stop each episode after this many agent steps (default: no cap)")
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero watch") -> None:
    args = build_parser(prog).parse_args(argv)

    def body() -> int:
        from agents.a3c import load_a3c_checkpoint
        from agents.replay import VideoWriter, play, video_fps
        from envs import UsageError, resolve_game

        if args.episodes < 1:
            raise UsageError(f"--episodes must be >= 1, got {args.episodes}")
        if args.max_steps is not None and args.max_steps < 1:
            raise UsageError(f"--max-steps must be >= 1, got {args.max_steps}")
        if args.video and not args.video.lower().endswith((".mp4", ".gif")):
            raise UsageError(f"--video {args.video}: the name must end in .mp4 or .gif")
        ckpt, model = load_a3c_checkpoint(args.path)
        spec = resolve_game(ckpt["game"])
        print(f"{spec.env_id}: checkpoint at {ckpt['state']['frames']:,} frames")
        video = VideoWriter(args.video, video_fps(spec)) if args.video else None
        try:
            results = play(model.eval(), spec, episodes=args.episodes, seed=args.seed, greedy=args.greedy,
                           max_steps=args.max_steps, video=video)
        finally:
            if video is not None:
                video.close()
        for i, r in enumerate(results):
            print(f"episode {i + 1}: score {r.ret:g} in {r.length} steps")
        if len(results) > 1:
            scores = [r.ret for r in results]
            print(f"mean score {sum(scores) / len(scores):g} over {len(scores)} episodes")
        if video is not None:
            print(f"video: {args.video} ({video.frames} frames)")
        return 0

    run_command(prog, body)


if __name__ == "__main__":
    main()
