"""`pathzero continual`: a sequence of games per method, resumable, with Continual World's figures."""
import json
import subprocess
import sys

import pytest
import torch

from pathzero.agents.continual import Continual, ContinualConfig
from pathzero.agents.pathnet import PathNetConfig
from pathzero.envs import UsageError
from tests.test_bench import bench

BASE = PathNetConfig(game="MinAtar/Breakout", serial=True, envs_per_worker=4, hidden=16, width=8, layers=2, modules=3,
                     active=2, channels=4, population=2, eval_episodes=2, fisher_samples=64, progress=False)
GAMES = ("MinAtar/Breakout", "MinAtar/Asterix")


def _cfg(tmp_path, **kw):
    return ContinualConfig(**{**dict(games=GAMES, cycles=2, frames=1000, methods=("finetune", "ewc", "pathnet"),
                                     seeds=2, eval_every=500, evaluation_episodes=2, random_episodes=5,
                                     logdir=str(tmp_path), base=BASE), **kw})


def test_a_sequence_trains_every_phase_reports_its_figures_and_resumes(tmp_path):
    cfg = _cfg(tmp_path)
    data = Continual(cfg).run(progress=False)
    assert set(data["summary"]) == {"finetune", "ewc", "pathnet"}
    for entry in data["summary"].values():
        for name in ("performance", "forgetting", "forward_transfer"):
            assert name in entry and len(entry[name]["seeds"]) == 2
    # PathNet's tasks are frozen: its later-cycle phases train nothing, and it forgets nothing
    cells = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "cells").glob("*.json")}
    assert [cells[f"pathnet__1__{p}"]["trained"] for p in range(4)] == [True, True, False, False]
    assert data["summary"]["pathnet"]["forgetting"]["seeds"] == [0.0, 0.0]
    # fine-tuning meets Breakout again in cycle 2 and trains its own task, not a new one
    revisit = torch.load(tmp_path / cells["finetune__1__2"]["run_dir"] / "checkpoint.pt", weights_only=True)
    assert revisit["task"] == "MinAtar-Breakout" and set(revisit["task_games"]) == {"MinAtar-Breakout", "MinAtar-Asterix"}
    ewc = torch.load(tmp_path / cells["ewc__1__3"]["run_dir"] / "checkpoint.pt", weights_only=True)
    assert "anchor" in ewc  # the anchor goes along the sequence
    assert (tmp_path / "continual.png").stat().st_size > 10_000 and (tmp_path / "continual.csv").exists()
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "cells").glob("*.json")}
    lost = tmp_path / "cells" / "ewc__2__3.json"
    lost.unlink()
    Continual(cfg).run(progress=False)  # resumes: only the lost phase again
    assert lost.exists()
    assert all(p.stat().st_mtime_ns == stamps[p.name] for p in (tmp_path / "cells").glob("*.json") if p != lost)
    with pytest.raises(UsageError, match="other settings"):
        Continual(_cfg(tmp_path, frames=2000, eval_every=1000)).run(progress=False)
    doc = tmp_path / "docs" / "BENCHMARKS.md"
    doc.parent.mkdir()
    written = bench("continual", tmp_path, "--name", "tiny", "--doc", doc)
    assert written.returncode == 0, written.stderr
    text = doc.read_text()
    assert "<!-- bench:continual-tiny -->" in text and "| pathnet |" in text and "(goal: exactly 0): **met**" in text
    assert (doc.parent / "tiny_continual.png").exists()


def test_bench_penalty_compares_frames_per_second(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    result = bench("penalty", "--frames", 1000, "--workers", 1, "--logdir", tmp_path / "runs", "--doc", doc)
    assert result.returncode == 0, result.stderr
    text = doc.read_text()
    assert "| finetune |" in text and "| ewc |" in text and "| wpl |" in text and "of fine-tuning's speed" in text


def test_bad_sequences_are_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="two or more different games"):
        _cfg(tmp_path, games=("MinAtar/Breakout",))
    with pytest.raises(UsageError, match="longer than a phase"):
        _cfg(tmp_path, eval_every=5000)
    for args in (["--methods", "magic"], ["--cycles", "0"], ["--games", "MinAtar/Breakout", "NoSuchGame"],
                 ["--methods", "ewc@-1"], ["--methods", "pathnet@3"], ["--methods", "wpl@"], ["--methods", "ewc@lots"]):
        result = subprocess.run([sys.executable, "-m", "pathzero", "continual", *args, "--logdir", str(tmp_path)],
                                capture_output=True, text=True)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)


