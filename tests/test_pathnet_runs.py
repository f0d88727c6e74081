"""PathNet with A3C workers end to end: run folders, resume, transfer with frozen pathways, and the
transfer matrix command (tiny budgets in frames)."""
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from pathzero.agents.common.runlog import read_episodes
from pathzero.agents.pathnet import PathNetConfig, load_pathnet_checkpoint, train_pathnet
from pathzero.agents.transfer import Cell, TransferConfig, TransferMatrix, plan
from pathzero.envs import UsageError
from pathzero.nets.pathnet import pathway_modules
from tests.test_bench import bench

TINY = PathNetConfig(game="CartPole-v1", serial=True, total_frames=1500, envs_per_worker=4, population=3,
                     eval_episodes=2, hidden=16, width=16, progress=False, replay_episodes=0)


def pathzero(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pathzero.scripts.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("runs")
    return train_pathnet(replace(TINY, logdir=str(logdir), replay_episodes=1, replay_max_steps=20))


def test_a_pathnet_run_writes_its_folder_logs_and_grid_picture(source_run):
    assert source_run.name.startswith("CartPole-v1__pathnet__1__")
    ckpt = torch.load(source_run / "checkpoint.pt", weights_only=True)
    assert ckpt["format"] == "pathzero-pathnet" and ckpt["task"] == "CartPole-v1"
    assert ckpt["population"]["genotypes"].shape == (3, 4, 4)
    assert int(ckpt["population"]["evaluations"].sum()) >= 1
    assert ckpt["pathnet"]["best"]["CartPole-v1"] is not None
    assert read_episodes(source_run)
    events = EventAccumulator(str(source_run))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"pathnet/best_fitness", "pathnet/mean_fitness", "pathnet/modules_in_use",
            "pathnet/best_shared_with_frozen", "charts/episodic_return", "losses/policy"} <= tags
    assert (source_run / "pathnet_grid.png").stat().st_size > 5000
    assert (source_run / "replay.mp4").exists()


def test_transfer_freezes_the_source_pathway_bit_identically(source_run, tmp_path):
    _, source = load_pathnet_checkpoint(source_run)
    best = source.best["CartPole-v1"]
    target = train_pathnet(replace(TINY, game="Acrobot-v1", logdir=str(tmp_path), transfer_from=str(source_run),
                                   total_frames=2000))
    ckpt, model = load_pathnet_checkpoint(target)
    assert ckpt["task"] == "Acrobot-v1" and list(model.heads) == ["CartPole-v1", "Acrobot-v1"]
    assert model.frozen == pathway_modules(best) and model.frozen_tasks == {"CartPole-v1"}
    for layer, m in pathway_modules(best):
        for p, q in zip(source.grid[layer][m].parameters(), model.grid[layer][m].parameters()):
            assert torch.equal(p, q)
    for p, q in zip(source.heads["CartPole-v1"].parameters(), model.heads["CartPole-v1"].parameters()):
        assert torch.equal(p, q)
    # `pathzero watch` plays the kept source task along its frozen pathway, and says which pathway
    shown = pathzero("watch", target, "--task", "CartPole-v1", "--max-steps", 20)
    assert shown.returncode == 0, shown.stderr
    assert "CartPole-v1" in shown.stdout and "best pathway L1:" in shown.stdout and "episode 1: score" in shown.stdout
    # every other module was re-initialised, then trained on the target
    others = [(layer, m) for layer in range(4) for m in range(10) if (layer, m) not in model.frozen]
    assert all(not torch.equal(source.grid[layer][m].conv1.weight if hasattr(source.grid[layer][m], "conv1")
                               else source.grid[layer][m].fc1.weight, model.grid[layer][m].fc1.weight)
               for layer, m in others)


def test_a_transferred_task_gets_a_fresh_stem_unless_copy_stem_is_set(source_run, tmp_path):
    """Only the module grid carries knowledge by default; --copy-stem is the one way to copy the source
    task's stem and fc layer, and config.json records which it was."""
    _, source = load_pathnet_checkpoint(source_run)
    for copy in (False, True):
        target = train_pathnet(replace(TINY, logdir=str(tmp_path / str(copy)), transfer_from=str(source_run),
                                       total_frames=200, copy_stem=copy))
        ckpt, model = load_pathnet_checkpoint(target)
        assert ckpt["config"]["copy_stem"] is copy
        assert json.loads((target / "config.json").read_text())["copy_stem"] is copy
        # 200 frames of training move the copy a little; the first layer's weights show where it began
        new, old = model.heads[ckpt["task"]].stem[0].weight, source.heads["CartPole-v1"].stem[0].weight
        assert ckpt["task"] == "CartPole-v1#2"
        assert torch.allclose(new, old, atol=0.05) is copy
    with pytest.raises(UsageError, match="--copy-stem"):
        PathNetConfig(game="CartPole-v1", copy_stem=True)


