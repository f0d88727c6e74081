"""`python -m benchmarks report-speed`: how fast a `pathzero report` page draws in a real browser.

    python -m benchmarks report-speed                    # a 204-run matrix (built once, tiny runs) and the committed one

A matrix of 4 MinAtar games, every ordered pair with the diagonal, fine-tuning and PathNet, 5 seeds: 204 real
runs of 1,000 frames each with a tiny network (what is timed is the page, not the learning; the folder is built
once and kept under --logdir). Its report and the committed MinAtar matrix's (168 runs) are opened in Debian's
chromium (headless, through Playwright) --repeats times each: the time from navigation to the page drawn (the
heatmap, the grid of cells, every chart), and the time from a click on a cell to its curves drawn.
"""
from __future__ import annotations

import datetime as dt
import shutil
import statistics
import time
from pathlib import Path

DEFAULT_DOC = "docs/BENCHMARKS.md"
GAMES = ("MinAtar/Breakout", "MinAtar/Asterix", "MinAtar/SpaceInvaders", "MinAtar/Seaquest")


def build_matrix(root: Path, seeds: int) -> Path:
    from pathzero.agents.pathnet import PathNetConfig
    from pathzero.agents.transfer import TransferConfig, TransferMatrix

    base = PathNetConfig(game=GAMES[0], serial=True, envs_per_worker=4, population=2, eval_episodes=2, hidden=16,
                         width=8, layers=2, modules=3, active=2, channels=4, progress=False, replay_episodes=0)
    cfg = TransferConfig(games=GAMES, frames=1000, seeds=seeds, logdir=str(root), base=base, score_episodes=2,
                         random_episodes=5, bins=20, methods=("independent", "pathnet_scratch", "finetune", "pathnet"))
    TransferMatrix(cfg).run(progress=True)
    return root


def time_page(index: Path, repeats: int) -> tuple[list[float], list[float], int]:
    """(seconds to draw the page, seconds to draw a clicked cell's pair) per repeat, and the cells shown."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        from pathzero.envs import UsageError
        raise UsageError("report-speed needs Debian's chromium: apt-get install chromium (make test installs it)")
    loads, clicks, cells = [], [], 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(repeats):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(index.resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            loads.append(page.evaluate("performance.now()") / 1000)  # from the start of navigation
            cells = page.locator("table.grid td.cell").count()
            start = time.perf_counter()
            page.locator("table.grid td.cell").nth(1).click()
            page.wait_for_selector("#pair-curves .main-svg", timeout=60_000)
            clicks.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return loads, clicks, cells


def report_speed(args) -> int:
    from benchmarks.bench import machine, write_section
    from pathzero.agents.report import build_report

    root = build_matrix(Path(args.logdir), args.seeds)
    runs = len(list((root / "cells").glob("*.json")))
    rows = []
    for label, folder in ((f"tiny runs, {len(GAMES)} games with the diagonal, {args.seeds} seeds", root),
                          ("the committed MinAtar matrix (docs/matrices/minatar)", Path("docs/matrices/minatar"))):
        if not (folder / "transfer.json").is_file():
            continue
        start = time.perf_counter()
        index = build_report(folder, Path(args.out) / folder.name, videos=False)
        built = time.perf_counter() - start
        loads, clicks, cells = time_page(index, args.repeats)
        count = len(list((folder / "cells").glob("*.json")))
        size = (index.stat().st_size + (index.parent / "assets" / "plotly.min.js").stat().st_size) / 1e6
        rows.append(f"| {label} | {count} | {cells} | {built:.1f} | {size:.1f} | {statistics.median(loads):.2f} "
                    f"({min(loads):.2f}-{max(loads):.2f}) | {statistics.median(clicks):.2f} |")
        print(rows[-1], flush=True)
    slowest = max(float(r.split(" | ")[5].split(" ")[0]) for r in rows)
    body = f"""## The report page: drawing a large matrix in a browser

Measured {dt.date.today().isoformat()} on {machine()}. Command: `python -m benchmarks report-speed --seeds {args.seeds} --repeats {args.repeats}`.

`pathzero report MATRIX --no-videos`, then the page opened {args.repeats} times in Debian's chromium (headless,
Playwright): seconds from navigation to the page drawn (heatmap, grid, data parsed), median (range), and from a click
on a cell to its curves drawn. The {runs}-run matrix is real runs of 1,000 frames with a tiny network: what is timed
is the page, whose size grows with runs and cells, not with how long they trained.

| matrix | runs | cells shown | report built (s) | page + Plotly (MB) | drawn (s) | cell opened (s) |
|---|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

Goal (issue 19): a matrix of 200 runs draws in under 5 s: {'met' if slowest < 5 else '**not met**'} (slowest median {slowest:.2f} s).
"""
    write_section(Path(args.doc), "report-speed", body, args.note)
    print(body)
    return 0


def add_parsers(sub) -> dict:
    rs = sub.add_parser("report-speed", help="how fast a pathzero report page of a 200-run matrix draws in chromium",
                        description="Builds (once) a 204-run matrix of tiny real runs, writes its report and the "
                                    "committed MinAtar matrix's, and times both pages in Debian's chromium.")
    rs.add_argument("--seeds", type=int, default=5, help="seeds of the tiny matrix (default: 5, 204 runs)")
    rs.add_argument("--repeats", type=int, default=5, help="page loads timed per report (default: 5)")
    rs.add_argument("--logdir", default="runs/report-speed-matrix", help="where the tiny matrix is built and kept")
    rs.add_argument("--out", default="runs/report-speed-sites", help="where the reports are written")
    rs.add_argument("--note", default="", help="a remark to add under the numbers")
    rs.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    return {"report-speed": report_speed}
