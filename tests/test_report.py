"""`pathzero report`: reports of tiny real runs, a tiny matrix, a continual sequence, a self-play run and
the committed MinAtar matrix and sequence, opened in a real browser (Debian's chromium, driven by
Playwright): no console errors, every cell shown, a clicked cell's curves and videos, a method switch that
changes the numbers, a video that plays; and bad input."""
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from pathzero.agents.pathnet import PathNetConfig
from pathzero.agents.report import build_report

REPO = Path(__file__).resolve().parents[1]
TINY = PathNetConfig(game="MinAtar/Breakout", serial=True, envs_per_worker=4, population=2, eval_episodes=2, hidden=16,
                     width=8, layers=2, modules=3, active=2, channels=4, progress=False, replay_episodes=0)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "the report's tests need Debian's chromium: `make test` installs it (apt-get install chromium)"
    return found


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield b
        b.close()


def open_report(browser, index: Path, width: int = 1400, height: int = 1000):
    """The page of `index` once drawn (in a window of `width` x `height`), and the list its console errors go to."""
    page = browser.new_page(viewport={"width": width, "height": height})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(index.as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return page, errors


def plays(page, selector: str = "video") -> bool:
    """Whether the first matching video's currentTime advances once it is played."""
    return page.evaluate("""async (sel) => {
        const v = document.querySelector(sel);
        v.muted = true;
        await v.play();
        const t0 = v.currentTime;
        for (let i = 0; i < 50 && v.currentTime <= t0; i++) { await new Promise(r => setTimeout(r, 100)); }
        return v.currentTime > t0;
    }""", selector)


@pytest.fixture(scope="module")
def tiny_matrix(tmp_path_factory):
    from pathzero.agents.transfer import TransferConfig, TransferMatrix

    root = tmp_path_factory.mktemp("matrix")
    cfg = TransferConfig(games=("MinAtar/Breakout", "MinAtar/Asterix"), frames=1000, seeds=2, logdir=str(root),
                         base=TINY, score_episodes=2, random_episodes=5, bins=5, diagonal=False,
                         methods=("independent", "pathnet_scratch", "finetune", "pathnet"))
    TransferMatrix(cfg).run(progress=False)
    return root


def test_a_run_report_shows_curves_config_and_a_playing_replay(browser, tmp_path):
    import pathzero

    run = pathzero.train(game="CartPole-v1", serial=True, total_frames=2000, eval_every=1000, evaluation_episodes=2,
                         envs_per_worker=4, replay_episodes=1, logdir=str(tmp_path / "runs"), progress=False,
                         verbose=False)
    index = pathzero.report(run.dir, tmp_path / "site")
    assert index == tmp_path / "site" / "index.html"
    assert (tmp_path / "site" / "assets" / "plotly.min.js").stat().st_size > 1_000_000  # the charts ship with the page
    page, errors = open_report(browser, index)
    charts = page.evaluate("[...document.querySelectorAll('.chart')].map(c => c.data.map(t => t.name))")
    assert len(charts) == 2 and all("evaluation mean" in names and "training episodes" in names for names in charts)
    assert f"--resume {run.dir}" in page.locator("main").inner_text() and "checkpoint.pt" in page.locator("main").inner_text()
    assert plays(page)
    assert errors == []
    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)