def test_with_the_fc_layer_in_the_grid_transfer_freezes_it_and_the_task_owns_only_stem_and_heads(tmp_path):
    """--fc-in-grid through the command: the source's best pathway, its fully connected modules included, is
    frozen bit-identically into the target's network; the target's heads have no fc layer of their own; a
    source made without it is refused."""
    made = pathzero("train", "--agent", "pathnet", "--game", "CartPole-v1", "--fc-in-grid", "--serial", "--total-frames", 1500,
                    "--envs-per-worker", 4, "--population", 3, "--eval-episodes", 2, "--hidden", 16, "--width", 16,
                    "--replay-episodes", 0, "--logdir", tmp_path / "src")
    assert made.returncode == 0, made.stderr
    source_run = next((tmp_path / "src").iterdir())
    _, source = load_pathnet_checkpoint(source_run)
    assert source.cfg.fc_in_grid and len(source.grid[-1]) == 10
    best = source.best["CartPole-v1"]
    target = train_pathnet(replace(TINY, game="Acrobot-v1", logdir=str(tmp_path / "t"), transfer_from=str(source_run),
                                   total_frames=800, fc_in_grid=True))
    _, model = load_pathnet_checkpoint(target)
    assert model.frozen == pathway_modules(best) and any(layer == 3 for layer, _ in model.frozen)
    for layer, m in pathway_modules(best):
        for p, q in zip(source.grid[layer][m].parameters(), model.grid[layer][m].parameters()):
            assert torch.equal(p, q)
    owned = model.task_params("Acrobot-v1")
    assert owned["fc"] == 0 and owned["own"] < owned["largest_pathway"]
    with pytest.raises(UsageError, match="the grid flags must match it"):
        train_pathnet(replace(TINY, game="Acrobot-v1", logdir=str(tmp_path / "u"), transfer_from=str(source_run)))


def test_a_variant_with_a_fractional_setting_trains_and_transfers(tmp_path):
    """A variant's name is its task's name: `noise=0.02` holds a "." that torch refuses in module names."""
    tiny = replace(TINY, game="MinAtar/Breakout+noise=0.02", total_frames=300, channels=4, population=2)
    source = train_pathnet(replace(tiny, logdir=str(tmp_path / "a")))
    target = train_pathnet(replace(tiny, game="MinAtar/Breakout+hflip", logdir=str(tmp_path / "b"),
                                   transfer_from=str(source)))
    ckpt, model = load_pathnet_checkpoint(target)
    assert list(model.heads) == ["MinAtar-Breakout+noise=0_02", "MinAtar-Breakout+hflip"]
    assert ckpt["task_games"]["MinAtar-Breakout+noise=0_02"] == "MinAtar/Breakout-v1+noise=0.02"


def test_resume_continues_the_population_and_frames(source_run, tmp_path):
    first = train_pathnet(replace(TINY, logdir=str(tmp_path), total_frames=1000))
    before = torch.load(first / "checkpoint.pt", weights_only=True)
    resumed = train_pathnet(replace(TINY, logdir=str(tmp_path), total_frames=2000), resume=first)
    after = torch.load(resumed / "checkpoint.pt", weights_only=True)
    assert resumed == first and after["state"]["resumes"] == 1
    assert after["state"]["frames"] >= 2000 > before["state"]["frames"] >= 1000
    assert int(after["population"]["evaluations"].sum()) > int(before["population"]["evaluations"].sum())


def test_bad_transfer_sources_are_refused(source_run, tmp_path):
    with pytest.raises(UsageError, match="grid"):
        train_pathnet(replace(TINY, logdir=str(tmp_path), transfer_from=str(source_run), modules=8))
    with pytest.raises(UsageError, match="does not exist|no checkpoint|not found"):
        train_pathnet(replace(TINY, logdir=str(tmp_path), transfer_from=str(tmp_path / "nowhere")))
    with pytest.raises(UsageError, match="conv|mlp"):
        train_pathnet(replace(TINY, game="MinAtar/Breakout", logdir=str(tmp_path), transfer_from=str(source_run)))


