"""The benchmarks (`python -m benchmarks`, run from the checkout) on a tiny budget: they measure, plot and
write their sections into the doc."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def bench(*args):
    """`python -m benchmarks ARGS` in the checkout's root, as a user runs it -> the finished process."""
    return subprocess.run([sys.executable, "-m", "benchmarks", *map(str, args)], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)


def test_bench_throughput_and_curve_write_the_doc(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    result = bench("throughput", "--game", "CartPole-v1", "--workers", 1, "--envs-per-worker", 2,
                      "--frames", 4000, "--sweep", "1,2", "--skip-sb3", "--pathnet", "--logdir", tmp_path / "runs",
                      "--doc", doc)
    assert result.returncode == 0, result.stderr
    text = doc.read_text()
    assert "## Throughput: CartPole-v1" in text and "b/a = **" in text and "cores" in text
    assert "| (p) pathzero PathNet training" in text and "PathNet over A3C p/b = **" in text and "(goal >= 0.7" in text
    assert "| 1 |" in text and "| 2 (default) |" in text  # the envs-per-worker sweep
    run_dir = sorted((tmp_path / "runs").iterdir())[0]
    png = tmp_path / "curve.png"
    result = bench("curve", run_dir, "--out", png, "--doc", doc, "--note", "a remark")
    assert result.returncode == 0, result.stderr
    text = doc.read_text()
    assert "## Throughput: CartPole-v1" in text  # the other section is kept
    assert "## Learning: CartPole-v1" in text and "a remark" in text
    assert Image.open(png).size[0] >= 600
    # rerunning replaces the section instead of appending a second copy
    bench("curve", run_dir, "--out", png, "--doc", doc)
    assert doc.read_text().count("## Learning: CartPole-v1") == 1


def test_bench_throughput_on_the_vector_env_writes_a_section_of_its_own(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    result = bench("throughput", "--game", "Pong", "--workers", 1, "--envs-per-worker", 2, "--frames", 2000,
                      "--skip-sb3", "--vector-env", "--precision", "bf16", "--speed-options", "--logdir",
                      tmp_path / "runs", "--doc", doc)
    assert result.returncode == 0, result.stderr
    text = doc.read_text()
    assert "## Throughput: ALE/Pong-v5 (ale-py's C++ vector environment), learning in bfloat16" in text
    assert "--speed-options --vector-env --precision bf16`" in text  # the command reruns the same
    # --speed-options: the three other variants, each a run of its own, against (b)
    assert "| --vector-env --precision bf16 (b) |" in text and text.split("(b) |")[-1].split("\n")[0].strip().endswith("| 1.00 |")
    for row in ("| defaults |", "| --vector-env |", "| --precision bf16 |"):
        assert row in text
    configs = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/config.json")]
    assert sorted((c["vector_env"], c["precision"]) for c in configs) == [
        (False, "bf16"), (False, "fp32"), (True, "bf16"), (True, "fp32")]
    assert "<!-- bench:throughput-Pong-vector-bf16 -->" in text  # a section of its own
    bad = bench("throughput", "--game", "CartPole-v1", "--vector-env", "--doc", doc)
    assert bad.returncode == 2 and "ALE games only" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    named = bench("throughput", "--game", "CartPole-v1", "--workers", 1, "--envs-per-worker", 2,
                     "--frames", 1000, "--skip-sb3", "--name", "other-machine", "--logdir", tmp_path / "runs", "--doc", doc)
    assert named.returncode == 0, named.stderr
    text = doc.read_text()  # --name: a section of its own; the vector env's section is kept
    assert "<!-- bench:throughput-CartPole-v1-other-machine -->" in text and "## Throughput: CartPole-v1 (other-machine)" in text
    assert "--name other-machine`" in text and "<!-- bench:throughput-Pong-vector-bf16 -->" in text


def test_bench_digits_runs_every_method_and_writes_its_section_and_picture(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    result = bench("digits", "--seeds", 2, "--generations", 3, "--source-generations", 2, "--doc", doc)
    assert result.returncode == 0, result.stderr
    text = doc.read_text()
    assert "<!-- bench:pathnet-digits -->" in text and "`python -m benchmarks digits --seeds 2 " in text
    rows = [line.split(" | ")[0] for line in text.splitlines() if line.startswith("| ") and "/2 |" in line]
    assert rows == ["| independent", "| finetune", "| pathnet", "| pathnet_transfer", "| gumbel", "| gumbel_transfer"]
    assert Image.open(tmp_path / "pathnet_digits.png").size[0] >= 600


def test_speed_variants_are_the_other_combinations_and_the_vector_env_is_for_ale_only():
    from benchmarks.bench import speed_flags, speed_variants

    assert speed_variants("ale", False, "fp32") == [(False, "bf16"), (True, "fp32"), (True, "bf16")]
    assert speed_variants("minatar", False, "bf16") == [(False, "fp32")]
    assert speed_flags(False, "fp32") == "defaults" and speed_flags(True, "bf16") == "--vector-env --precision bf16"


def test_bench_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = bench("curve", tmp_path)
    assert result.returncode == 2 and "is not a run folder" in result.stderr


def test_bench_api_times_both_ways_and_finds_the_same_run(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    result = bench("api", "--frames", 1000, "--repeats", 1, "--doc", doc)
    assert result.returncode == 0, result.stderr
    text = doc.read_text()
    assert "## The Python API against the command" in text and "API / command wall time: **" in text
    assert "same training episodes (serial mode is reproducible): True" in text
    assert "Same config.json (but the folder): True" in text


def test_bench_suite_clones_runs_make_test_and_reads_the_count(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Makefile").write_text("test:\n\t@echo '7 passed, 1 skipped in 0.10s'\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "Makefile"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "a suite"], check=True)
    doc = tmp_path / "BENCHMARKS.md"
    result = bench("suite", "--repo", repo, "--doc", doc)
    assert result.returncode == 0, result.stderr
    assert "| 0 | 7 | 0 | 1 |" in doc.read_text()


def test_bench_network_compares_candidates_and_skips_finished_runs(tmp_path):
    from benchmarks.network import parse_candidate

    assert parse_candidate("small:channels=16,envs-per-worker=32,lr=3e-3") == (
        "small", {"channels": 16, "envs_per_worker": 32, "lr": 0.003})
    assert parse_candidate("preset:") == ("preset", {})
    doc = tmp_path / "BENCHMARKS.md"
    args = ["network", "--game", "CartPole-v1", "--frames", 2000, "--speed-frames", 2000, "--eval-every",
            1000, "--seeds", 2, "--workers", 1, "--evaluation-episodes", 2, "--candidate", "base:hidden=16",
            "--candidate", "wide:hidden=32", "--logdir", tmp_path / "runs", "--doc", doc]
    result = bench(*args)
    assert result.returncode == 0, result.stderr
    text = doc.read_text()
    assert "## Network candidates: CartPole-v1" in text and "| wide | hidden=32 |" in text and "/ env alone" in text
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").glob("*/*/results.json")}
    assert len(stamps) == 2 * (1 + 2)  # a speed run and 2 learning runs per candidate
    assert bench(*args, "--name", "widths").returncode == 0  # a rerun trains nothing again
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    text = doc.read_text()  # --name: a section of its own beside the first
    assert "## Network candidates: CartPole-v1 (widths)" in text and "<!-- bench:network-CartPole-v1 -->" in text
    bad = bench("network", "--candidate", "nocolon", "--doc", doc)
    assert bad.returncode == 2 and "NAME:key=value" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.xdist_group("ray")
def test_bench_ray_compares_the_backends_and_writes_the_doc(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    args = ["ray", "--games", "CartPole-v1", "--matrix-frames", 600, "--a3c-game", "CartPole-v1",
            "--a3c-frames", 2000, "--eval-every", 1000, "--seeds", 1, "--logdir", tmp_path / "runs", "--doc", doc]
    result = bench(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    text = doc.read_text()
    assert "## Ray against the local backend" in text and "Ray's overhead on one CPU" in text
    for name in ("local", "ray-1cpu", "ray"):  # serial runs: the same cells whichever backend ran them
        assert f"| {name} | 9 |" in text and text.split(f"| {name} | 9 |")[1].split("\n")[0].endswith("| yes |")
    assert "| Ray actors |" in text and "parameter server applied" in text
    assert (tmp_path / "runs" / "a3c" / "ray-1" / "results.json").exists()


def test_bench_learning_resumes_an_interrupted_run_skips_finished_ones_and_reports(tmp_path):
    import json

    import pathzero

    root, doc = tmp_path / "runs", tmp_path / "BENCHMARKS.md"
    common = ["--suite", "minatar", "--games", "CartPole-v1", "--seeds", 2, "--eval-every", 2000,
              "--evaluation-episodes", 2, "--workers", 1, "--logdir", root, "--doc", doc]
    # Seed 1 as a session that stopped halfway leaves it: a run folder with a checkpoint at 2,000 frames.
    folder = root / "minatar" / "CartPole-v1__seed-1"
    cut = pathzero.train(game="CartPole-v1", seed=1, total_frames=2000, logdir=str(folder), workers=1, eval_every=2000,
                         evaluation_episodes=2, replay_episodes=0, verbose=False)
    first_eval = cut.evals()[0]
    result = bench("learning", *common, "--frames", 4000)
    assert result.returncode == 0, result.stderr
    seed1 = json.loads((folder / "results.json").read_text())
    seed2 = json.loads((root / "minatar" / "CartPole-v1__seed-2" / "results.json").read_text())
    assert seed1["resumes"] == 1 and seed2["resumes"] == 0  # seed 1 went on from its checkpoint
    # Each slice of a run keeps the machine it ran on: seed 1's bench slice began at its checkpoint (what ran
    # before, outside the bench, is not recorded), seed 2 ran in one slice from frame 0.
    from benchmarks.bench import machine
    from benchmarks.learning import where_run

    assert [(x["machine"], x["from_frames"]) for x in seed1["slices"]] == [(machine(), 2000)]
    assert [(x["machine"], x["from_frames"]) for x in seed2["slices"]] == [(machine(), 0)]
    cpu = machine().split(",")[0]
    assert f"not recorded: CartPole-v1 s1 to 0.002M frames; {cpu}: CartPole-v1 s1 from 0.002M frames, CartPole-v1 s2." in doc.read_text()
    two = {"A s1": {"slices": [{"machine": "Y, 2 cores", "from_frames": 5_840_000}, {"machine": "X, 2 cores", "from_frames": 0}]},
           "B s1": {}}
    assert where_run(two) == "X: A s1 to 5.84M frames; Y: A s1 from 5.84M frames; not recorded: B s1"
    assert seed1["frames"] >= 4000 and [round(e[0], -3) for e in seed1["evals"]] == [2000, 4000]
    assert seed1["evals"][0][1] == first_eval["mean_return"]  # the evaluation before the cut is kept
    # The final evaluation's episodes are kept with it (what an interval across games is computed from).
    assert len(seed2["final_returns"]) == 2 and sum(seed2["final_returns"]) / 2 == pytest.approx(seed2["evals"][-1][1])
    text = doc.read_text()
    assert "## Learning: A3C on the minatar suite" in text and "all runs finished" in text
    assert "| CartPole-v1 | 2 | 0.004M |" in text and (root / "minatar.png").is_file()
    # Run again: nothing trains (the results stay as they were).
    stamps = [p.stat().st_mtime_ns for p in sorted(root.glob("minatar/*/results.json"))]
    assert bench("learning", *common, "--frames", 4000).returncode == 0
    assert stamps == [p.stat().st_mtime_ns for p in sorted(root.glob("minatar/*/results.json"))]
    # Another budget in the same folder is refused in one line.
    refused = bench("learning", *common, "--frames", 8000)
    assert refused.returncode == 2 and "another --logdir" in refused.stderr and "Traceback" not in refused.stderr


def test_atari5_estimate_of_the_median_human_normalised_score():
    import math

    import pytest

    from benchmarks.learning import ATARI5_RANDOM_HUMAN, ATARI5_WEIGHTS, atari5_median_estimate

    random = {g: r for g, (r, _) in ATARI5_RANDOM_HUMAN.items()}
    human = {g: h for g, (_, h) in ATARI5_RANDOM_HUMAN.items()}
    assert atari5_median_estimate(random) == pytest.approx(0.0, abs=1e-9)
    # Scores below random count as random (the log needs 1 + HNS >= 1).
    assert atari5_median_estimate({g: r - 1000 for g, r in random.items()}) == pytest.approx(0.0, abs=1e-9)
    # Human level on all five: the regression gives 10 ** (sum of weights * log10(101)) - 1, a bit under 100%.
    expected = 10 ** (sum(ATARI5_WEIGHTS.values()) * math.log10(101)) - 1
    assert atari5_median_estimate(human) == pytest.approx(expected) and 80 < expected < 100
    # Better at one game, better estimate.
    better = dict(human, BattleZone=2 * human["BattleZone"])
    assert atari5_median_estimate(better) > atari5_median_estimate(human)
    with pytest.raises(ValueError, match="Qbert"):
        atari5_median_estimate({g: s for g, s in human.items() if g != "Qbert"})


def test_the_atari5_estimate_has_an_interval_over_each_games_evaluation_episodes():
    from benchmarks.learning import ATARI5_RANDOM_HUMAN, atari5_median_estimate, atari5_median_interval

    human = {g: h for g, (_, h) in ATARI5_RANDOM_HUMAN.items()}
    spread = {g: [0.5 * h, h, 1.5 * h] for g, h in human.items()}  # episodes around human level
    est = atari5_median_interval(spread)
    assert est.value == pytest.approx(atari5_median_estimate(human))  # from each game's mean return
    assert est.low < est.value < est.high
    # Episodes that agree leave no spread; a wider spread on the heaviest game widens the interval.
    assert atari5_median_interval({g: [h, h, h] for g, h in human.items()})[1:] == pytest.approx((est.value, est.value))
    wider = atari5_median_interval(dict(spread, BattleZone=[0.0, human["BattleZone"], 2 * human["BattleZone"]]))
    assert wider.high - wider.low > est.high - est.low
    assert atari5_median_interval({g: [h] for g, h in human.items()}).low is None  # one episode: no interval


def test_the_atari5_report_gives_the_estimate_with_its_interval_only_when_every_game_kept_its_episodes(tmp_path):
    from benchmarks.bench import save_results
    from benchmarks.learning import ATARI5_RANDOM_HUMAN, plan, report

    runs = plan("atari5")
    for run in runs:
        random, human = ATARI5_RANDOM_HUMAN[run.game]
        episodes = [random, human, 2 * human - random]
        run.folder(tmp_path).mkdir(parents=True)
        save_results(run.folder(tmp_path), {
            "planned_frames": run.frames, "wall_seconds": 3600.0, "fps": 2800.0,
            "config": {"evaluation_episodes": 3, "eval_every": run.frames},
            "evals": [[run.frames, human, random, 2 * human - random, 3600.0]], "final_returns": episodes})
    text = report("atari5", runs, tmp_path, tmp_path / "B.md", "python -m benchmarks learning --suite atari5", note="")
    estimate = next(line for line in text.splitlines() if line.startswith("Atari-5 estimate"))
    value, low, high = (float(x) for x in re.match(r".*\*\*([\d.]+)% \[([\d.]+), ([\d.]+)\]\*\* \(95% bootstrap "
                                                  r"interval over each game's final evaluation episodes", estimate).groups())
    assert low < value < high
    # One game's episodes missing (a run from before eval_returns.csv): the point estimate, said plainly.
    qbert = runs[-1].folder(tmp_path) / "results.json"
    qbert.write_text(qbert.read_text().replace('"final_returns"', '"unused"'))
    text = report("atari5", runs, tmp_path, tmp_path / "B.md", "python -m benchmarks learning --suite atari5", note="")
    assert "(no interval: a run without its final evaluation's episode returns" in text


def test_a_lone_seeds_curve_has_its_evaluations_band_and_several_seeds_one_over_seeds():
    from benchmarks.learning import curve_band

    lone = {"evals": [[500, 1.0, 0.0, 2.0, 1.0], [1000, 3.0, None, None, 2.0], [1500, 5.0, 4.0, 7.0, 3.0]]}
    frames, low, high = curve_band([lone], 500)
    assert frames.tolist() == [500, 1500] and low.tolist() == [0.0, 4.0] and high.tolist() == [2.0, 7.0]
    other = {"evals": [[500, 3.0, 2.0, 4.0, 1.0], [1000, 5.0, 4.0, 6.0, 2.0], [1500, 7.0, 6.0, 8.0, 3.0]]}
    frames, low, high = curve_band([lone, other], 500)  # over the two seeds' means, not their episodes
    assert frames.tolist() == [500, 1000, 1500] and low.tolist() == [1.0, 3.0, 5.0] and high.tolist() == [3.0, 5.0, 7.0]


def test_a_lone_seed_shows_its_final_evaluations_interval_over_episodes():
    from benchmarks.learning import final_cell

    def run(*finals):  # evals rows: frames, mean, ci_low, ci_high, wall seconds; the last is the final
        return {"evals": [[1000, -5.0, -6.0, -4.0, 1.0], *[[2000, m, lo, hi, 2.0] for m, lo, hi in finals]]}

    assert final_cell([run((17.5, 15.9975, 18.9))]) == "17.5 [16.0, 18.9] (episodes)"
    three = final_cell([run((1.0, 0.0, 2.0)), run((2.0, 1.0, 3.0)), run((3.0, 2.0, 4.0))])
    assert three.startswith("2.0 [") and "episodes" not in three  # over seeds: the episodes' intervals unused
    assert final_cell([run((4.0, None, None))]) == "4.0"  # one episode per evaluation: no interval to show
    assert final_cell([{"evals": []}]) == "-"


def test_bench_evaluation_times_the_same_episodes_one_by_one_and_batched(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    result = bench("evaluation", "--game", "MinAtar/Breakout", "--episodes", 3, "--batch", 2, "--doc", doc)
    assert result.returncode == 0, result.stderr
    text = doc.read_text()
    assert "## Evaluation speed: MinAtar/Breakout-v1" in text and "--episodes 3 --batch 2" in text
    one, batched = (line.split("|") for line in text.splitlines() if line.startswith(("| one by one", "| 2 at once")))
    assert one[2] == batched[2] and int(one[2].replace(",", "")) > 0  # greedy: the very same episodes, step for step
    bad = bench("evaluation", "--episodes", 1, "--doc", doc)
    assert bad.returncode == 2 and "--episodes and --batch must be >= 2" in bad.stderr


def test_minatar_aggregate_is_the_iqm_of_scores_over_the_baseline_with_a_stratified_interval():
    import pytest

    from benchmarks.learning import MINATAR_AC_LAMBDA, minatar_aggregate

    baseline = {g: [v] * 3 for g, v in MINATAR_AC_LAMBDA.items()}
    runs, iqm, mean = minatar_aggregate(baseline)
    assert runs == 3 and iqm.value == mean.value == pytest.approx(1.0) and iqm.low == pytest.approx(1.0)
    assert minatar_aggregate({g: v for g, v in baseline.items() if g != "Freeway"}) is None  # a game missing
    # Twice the baseline on Breakout only: the mean moves by 1/5, the IQM (a quarter cut at each end of 15) less
    doubled = dict(baseline, Breakout=[2 * MINATAR_AC_LAMBDA["Breakout"]] * 3)
    _, iqm, mean = minatar_aggregate(doubled)
    assert mean.value == pytest.approx(1.2) and 1.0 <= iqm.value < mean.value
    # Unequal seed counts: the first seeds every game has; seeds that differ give an interval around the value
    spread = {g: [v * 0.5, v * 1.5, v] for g, v in MINATAR_AC_LAMBDA.items()}
    spread["Asterix"] = spread["Asterix"][:2]
    runs, iqm, _ = minatar_aggregate(spread)
    assert runs == 2 and iqm.low < iqm.value < iqm.high


def test_a_rerun_without_a_note_keeps_the_sections_note(tmp_path):
    from benchmarks.bench import write_section

    doc = tmp_path / "B.md"
    write_section(doc, "x", "## X\n\nnumbers 1", note="what 1 means")
    write_section(doc, "other", "## Other\n\n2")
    write_section(doc, "x", "## X\n\nnumbers 3")  # a rerun: new numbers, no --note
    text = doc.read_text()
    assert "numbers 3" in text and "numbers 1" not in text and text.count("what 1 means") == 1
    assert text.index("what 1 means") < text.index("<!-- /bench:x -->") < text.index("## Other")
    write_section(doc, "x", "## X\n\nnumbers 4", note="a new reading")  # a new --note replaces it
    text = doc.read_text()
    assert "a new reading" in text and "what 1 means" not in text and "## Other\n\n2" in text


def test_transfer_goals_need_the_score_and_an_interval_above_one():
    from benchmarks.pathnet import goal_lines

    summary = {"finetune vs independent": {"off_diagonal": {"mean": {"value": 1.25, "ci_low": 1.05, "ci_high": 1.4}}},
               "pathnet vs independent": {"off_diagonal": {"mean": {"value": 1.35, "ci_low": 0.98, "ci_high": 1.6}}}}
    pathnet, finetune = goal_lines(summary, {"pathnet": 1.3, "finetune": 1.2})
    assert "pathnet" in pathnet and "(goal >= 1.3 with the interval above 1): **not met**" in pathnet
    assert "finetune" in finetune and "(goal >= 1.2 with the interval above 1): **met**" in finetune
    assert "goal >= 1.16" in goal_lines(summary)[0]  # the cross-game matrix's goal by default