def test_a_matrix_report_opens_every_cell_with_curves_and_playing_agents(browser, tiny_matrix, tmp_path):
    index = build_report(tiny_matrix, tmp_path / "site", video_steps=200)
    page, errors = open_report(browser, index)
    cells = page.locator("table.grid td.cell")
    assert cells.count() == 2  # Breakout -> Asterix and back: every cell of the matrix, none left out
    assert all(cells.nth(i).inner_text() for i in range(2))
    assert page.evaluate("document.getElementById('heatmap').data[0].type") == "heatmap"
    cells.nth(0).click()
    page.wait_for_selector("#pair-curves .main-svg")
    title = page.locator("#pair-title").inner_text()
    assert title.startswith("MinAtar/Breakout -> MinAtar/Asterix: finetune vs independent")
    names = page.evaluate("document.getElementById('pair-curves').data.map(t => t.name)")
    assert {"finetune (2 seeds)", "independent (2 seeds)", "pathnet_scratch (2 seeds)", "random play"} <= set(names)
    finetune_numbers = page.locator("table.numbers").inner_text()
    assert page.locator("#pair video").count() == 2 and plays(page, "#pair video")
    page.select_option("#method", "pathnet")  # switching the method changes the numbers shown
    assert page.locator("#pair-title").inner_text().startswith("MinAtar/Breakout -> MinAtar/Asterix: pathnet vs")
    assert page.locator("table.numbers").inner_text() != finetune_numbers
    assert "pathnet (2 seeds)" in page.evaluate("document.getElementById('pair-curves').data.map(t => t.name)")
    assert errors == []
    page.screenshot(path=str(tmp_path / "matrix.png"), full_page=True)


def test_a_half_finished_matrix_shows_its_finished_cells_and_marks_the_rest_running(browser, tiny_matrix, tmp_path):
    root = tmp_path / "half"
    shutil.copytree(tiny_matrix, root, ignore=shutil.ignore_patterns("matrix.json", "report"))
    (root / "cells" / "finetune__MinAtar-Asterix-MinAtar-Breakout__2.json").unlink()  # a run still going
    page, errors = open_report(browser, build_report(root, tmp_path / "site", videos=False))
    texts = {page.locator("table.grid td.cell").nth(i).get_attribute("data-source"):
             page.locator("table.grid td.cell").nth(i).inner_text() for i in range(2)}
    assert texts["MinAtar/Asterix"] == "running" and texts["MinAtar/Breakout"] != "running"
    page.locator("td.running").click()
    assert "running" in page.locator("#pair-note").inner_text()
    assert page.locator(".missing-video").count() == 2  # no videos for a cell still running: said, not blank
    assert errors == []


def test_the_committed_minatar_matrix_and_sequence_open_without_their_run_folders(browser, tmp_path):
    page, errors = open_report(browser, build_report(REPO / "docs" / "matrices" / "minatar", tmp_path / "m"))
    assert page.locator("table.grid td.cell").count() == 9
    page.locator("table.grid td.cell").nth(1).click()
    page.wait_for_selector("#pair-curves .main-svg")
    missing = page.locator(".missing-video").all_inner_texts()
    assert len(missing) == 2 and all("run folder (its checkpoint) is not here" in m for m in missing)
    before = page.locator("table.grid").inner_text()
    page.select_option("#control", "pathnet_scratch")
    assert page.locator("table.grid").inner_text() != before
    assert errors == []
    page, errors = open_report(browser, build_report(REPO / "docs" / "continual" / "minatar", tmp_path / "c"))
    assert page.locator("table.metrics tbody tr").count() == 8  # every method of the sequence
    assert "run folders" in page.locator("#lines-note").inner_text() and page.locator("img").count() == 1
    page.select_option("#continual-method", "pathnet")
    assert "0.00 [0.00, 0.00]" in page.locator("#drill").inner_text()  # PathNet forgets nothing
    assert errors == []


def test_a_matrix_of_long_variant_names_fits_a_1280_pixel_window(browser, tmp_path):
    """The committed variant matrix (MinAtar/Breakout+noise=0.02): the grid wraps its names instead of
    scrolling sideways, and the heatmap's source names are drawn whole (not cut at the left edge)."""
    index = build_report(REPO / "docs" / "matrices" / "minatar-variants", tmp_path / "v")
    page, _ = open_report(browser, index, width=1280, height=900)
    scroll, width = page.evaluate("() => { const g = document.querySelector('#grid'); return [g.scrollWidth, g.clientWidth]; }")
    assert scroll <= width
    lefts = page.evaluate("""() => { const h = document.getElementById('heatmap').getBoundingClientRect().left;
        return [...document.querySelectorAll('#heatmap .ytick text')].map(t => t.getBoundingClientRect().left - h); }""")
    assert len(lefts) == 4 and min(lefts) >= 0