def test_train_command_runs_and_resumes_a_pathnet_run(tmp_path):
    args = ["--agent", "pathnet", "--game", "CartPole-v1", "--serial", "--envs-per-worker", 4, "--population", 3,
            "--eval-episodes", 2, "--hidden", 16, "--width", 16, "--no-progress", "--replay-episodes", 0,
            "--logdir", tmp_path]
    result = pathzero("train", *args, "--total-frames", 800)
    assert result.returncode == 0, result.stderr
    (run_dir,) = tmp_path.iterdir()
    assert json.loads((run_dir / "config.json").read_text())["population"] == 3
    resumed = pathzero("train", "--resume", run_dir, "--total-frames", 1600)
    assert resumed.returncode == 0, resumed.stderr
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["state"]["frames"] >= 1600
    bad = pathzero("train", "--agent", "pathnet", "--active", 12, "--logdir", tmp_path)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "N=12" in bad.stderr
    mixed = pathzero("train", "--agent", "a3c", "--resume", run_dir)
    assert mixed.returncode == 2 and "pathnet run" in mixed.stderr


REQUIRED = {"source", "target", "method", "score", "ci_low", "ci_high", "seeds", "auc", "auc_random", "auc_control",
            "forgetting", "note"}


def test_ewc_wpl_and_gumbel_cells_carry_the_same_fields_and_gumbel_its_pathway_size(tmp_path):
    base = replace(TINY, game="MinAtar/Breakout", envs_per_worker=4, hidden=16, channels=4, fisher_samples=64)
    cfg = TransferConfig(games=("MinAtar/Breakout", "MinAtar/Asterix"), frames=1500, seeds=2, logdir=str(tmp_path),
                         base=base, score_episodes=2, random_episodes=5, bins=5,
                         pairs=(("MinAtar/Breakout", "MinAtar/Asterix"),),
                         methods=("independent", "ewc", "wpl", "pathnet", "gumbel"))
    data = TransferMatrix(cfg).run(progress=False)
    cells = {c["method"]: c for c in data["cells"]}
    assert set(cells) == {"ewc", "wpl", "pathnet", "gumbel"} and all(REQUIRED <= set(c) for c in cells.values())
    for method in ("ewc", "wpl"):  # fine-tuning variants: the source's weights train on, so forgetting is measured
        assert cells[method]["source_identical"] is False and cells[method]["forgetting_raw"] is not None
    gumbel = cells["gumbel"]
    assert gumbel["source_identical"] is True and gumbel["forgetting_raw"] == 0.0  # the source pathway is frozen
    assert gumbel["pathway_modules"] >= 1 and gumbel["pathway_flops"] > 0 and gumbel["pathway_params"] > 0
    assert gumbel["wall_seconds"] > 0 and gumbel["fps"] > 0
    runs = {c.kind for c in plan(cfg)}
    assert runs == {"random", "fixed", "evolved", "ewc", "wpl", "pathnet", "gumbel"}
    # what each method's runs cost: means over its runs, and Gumbel's FLOPs and time paired with PathNet's runs
    costs = data["costs"]
    assert set(costs) == {"independent", "ewc", "wpl", "pathnet", "gumbel"} and costs["gumbel"]["runs"] == 2
    flops = [json.loads(Cell(m, "MinAtar/Asterix", s, "MinAtar/Breakout").path(tmp_path).read_text())["pathway"]["flops"]
             for m in ("gumbel", "pathnet") for s in (1, 2)]
    assert costs["gumbel"]["pathway_flops"]["value"] == pytest.approx(np.mean(flops[:2]))
    assert costs["gumbel"]["pathway_flops_vs_pathnet"]["value"] == pytest.approx(sum(flops[:2]) / sum(flops[2:]))
    doc = tmp_path / "docs" / "BENCHMARKS.md"
    doc.parent.mkdir()
    written = bench("transfer", tmp_path, "--name", "tiny", "--doc", doc)
    assert written.returncode == 0, written.stderr
    text = doc.read_text()
    assert "| gumbel | 2 |" in text and "FLOPs / PathNet's" in text and "Gumbel's pathways use" in text
    assert "--methods independent ewc wpl pathnet gumbel" in text  # the command reruns these methods, not the default
    assert "--pair MinAtar/Breakout MinAtar/Asterix" in text  # and these pairs only
    owned = data["task_parameters"]["MinAtar/Asterix"]  # the target's own parts, against the grid's share
    assert owned["own"] == owned["stem"] + owned["fc"] + owned["heads"] and owned["largest_pathway"] > 0
    assert f"MinAtar/Asterix {owned['own'] / 1e3:.1f}k (stem" in text and "owns and never shares" in text
    # the same-run timing of the two searches: both trained again here, resumable, then a section
    timed = bench("search-cost", tmp_path, "--frames", 1000, "--name", "tiny", "--doc", doc)
    assert timed.returncode == 0, timed.stderr
    results = json.loads((tmp_path / "runs" / "timing" / "results.json").read_text())
    assert {v["kind"] for v in results.values()} == {"pathnet", "gumbel"} and all(v["wall_seconds"] > 0 for v in results.values())
    assert "<!-- bench:search-cost-tiny -->" in doc.read_text() and "x** PathNet's" in doc.read_text()
    again = bench("search-cost", tmp_path, "--frames", 1000, "--name", "tiny", "--doc", doc)
    assert again.returncode == 0 and json.loads((tmp_path / "runs" / "timing" / "results.json").read_text()) == results
    bad = bench("search-cost", tmp_path, "--pair", "MinAtar/Asterix", "MinAtar/Breakout", "--doc", doc)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "not a pair" in bad.stderr


