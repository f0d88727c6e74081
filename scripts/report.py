"""`pathzero report PATH`: a run, a transfer matrix, a continual sequence or a folder of runs as a web page.

    pathzero report runs/MinAtar-Breakout__a3c__1__20261207-120000
    pathzero report docs/matrices/minatar --out /tmp/minatar-report
    pathzero report runs/ --serve            # then open http://127.0.0.1:8000 (or through an ssh tunnel)

It writes a static site (index.html, assets/, videos/) that opens from file:// with no server and no
internet, and prints the path of index.html. Matrix cells open their learning curves and replay videos,
recorded here from the runs' checkpoints when the run folders are present.
"""
from __future__ import annotations

from argparse import ArgumentParser

from pathzero.scripts.common import run_command


def build_parser(prog: str) -> ArgumentParser:
    parser = ArgumentParser(prog=prog, description="Write a run, matrix or continual folder (or a folder of runs) as a "
                            "self-contained web page: learning curves, transfer heatmaps whose cells open their "
                            "curves and replays, continual figures. It opens offline from file://.")
    parser.add_argument("path", metavar="PATH", help="a run folder, a matrix folder (pathzero transfer), a continual "
                        "folder (pathzero continual) or a folder of run folders")
    parser.add_argument("--out", default=None, help="the site's folder (default: PATH/report)")
    parser.add_argument("--no-videos", action="store_true",
                        help="do not record replay videos from checkpoints (a run's own replay.mp4 is still shown)")
    parser.add_argument("--video-steps", type=int, default=3000,
                        help="agent steps of a recorded replay at most (default: 3000)")
    parser.add_argument("--serve", action="store_true",
                        help="then serve the site on 127.0.0.1 (only) until Ctrl-C; from another machine: "
                             "ssh -L PORT:127.0.0.1:PORT that-machine")
    parser.add_argument("--port", type=int, default=8000, help="the port for --serve (default: 8000; 0: any free one)")
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero report") -> None:
    args = build_parser(prog).parse_args(argv)

    def body() -> int:
        from pathlib import Path

        from pathzero.agents.report import build_report, serve
        from pathzero.envs import UsageError

        if args.video_steps < 1:
            raise UsageError(f"--video-steps must be >= 1, got {args.video_steps}")
        if not 0 <= args.port <= 65535:
            raise UsageError(f"--port must be 0..65535, got {args.port}")
        index = build_report(Path(args.path), args.out, videos=not args.no_videos, video_steps=args.video_steps)
        print(index)
        if args.serve:
            serve(index.parent, args.port,
                  ready=lambda port: print(f"serving on http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True))
        return 0

    run_command(prog, body)


if __name__ == "__main__":
    main()