def test_a_stem_methods_missing_cells_say_there_was_no_stem_to_copy(browser, tmp_path):
    from tests.test_pathnet_runs import finished_stem_matrix

    finished_stem_matrix(tmp_path / "m")
    page, errors = open_report(browser, build_report(tmp_path / "m", tmp_path / "site", videos=False))
    page.select_option("#method", "finetune_stem")
    assert page.locator("table.grid td.cell").count() == 2  # the diagonal
    assert page.locator("table.grid td.none").all_inner_texts() == ["no stem to copy"] * 2
    page.select_option("#method", "finetune")
    assert page.locator("table.grid td.cell").count() == 4
    assert errors == []


def test_a_continual_report_draws_each_games_phase_plot(browser, tmp_path):
    from pathzero.agents.continual import Continual, ContinualConfig

    root = tmp_path / "seq"
    Continual(ContinualConfig(games=("MinAtar/Breakout", "MinAtar/Asterix"), frames=1000, methods=("finetune", "pathnet"),
                              seeds=1, eval_every=500, evaluation_episodes=2, random_episodes=5, logdir=str(root),
                              base=TINY)).run(progress=False)
    page, errors = open_report(browser, build_report(root, tmp_path / "site"))
    traces = page.evaluate("[0, 1].map(i => document.getElementById('phase-' + i).data.map(t => t.name))")
    assert all(set(t) == {"finetune", "pathnet"} for t in traces)
    assert page.locator("table.metrics tbody tr").count() == 2
    assert errors == []


def test_a_selfplay_run_and_a_folder_of_runs(browser, tmp_path):
    from pathzero.agents.alphazero import AlphaZeroConfig, train_alphazero

    run_dir = train_alphazero(AlphaZeroConfig(iterations=1, simulations=4, games_per_iteration=3, train_steps=1,
                                              batch_size=8, channels=8, blocks=1, eval_games=2, progress=False,
                                              logdir=str(tmp_path / "runs")))
    page, errors = open_report(browser, build_report(run_dir, tmp_path / "site"))
    text = page.locator("main").inner_text()
    assert "pathzero selfplay --resume" in text and "Evaluation games" in text and "random" in text
    assert errors == []
    shutil.copytree(run_dir, tmp_path / "runs" / "copy")
    page, errors = open_report(browser, build_report(tmp_path / "runs", tmp_path / "all"))
    assert page.locator("a.run-link").count() == 2
    page.locator("a.run-link").nth(0).click()
    page.wait_for_selector("text=Evaluation games")
    assert errors == []


def test_a_folder_of_no_kind_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    result = subprocess.run([sys.executable, "-m", "pathzero", "report", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "is not a run, matrix or continual folder" in result.stderr and not (tmp_path / "report").exists()
    result = subprocess.run([sys.executable, "-m", "pathzero", "report", str(tmp_path / "nowhere")], capture_output=True,
                            text=True)
    assert result.returncode == 2 and "is not a folder" in result.stderr


def test_serve_answers_on_loopback_only_and_stops_on_sigterm(tmp_path):
    import signal
    import socket
    import urllib.request

    index = build_report(REPO / "docs" / "continual" / "minatar", tmp_path / "site")
    server = subprocess.Popen([sys.executable, "-m", "pathzero", "report", str(REPO / "docs" / "continual" / "minatar"),
                               "--out", str(tmp_path / "site"), "--serve", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == str(index)
        line = server.stdout.readline()
        assert line.startswith("serving on http://127.0.0.1:"), line
        port = int(line.split(":")[2].split("/")[0])
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10).read()
        assert b"assets/plotly.min.js" in page
        others = [a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
                  if not a[4][0].startswith("127.")]
        for address in others:  # nothing answers on the machine's other addresses
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=2).close()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 130  # a deadline, not a timing
        assert "interrupted" in server.stderr.read()
    finally:
        server.kill()