def test_costs_pair_each_run_with_pathnets_on_the_same_pair_and_seed(tmp_path):
    """TransferMatrix.costs on hand-written cells: means over runs, ratios to PathNet paired by seed (a
    swap of PathNet's seeds changes the interval), and None where old cells lack a field and the run
    folder is gone (a fresh clone)."""
    from pathzero.agents.common.stats import normalised_ratio

    cfg = TransferConfig(games=("MinAtar/Breakout", "MinAtar/Asterix"), frames=1500, seeds=3, logdir=str(tmp_path),
                         base=TINY, pairs=(("MinAtar/Breakout", "MinAtar/Asterix"),),
                         methods=("independent", "pathnet", "gumbel"))
    flops = {"pathnet": [4.0, 5.0, 7.0], "gumbel": [1.0, 3.0, 4.0]}
    walls = {"pathnet": [10.0, 12.0, 11.0], "gumbel": [30.0, 20.0, 25.0]}

    def write(cell, data):
        cell.path(tmp_path).parent.mkdir(parents=True, exist_ok=True)
        cell.path(tmp_path).write_text(json.dumps({"run_dir": f"runs/{cell.key}/gone", **data}))

    for seed in (1, 2, 3):
        for method in ("pathnet", "gumbel"):
            write(Cell(method, "MinAtar/Asterix", seed, "MinAtar/Breakout"),
                  {"pathway": {"modules": 1, "flops": flops[method][seed - 1], "params": 7},
                   "wall_seconds": walls[method][seed - 1], "fps": 100.0})
        write(Cell("fixed", "MinAtar/Asterix", seed), {})  # an older cell, its run folder gone
    costs = TransferMatrix(cfg).costs()
    assert costs["independent"]["runs"] == 3 and costs["independent"]["wall_seconds"] is None
    assert costs["gumbel"]["pathway_flops"]["value"] == pytest.approx(np.mean(flops["gumbel"]))
    paired = normalised_ratio(np.array(flops["gumbel"]), np.array(flops["pathnet"]), 0.0)[0]
    got = costs["gumbel"]["pathway_flops_vs_pathnet"]
    assert (got["value"], got["ci_low"], got["ci_high"]) == pytest.approx((paired.value, paired.low, paired.high))
    swapped = normalised_ratio(np.array(flops["gumbel"]), np.array(flops["pathnet"][::-1]), 0.0)[0]
    assert (swapped.low, swapped.high) != pytest.approx((paired.low, paired.high))
    assert costs["gumbel"]["wall_seconds_vs_pathnet"]["value"] == pytest.approx(75 / 33)
    assert costs["gumbel"]["wall_seconds_median"] == 25.0 and costs["independent"]["wall_seconds_median"] is None


