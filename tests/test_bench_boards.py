"""The board-game benchmarks (`python -m benchmarks search`, `tictactoe`, `connect-four`) on a tiny budget:
they measure and write their sections."""
import argparse

from benchmarks.boards import add_parsers


def bench(*args):
    """A board bench run in this process (as `python -m benchmarks` dispatches it) -> its exit code."""
    parser = argparse.ArgumentParser()
    handlers = add_parsers(parser.add_subparsers(dest="what", required=True))
    parsed = parser.parse_args([str(a) for a in args])
    return handlers[parsed.what](parsed)


def test_bench_search_writes_its_table(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\n<!-- bench:other -->\nkept\n<!-- /bench:other -->\n")
    assert bench("search", "--simulations", 8, "--batch-sizes", "4", "--searches", 1, "--side-by-side", 3,
                 "--side-batch", 2, "--doc", doc) == 0
    text = doc.read_text()
    assert "kept" in text and "<!-- bench:search-connect-four -->" in text and "cores" in text
    assert ("`python -m benchmarks search --simulations 8 --batch-sizes 4 --searches 1 --threads 1 --side-by-side 3 "
            "--side-batch 2`") in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "search |" not in line]
    assert [r.split(" | ")[0] for r in rows] == [
        "| pathzero MCTS, network evaluator, batch 1 (unbatched)", "| pathzero MCTS, network evaluator, batch 4",
        "| pathzero MCTS, 3 searches side by side, batch 2 each", "| OpenSpiel Python MCTSBot, 1 random rollout",
        "| OpenSpiel C++ pyspiel.MCTSBot, 1 random rollout"]
    for row in rows:  # four positions, all of them, the ratio: every number positive
        cells = row.strip("| ").split(" | ")[1:]
        assert len(cells) == 6 and all(float(c.replace(",", "")) > 0 for c in cells)
    assert rows[0].endswith("| 1.00 |") and "Batched / unbatched pathzero, one search: **" in text
    assert "Searches side by side, as self-play plays its parallel games (`--parallel-games`): **" in text


def test_bench_tictactoe_trains_evaluates_and_writes(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    assert bench("tictactoe", "--iterations", 1, "--games", 2, "--simulations", 4, "--train-seeds", 2,
                 "--compare-decisive", "--logdir", tmp_path / "runs", "--doc", doc) == 0
    text = doc.read_text()
    assert "<!-- bench:strength-tictactoe -->" in text and "--iterations 1" in text and "--compare-decisive" in text
    rows = [line for line in text.splitlines() if line.startswith(("| decisive", "| plain"))]
    assert len(rows) == 4  # two arms x two seeds
    for row in rows:
        perfect, randomly = (cell.split("/") for cell in row.strip("| ").split(" | ")[3:5])
        assert sum(map(int, perfect)) == 2 and sum(map(int, randomly)) == 2
    assert "Losses to perfect play: decisive moves (default):" in text
    assert len(list((tmp_path / "runs").iterdir())) == 4


def test_bench_connect_four_trains_plays_openspiel_and_draws_its_curve(tmp_path):
    doc, plot = tmp_path / "BENCHMARKS.md", tmp_path / "curve.png"
    assert bench("connect-four", "--iterations", 1, "--games", 2, "--simulations", 4, "--opponent-simulations", 10,
                 "--eval-games", 2, "--eval-simulations", 4, "--logdir", tmp_path / "runs", "--plot", plot,
                 "--doc", doc) == 0
    text = doc.read_text()
    assert "<!-- bench:strength-connect-four -->" in text and "--iterations 1" in text
    final = next(line for line in text.splitlines() if line.startswith("| final match"))
    assert sum(int(n) for n in final.split("|")[2].split("/")) == 2
    assert "| self-play games | 64 |" in text
    training = next(line for line in text.splitlines() if line.startswith("| of which self-play and training"))
    assert training.endswith(" min |") and "Goal, >= 90% wins in >= 50 games: **not met**" in text  # 2 games
    assert "Win rate during training (2 games per point, iteration: win rate): 1: " in text
    assert plot.stat().st_size > 10_000 and "![Connect Four training curve]" in text
    run, = (tmp_path / "runs").iterdir()
    # the same run evaluated again, without training
    assert bench("connect-four", "--run", run, "--games", 2, "--simulations", 4, "--opponent-simulations", 10,
                 "--plot", plot, "--doc", doc) == 0
    assert f"--run {run}" in doc.read_text()