def test_a_sequence_started_by_an_older_pathzero_resumes(tmp_path):
    """Settings added to pathzero since a sequence began were at their defaults there: not a change."""
    cfg = _cfg(tmp_path)
    Continual(cfg).check_settings()
    saved = json.loads((tmp_path / "settings.json").read_text())
    for newer in ("vector_env", "backend", "ray_address"):
        saved["base"].pop(newer, None)
    saved["base"]["eval_every"] = 12345  # set by the sequence for each run, not a setting of the base
    (tmp_path / "settings.json").write_text(json.dumps(saved))
    Continual(cfg).check_settings()
    with pytest.raises(UsageError, match="other settings"):
        Continual(_cfg(tmp_path, base=BASE.__class__(**{**BASE.__dict__, "hidden": 32}))).check_settings()


def test_penalty_strengths_are_methods_of_their_own_sharing_the_references(tmp_path):
    """ewc@LAMBDA and wpl@ALPHA: their own phases with that strength (only where a phase has a source),
    beside the plain methods, against the same random and single-task references."""
    sequence = Continual(_cfg(tmp_path, methods=("finetune", "ewc", "ewc@100", "wpl@7.5")))
    keys = [job.key for job in sequence.jobs()]
    assert sum(k.startswith("single__") for k in keys) == 2 * len(GAMES)  # one set of references
    assert {"ewc@100__1__0", "ewc@100__2__3", "wpl@7.5__1__1"} <= set(keys)
    first = sequence.run_config("ewc@100", 1, 0, GAMES[0], None, False)
    later = sequence.run_config("ewc@100", 1, 1, GAMES[1], "runs/x", False)
    plain = sequence.run_config("ewc", 1, 1, GAMES[1], "runs/x", False)
    wpl = sequence.run_config("wpl@7.5", 1, 1, GAMES[1], "runs/x", False)
    assert first.penalty == "none" and later.penalty == "ewc" and later.ewc_lambda == 100.0
    assert plain.ewc_lambda == BASE.ewc_lambda and wpl.penalty == "wpl" and wpl.wpl_alpha == 7.5
    assert later.logdir.endswith("ewc@100__1__1") and not later.evolve
    with pytest.raises(UsageError, match="twice"):
        _cfg(tmp_path, methods=("ewc@100", "ewc@100"))


def test_continual_worlds_figures_on_a_hand_made_three_task_sequence():
    """Worked out by hand from Wolczyk et al. (2021): A, B, C trained 100 frames each, every task learned
    so far evaluated every 50 frames, end points the mean of the last 2 evaluations in the phase."""
    from pathzero.agents.continual import on_schedule, sequence_metrics

    line = [(50, "A", .4), (100, "A", .8),
            (150, "A", .6), (150, "B", .3), (200, "A", .5), (200, "B", .7),
            (250, "A", .4), (250, "B", .6), (250, "C", .5), (300, "A", .2), (300, "B", .4), (300, "C", .9)]
    # C's reference run ends with its final evaluation 1 frame past the last scheduled one: the same evaluation
    raw_c = [(50, "C", .4), (100, "C", .8), (101, "C", .8)]
    reference = {"A": [[(50, .2), (100, .6)]], "B": [[(50, .5), (100, .5)]],
                 "C": [[(x, v) for x, _, v in on_schedule(raw_c, 50, 100)]]}
    assert reference["C"] == [[(50.0, .4), (100.0, .8)]]
    got = sequence_metrics(line, ["A", "B", "C"], 100, reference, window=2)
    # end of the sequence: A (.4 + .2) / 2 = .3, B (.6 + .4) / 2 = .5, C (.5 + .9) / 2 = .7
    assert got["performance"] == pytest.approx((.3 + .5 + .7) / 3)
    # forgetting: A (.4 + .8) / 2 - .3 = .3; B (.3 + .7) / 2 - .5 = 0; C, trained last, 0; over all 3 tasks
    assert got["forgetting"] == pytest.approx(.3 / 3)
    # forward transfer (AUC - AUC_ref) / (1 - AUC_ref): A (.6 - .4) / .6, B (.5 - .5) / .5, C (.7 - .6) / .4
    assert got["forward_transfer"] == pytest.approx(((.2 / .6) + 0 + .25) / 3)
    assert got["final/A"] == pytest.approx(.3)