def test_transfer_matrix_end_to_end_with_seeds_diagonal_and_resume(tmp_path):
    base = replace(TINY, game="MinAtar/Breakout", envs_per_worker=4, hidden=16, channels=4)
    pairs = (("MinAtar/Breakout", "MinAtar/Asterix"), ("MinAtar/Breakout", "MinAtar/Breakout"))
    cfg = TransferConfig(games=("MinAtar/Breakout", "MinAtar/Asterix"), frames=1500, seeds=2, logdir=str(tmp_path),
                         base=base, score_episodes=2, random_episodes=5, bins=5, pairs=pairs,
                         methods=("independent", "pathnet_scratch", "finetune", "pathnet"))
    matrix = TransferMatrix(cfg).run(progress=False)
    cells = plan(cfg)
    # random per game; per seed: fixed and evolved per game, finetune and pathnet per pair
    assert len(cells) == 2 + 2 * (2 + 2 + 2 * 2)
    assert all(c.path(tmp_path).exists() for c in cells)
    rows = list(__import__("csv").DictReader((tmp_path / "matrix.csv").open()))
    data = json.loads((tmp_path / "matrix.json").read_text())
    assert REQUIRED <= set(rows[0]) and all(REQUIRED <= set(c) for c in data["cells"])
    # every transfer method against both controls per pair, and PathNet from scratch per target
    assert len(data["cells"]) == len(rows) == 2 * 2 * 2 + 2
    assert {(c["method"], c["control"]) for c in data["cells"]} == {
        ("finetune", "independent"), ("finetune", "pathnet_scratch"), ("pathnet", "independent"),
        ("pathnet", "pathnet_scratch"), ("pathnet_scratch", "independent")}
    assert data["random"]["MinAtar/Asterix"]["episodes"] == 5
    for cell in data["cells"]:
        assert cell["seeds"] == 2 and len(cell["auc_seeds"]) == 2
        if cell["score"] is None:  # undefined only with a reason in words
            assert "did not beat random" in cell["note"] or "no episode" in cell["note"]
            continue
        floor = cell["auc_random"]
        expected = (np.mean(cell["auc_seeds"]) - floor) / (np.mean(cell["auc_control_seeds"]) - floor)
        assert cell["score"] == pytest.approx(expected) and cell["note"] is None
        assert cell["ci_low"] <= cell["score"] <= cell["ci_high"] or cell["ci_low"] == cell["ci_high"]
    for cell in data["cells"]:
        if cell["method"] == "pathnet":
            assert cell["source_identical"] is True and cell["forgetting_raw"] == 0.0
        if cell["method"] == "pathnet_scratch":
            assert cell["source"] is None and cell["forgetting"] is None
    assert sum(c["source"] == c["target"] for c in data["cells"]) == 4  # the diagonal pair, 2 methods x 2 controls
    assert matrix["summary"] == data["summary"] and "pathnet vs independent" in data["summary"]
    doc = tmp_path / "docs" / "BENCHMARKS.md"
    doc.parent.mkdir()
    written = bench("transfer", tmp_path, "--name", "tiny", "--doc", doc)
    assert written.returncode == 0, written.stderr
    text = doc.read_text()
    assert "<!-- bench:pathnet-transfer-tiny -->" in text and "| pathnet vs independent |" in text
    from benchmarks.pathnet import run_dates
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", run_dates(tmp_path))  # the runs of one day
    assert f"Measured {run_dates(tmp_path)} (the runs' start dates)" in text
    assert "| pathnet_scratch vs independent |" in text and (doc.parent / "tiny_heatmap_pathnet_vs_independent.png").exists()
    for name in ("heatmap_finetune_vs_independent.png", "heatmap_pathnet_vs_pathnet_scratch.png",
                 "curves/MinAtar-Breakout__MinAtar-Asterix.png", "curves/MinAtar-Breakout__MinAtar-Breakout.png"):
        assert (tmp_path / name).stat().st_size > 5000, name
    # interrupted matrix: one finished cell lost; a rerun trains only that one
    lost = cells[-1].path(tmp_path)
    lost.unlink()
    stamps = {c.key: c.path(tmp_path).stat().st_mtime_ns for c in cells[:-1]}
    TransferMatrix(cfg).run(progress=False)
    assert lost.exists()
    assert all(c.path(tmp_path).stat().st_mtime_ns == stamps[c.key] for c in cells[:-1])
    # a matrix whose cells were kept but not its run folders (a fresh clone): a transfer still to do
    # trains its source again; finished cells stay as they are
    lost.unlink()
    source = Cell("evolved", "MinAtar/Breakout", 2)
    shutil.rmtree(tmp_path / "runs" / source.key)
    TransferMatrix(cfg).run(progress=False)
    assert lost.exists() and source.path(tmp_path).stat().st_mtime_ns != stamps[source.key]
    assert all(c.path(tmp_path).stat().st_mtime_ns == stamps[c.key] for c in cells[:-1] if c != source)
    with pytest.raises(UsageError, match="other settings"):
        TransferMatrix(replace(cfg, frames=3000)).run(progress=False)
    assert json.loads((tmp_path / "transfer.json").read_text())["frames"] == 1500  # nothing overwritten
    # other workers or a base --logdir (each run has its own folder) are not other settings
    TransferMatrix(replace(cfg, base=replace(cfg.base, workers=3, logdir="elsewhere"))).run(progress=False)


def _fake_cell(root, cell, **fields):
    path = cell.path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"run_dir": ".", "curve": [fields.get("auc", 0.0)] * 3, "task": cell.target,
                                "own_score": 0.0, **fields}))


def test_scores_are_defined_for_negative_returns_and_explained_where_the_control_is_not_above_random(tmp_path):
    cfg = TransferConfig(games=("MinAtar/Breakout", "MinAtar/Asterix"), seeds=3, logdir=str(tmp_path), base=TINY,
                         pairs=(("MinAtar/Breakout", "MinAtar/Asterix"), ("MinAtar/Asterix", "MinAtar/Breakout")),
                         methods=("independent", "finetune"))
    # Asterix plays like Pong (negative returns); on Breakout the control is no better than random
    floors = {"MinAtar/Asterix": -20.7, "MinAtar/Breakout": 1.0}
    for game, floor in floors.items():
        _fake_cell(tmp_path, Cell("random", game, 0), mean=floor, returns=[floor], episodes=1)
    for seed, (pong_control, pong_method, flat) in enumerate([(-19.0, -17.0, 0.6), (-18.0, -16.5, 1.5),
                                                               (-18.5, -16.0, 0.9)], start=1):
        _fake_cell(tmp_path, Cell("fixed", "MinAtar/Asterix", seed), auc=pong_control, own_score=pong_control)
        _fake_cell(tmp_path, Cell("fixed", "MinAtar/Breakout", seed), auc=flat, own_score=3.0)
        _fake_cell(tmp_path, Cell("finetune", "MinAtar/Asterix", seed, "MinAtar/Breakout"), auc=pong_method,
                   source_before=3.0, source_after=2.0, source_identical=False)
        _fake_cell(tmp_path, Cell("finetune", "MinAtar/Breakout", seed, "MinAtar/Asterix"), auc=2.0,
                   source_before=pong_control, source_after=pong_control - 1, source_identical=False)
    cells = {(c["source"], c["target"]): c for c in TransferMatrix(cfg).cells()}
    pong = cells[("MinAtar/Breakout", "MinAtar/Asterix")]
    assert pong["score"] == pytest.approx((-16.5 + 20.7) / (-18.5 + 20.7)) and pong["note"] is None
    assert pong["ci_low"] < pong["score"] < pong["ci_high"]
    # forgetting: 1 point of the source's margin of 3 - 1 = 2 over random
    assert pong["forgetting_raw"] == pytest.approx(1.0) and pong["forgetting"] == pytest.approx(0.5)
    flat = cells[("MinAtar/Asterix", "MinAtar/Breakout")]
    assert flat["score"] is None and flat["ci_low"] is None and not flat["excludes_one"]
    assert "independent did not beat random play on MinAtar/Breakout" in flat["note"]


def test_pairs_restrict_the_plan_to_what_they_need():
    cfg = TransferConfig(games=("MinAtar/Breakout", "MinAtar/Asterix", "MinAtar/Freeway"), seeds=1,
                         pairs=(("MinAtar/Breakout", "MinAtar/Asterix"),), base=TINY)
    kinds = sorted(c.key for c in plan(cfg))
    assert kinds == sorted(["random__MinAtar-Breakout__0", "random__MinAtar-Asterix__0",
                            "fixed__MinAtar-Breakout__1", "fixed__MinAtar-Asterix__1",
                            "evolved__MinAtar-Breakout__1", "evolved__MinAtar-Asterix__1",
                            "finetune__MinAtar-Breakout-MinAtar-Asterix__1",
                            "ewc__MinAtar-Breakout-MinAtar-Asterix__1", "wpl__MinAtar-Breakout-MinAtar-Asterix__1",
                            "pathnet__MinAtar-Breakout-MinAtar-Asterix__1",
                            "gumbel__MinAtar-Breakout-MinAtar-Asterix__1"])
    with pytest.raises(UsageError, match="pair"):
        TransferConfig(games=("MinAtar/Breakout", "MinAtar/Asterix"), pairs=(("MinAtar/Breakout", "Pong"),), base=TINY)


def test_the_diagonal_is_in_the_plan_unless_turned_off():
    games = ("MinAtar/Breakout", "MinAtar/Asterix")
    with_diagonal = TransferConfig(games=games, base=TINY).ordered_pairs
    assert len(with_diagonal) == 4 and ("MinAtar/Breakout", "MinAtar/Breakout") in with_diagonal
    assert len(TransferConfig(games=games, base=TINY, diagonal=False).ordered_pairs) == 2
    assert TransferConfig(games=games[:1], base=TINY).ordered_pairs == [(games[0], games[0])]
    with pytest.raises(UsageError, match="no cell"):
        TransferConfig(games=games[:1], base=TINY, diagonal=False)


def test_transfer_command_rejects_bad_input_in_one_line(tmp_path):
    for args in (["--games", "MinAtar/Breakout", "--no-diagonal"], ["--games", "MinAtar/Breakout", "NoSuchGame"],
                 ["--games", "MinAtar/Breakout", "MinAtar/Asterix", "--methods", "magic"],
                 ["--games", "MinAtar/Breakout", "MinAtar/Asterix", "--seeds", "0"],
                 ["--games", "MinAtar/Breakout", "MinAtar/Asterix", "--frames", "0"]):
        result = pathzero("transfer", *args, "--logdir", tmp_path / "m")
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    # a folder holding a matrix trained with other settings is refused, and left as it was
    other = tmp_path / "other"
    other.mkdir()
    (other / "transfer.json").write_text('{"frames": 123}')
    result = pathzero("transfer", "--games", "MinAtar/Breakout", "--logdir", other)
    assert result.returncode == 2 and "other settings" in result.stderr and len(result.stderr.splitlines()) == 1
    assert (other / "transfer.json").read_text() == '{"frames": 123}' and list(other.iterdir()) == [other / "transfer.json"]


def test_learning_curve_bins_episodes_by_frames_and_carries_empty_bins(tmp_path):
    from pathzero.agents.transfer import area, learning_curve

    (tmp_path / "episodes.csv").write_text("frames,wall_seconds,return,length,worker\n"
                                           "10,0,1,5,0\n30,0,3,5,0\n55,0,5,5,0\n99,0,9,5,0\n")
    curve = learning_curve(tmp_path, frames=100, bins=4)  # bins [0,25) [25,50) [50,75) [75,100]
    assert curve.tolist() == [1.0, 3.0, 5.0, 9.0]
    (tmp_path / "episodes.csv").write_text("frames,wall_seconds,return,length,worker\n60,0,2,5,0\n61,0,4,5,0\n")
    curve = learning_curve(tmp_path, frames=100, bins=4)
    assert np.isnan(curve[:2]).all()  # no episode has ended yet: empty
    assert curve[2:].tolist() == [3.0, 3.0]  # the last bin carries the one before
    assert area(curve) == 3.0


def test_a_serial_run_evaluates_every_slot_of_the_population(tmp_path):
    run = train_pathnet(replace(TINY, logdir=str(tmp_path), population=4, workers=2, total_frames=4000))
    population = torch.load(run / "checkpoint.pt", weights_only=True)["population"]
    assert (population["evaluations"] >= 1).all()  # every slot was run (the old stride of --workers skipped odd ones)
    assert int(population["evaluations"].sum()) >= 4


def test_cells_say_whether_the_stem_was_copied_older_cells_by_their_shapes(tmp_path):
    """Runs made before `copy_stem` existed copied the stem whenever the shapes matched (a MinAtar diagonal
    cell), not across shapes (Breakout's 4 planes, SpaceInvaders' 6): matrix.json must say so."""
    games = ("MinAtar/Breakout", "MinAtar/SpaceInvaders")
    cfg = TransferConfig(games=games, frames=1500, seeds=2, logdir=str(tmp_path), base=TINY, methods=("independent", "pathnet"))

    def write(cell, data):
        cell.path(tmp_path).parent.mkdir(parents=True, exist_ok=True)
        cell.path(tmp_path).write_text(json.dumps({"run_dir": f"runs/{cell.key}/gone", **data}))

    for game in games:
        write(Cell("random", game, 0), {"mean": 0.0, "returns": [0.0], "episodes": 1})
        for seed in (1, 2):
            write(Cell("fixed", game, seed), {"auc": 5.0 + seed, "curve": [5.0]})
            for source in games:
                old = {"auc": 6.0 + seed, "curve": [6.0], "source_before": 3.0, "source_after": 3.0,
                       "source_identical": True}
                new = {**old, "copy_stem": False}
                write(Cell("pathnet", game, seed, source), old if source == "MinAtar/Breakout" else new)
    copied = {(c["source"], c["target"]): c["copy_stem"] for c in TransferMatrix(cfg).cells() if c["control"] == "independent"}
    assert copied == {("MinAtar/Breakout", "MinAtar/Breakout"): True, ("MinAtar/Breakout", "MinAtar/SpaceInvaders"): False,
                      ("MinAtar/SpaceInvaders", "MinAtar/Breakout"): False,
                      ("MinAtar/SpaceInvaders", "MinAtar/SpaceInvaders"): False}


def finished_stem_matrix(root) -> TransferConfig:
    """A finished matrix folder (cells written, no run folders) of finetune and finetune_stem on MinAtar's
    Breakout (4 planes) and SpaceInvaders (6), diagonal included."""
    games = ("MinAtar/Breakout", "MinAtar/SpaceInvaders")
    cfg = TransferConfig(games=games, frames=1500, seeds=2, logdir=str(root), base=TINY,
                         methods=("independent", "finetune", "finetune_stem"))
    TransferMatrix(cfg).check_settings()
    for cell in plan(cfg):
        data = ({"mean": 0.0, "returns": [0.0, 1.0], "episodes": 2} if cell.kind == "random" else
                {"auc": 5.0 + cell.seed, "curve": [5.0] * cfg.bins, "source_before": 3.0, "source_after": 2.0 + cell.seed,
                 "source_identical": False, "copy_stem": cell.kind == "finetune_stem",
                 "pathway": {"modules": 4, "flops": 10.0, "params": 5.0}, "wall_seconds": 1.0, "fps": 2.0})
        cell.path(root).parent.mkdir(parents=True, exist_ok=True)
        cell.path(root).write_text(json.dumps({"kind": cell.kind, "source": cell.source, "target": cell.target,
                                               "run_dir": f"runs/{cell.key}/gone", **data}))
    return cfg


def test_a_stem_method_has_cells_only_on_pairs_of_one_observation_shape(tmp_path):
    """finetune_stem copies a stem on the diagonal only; across Breakout's and SpaceInvaders' shapes there is
    nothing to copy, so it plans no run there (it would repeat finetune's), scores no cell, and matrix.json
    names the pairs it left out."""
    cfg = finished_stem_matrix(tmp_path)
    games = cfg.games
    assert {(c.source, c.target) for c in plan(cfg) if c.kind == "finetune_stem"} == {(g, g) for g in games}
    assert {(c.source, c.target) for c in plan(cfg) if c.kind == "finetune"} == {(a, b) for a in games for b in games}
    matrix = TransferMatrix(cfg)
    scored = {(c["source"], c["target"]) for c in matrix.cells() if c["method"] == "finetune_stem"}
    assert scored == {(g, g) for g in games}
    assert matrix.costs()["finetune_stem"]["runs"] == 4  # 2 pairs x 2 seeds
    written = matrix.write_outputs()
    assert written["no_stem_to_copy"] == {"finetune_stem": ["MinAtar/Breakout->MinAtar/SpaceInvaders",
                                                            "MinAtar/SpaceInvaders->MinAtar/Breakout"]}
    assert written["summary"]["finetune_stem vs independent"]["off_diagonal"] is None


def test_a_stem_method_with_no_pair_of_one_shape_is_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="no pair here has two games with one observation shape"):
        TransferConfig(games=("MinAtar/Breakout", "MinAtar/SpaceInvaders"), diagonal=False, logdir=str(tmp_path),
                       methods=("independent", "finetune_stem"))


def test_a_matrix_whose_runs_copied_the_stem_refuses_new_fresh_runs(tmp_path):
    cfg = TransferConfig(games=("MinAtar/Breakout",), frames=1500, seeds=1, logdir=str(tmp_path), base=TINY,
                         methods=("independent", "pathnet"))
    TransferMatrix(cfg).check_settings()  # a new folder: its transfer.json is written
    cell = Cell("pathnet", "MinAtar/Breakout", 1, "MinAtar/Breakout")
    cell.path(tmp_path).parent.mkdir(parents=True)
    cell.path(tmp_path).write_text(json.dumps({"kind": "pathnet", "source": "MinAtar/Breakout",
                                               "target": "MinAtar/Breakout", "auc": 1.0}))
    with pytest.raises(UsageError, match="copied its source's stem on pairs with one observation shape"):
        TransferMatrix(cfg).run(progress=False)
    cell.path(tmp_path).write_text(json.dumps({"kind": "pathnet", "source": "MinAtar/Breakout",
                                               "target": "MinAtar/Breakout", "auc": 1.0, "copy_stem": False}))
    TransferMatrix(cfg).check_settings()  # a cell of this version: accepted


def test_a_folder_started_before_hard_gumbel_sampling_compares_as_relaxed():
    from pathzero.agents.transfer import comparable_base

    assert comparable_base({})["hard"] is False  # its Gumbel runs played the relaxed network
    assert comparable_base({"hard": True})["hard"] is True


def test_a_regenerated_matrix_section_dates_itself_by_its_runs_not_by_today(tmp_path):
    from benchmarks.pathnet import run_dates

    assert run_dates(tmp_path) == dt.date.today().isoformat()  # no cells: nothing else to go by
    (tmp_path / "cells").mkdir()
    for i, stamp in enumerate(("20261207-101500", "20261205-235959", "20261206-000000")):
        (tmp_path / "cells" / f"c{i}.json").write_text(json.dumps({"run_dir": f"runs/x__{i}/G__pathnet__100{i}__{stamp}"}))
    assert run_dates(tmp_path) == "2026-12-05 to 2026-12-07"
    for path in list((tmp_path / "cells").glob("*.json"))[1:]:
        path.unlink()
    assert run_dates(tmp_path) in {"2026-12-07", "2026-12-05", "2026-12-06"} and " to " not in run_dates(tmp_path)
