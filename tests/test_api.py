"""The Python API (`import pathzero`), the installed package's layout, and evaluation during training."""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pathzero
from pathzero.agents.common.runlog import read_episodes
from pathzero.envs import UsageError

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(game="MinAtar/Breakout", serial=True, envs_per_worker=4, channels=8, blocks=0, hidden=32,
            replay_episodes=0, progress=False)


def test_import_pathzero_is_cheap_and_names_the_api():
    code = "import sys, pathzero; print('torch' in sys.modules, sorted(pathzero.__all__))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/").stdout
    imported_torch, names = out.split(" ", 1)
    assert imported_torch == "False"
    assert "train" in names and "load" in names and "transfer" in names


def test_a_non_editable_install_is_one_pathzero_package(tmp_path):
    """pip install . (not editable): pathzero and its subpackages import from site-packages, and no
    top-level agents, envs, nets or scripts module exists (they would clash with other projects); the
    benchmarks are not installed."""
    # Built from a copy of the sources (benchmarks/ included): setuptools builds in the source tree and
    # installs all of build/lib, so a build/ left by an older checkout would ship modules that are gone.
    source, target = tmp_path / "source", tmp_path / "site"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv*", "build", "docs", "runs", "*.egg-info",
                                                                "__pycache__", ".pytest_cache"))
    build = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                            "--quiet", "--target", str(target), str(source)],
                           capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert build.returncode == 0, build.stderr
    installed = {p.name for p in target.iterdir() if not p.name.endswith(".dist-info")}
    assert "pathzero" in installed and installed <= {"pathzero", "bin"}  # bin: the pathzero command
    # The benchmarks (and the digits experiment, scikit-learn's, SB3's) stay in the checkout's benchmarks/.
    sources = {p.relative_to(target).as_posix(): p.read_text() for p in (target / "pathzero").rglob("*.py")}
    assert "pathzero/scripts/cli.py" in sources and not [name for name in sources if "bench" in name]
    site = target / "pathzero" / "agents" / "report_site"  # the report's page, script and style are package data
    assert {p.name for p in site.iterdir()} >= {"index.html", "report.js", "report.css"}
    imports = re.compile(r"^\s*(from|import)\s+(sklearn|stable_baselines3|benchmarks)\b", re.M)
    assert not [name for name, text in sources.items() if imports.search(text)]
    assert not [name for name, text in sources.items() if "load_digits" in text or "SupervisedConfig" in text]
    code = ("import importlib.util, pathzero, pathzero.agents.a3c, pathzero.scripts.cli, pathzero.nets, pathzero.envs\n"
            "print(pathzero.__file__)\nprint(pathzero.agents.a3c.__file__)\n"
            "specs = {n: importlib.util.find_spec(n) for n in ('agents', 'envs', 'nets', 'scripts')}\n"
            "print([n for n, s in specs.items() if s and pathzero.__file__.rsplit('pathzero', 1)[0] in\n"
            "       str([s.origin, *(s.submodule_search_locations or [])])])")  # from pathzero's install (a foreign
    # `scripts` package elsewhere on the path is not pathzero's)
    others = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []  # where the dependencies may be
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), *others])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    init, a3c, top_level = out.stdout.splitlines()
    assert init.startswith(str(target)) and a3c == str(target / "pathzero" / "agents" / "a3c.py")
    assert top_level == "[]"
    cli = subprocess.run([sys.executable, "-m", "pathzero", "--help"], capture_output=True, text=True, cwd=tmp_path,
                         env=env, timeout=300)
    assert cli.returncode == 0 and "commands:" in cli.stdout
    # Run inside the source checkout, the checkout's pathzero/ comes first on sys.path and shadows the
    # install; its subpackages must then come from the checkout too. -S keeps site's .pth files (an
    # editable install's import hook) out; the packages pathzero needs come through PYTHONPATH.
    import torch

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), *others, str(Path(torch.__file__).parents[1])])}
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    init, a3c, _ = out.stdout.splitlines()
    assert init == str(ROOT / "pathzero" / "__init__.py") and a3c == str(ROOT / "agents" / "a3c.py")


@pytest.fixture(scope="module")
def api_run(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("api")
    run = pathzero.train(agent="a3c", total_frames=3000, logdir=str(logdir), eval_every=1000, evaluation_episodes=3,
                         eval_video_every=2, **{k: v for k, v in TINY.items() if k != "game"}, game=TINY["game"])
    return run


def test_train_returns_the_run_with_its_logs_and_evaluations(api_run):
    assert api_run.dir.is_dir() and os.fspath(api_run) == str(api_run.dir)
    assert api_run.config["game"] == "MinAtar/Breakout" and api_run.config["lr"] == 3e-3  # the MinAtar preset
    assert api_run.episodes()
    evals = api_run.evals()
    with (api_run.dir / "evals.csv").open() as f:
        assert next(csv.reader(f)) == ["frames", "episodes", "mean_return", "median_return", "ci_low", "ci_high",
                                       "wall_seconds"]
    frames = [int(e["frames"]) for e in evals]
    assert frames == sorted(frames) and frames[-1] >= 3000 and len(frames) >= 3  # every 1000 frames and the end
    assert all(e["episodes"] == 3 and e["ci_low"] <= e["mean_return"] <= e["ci_high"] for e in evals)


def test_evaluations_are_logged_to_tensorboard_with_a_video(api_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(api_run.dir), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    steps = [e.step for e in events.Scalars("eval/return")]
    assert steps == [int(e["frames"]) for e in api_run.evals()]
    videos = events.Images("eval/video")  # every 2nd evaluation, starting with the first
    assert [v.step for v in videos] == steps[::2]
    assert videos[0].encoded_image_string[:3] == b"GIF"


def test_load_gives_an_agent_that_acts_and_evaluates(api_run):
    agent = pathzero.load(api_run)
    assert agent.frames >= 3000 and agent.spec.env_id.startswith("MinAtar/Breakout")
    env = agent.make_env()
    obs, _ = env.reset(seed=0)
    action = agent.act(obs)
    assert isinstance(action, int) and env.action_space.contains(action)
    batch = agent.act(np.stack([obs, obs, obs]))
    assert batch.shape == (3,)
    scores = agent.evaluate(episodes=3, seed=5)
    assert len(scores) == 3 and all(isinstance(s, float) for s in scores)
    greedy = pathzero.load(api_run.dir / "checkpoint.pt", greedy=True)
    assert greedy.evaluate(episodes=2, seed=5) == greedy.evaluate(episodes=2, seed=5)  # greedy: deterministic
    with pytest.raises(UsageError, match="task"):
        pathzero.load(api_run, task="MinAtar-Breakout")


def test_batched_play_gives_the_episodes_of_one_by_one_play(api_run):
    from pathzero.agents.common.replay import play

    agent = pathzero.load(api_run)
    one_by_one = play(agent.model, agent.spec, episodes=5, seed=7, greedy=True, max_steps=400, batch=1)
    for batch in (2, 16):  # 2: environments take the next episode when theirs ends
        assert play(agent.model, agent.spec, episodes=5, seed=7, greedy=True, max_steps=400, batch=batch) == one_by_one
    sampled = play(agent.model, agent.spec, episodes=6, seed=3, batch=4)
    assert sampled == play(agent.model, agent.spec, episodes=6, seed=3, batch=4)  # reproducible from its seed
    assert len(sampled) == 6 and all(r.length > 0 and r.frames == 0 for r in sampled)


def test_api_and_command_make_the_same_run(tmp_path):
    """The CLI is built on the API: the same settings give the same config and, in the serial
    (reproducible) mode, the same training episodes."""
    settings = dict(TINY, total_frames=1500, eval_every=0, seed=3)
    run = pathzero.train(logdir=str(tmp_path / "api"), **settings)
    flags = ["--game", "MinAtar/Breakout", "--serial", "--envs-per-worker", "4", "--channels", "8", "--blocks", "0",
             "--hidden", "32", "--replay-episodes", "0", "--no-progress", "--total-frames", "1500",
             "--eval-every", "0", "--seed", "3", "--logdir", str(tmp_path / "cli")]
    result = subprocess.run([sys.executable, "-m", "pathzero", "train", *flags], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    (cli_dir,) = (tmp_path / "cli").iterdir()
    api_config, cli_config = json.loads((run.dir / "config.json").read_text()), json.loads((cli_dir / "config.json").read_text())
    assert {k: v for k, v in api_config.items() if k != "logdir"} == {k: v for k, v in cli_config.items() if k != "logdir"}
    assert [e["return"] for e in read_episodes(run.dir)] == [e["return"] for e in read_episodes(cli_dir)]


def test_unknown_or_bad_options_are_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="unknown setting 'entropy'.*entropy_coef"):
        pathzero.train(game="MinAtar/Breakout", entropy=0.1, logdir=str(tmp_path))
    with pytest.raises(UsageError, match="unknown agent"):
        pathzero.train(game="MinAtar/Breakout", agent="dqn")
    with pytest.raises(UsageError, match="eval-every must be >= 0"):
        pathzero.train(game="MinAtar/Breakout", eval_every=-5, logdir=str(tmp_path))
    with pytest.raises(UsageError, match="nowhere does not exist; give a run folder"):
        pathzero.load(tmp_path / "nowhere")


def test_a_toml_file_sits_between_the_preset_and_the_flags(tmp_path):
    from pathzero.agents.api import configure

    settings = tmp_path / "mine.toml"
    settings.write_text('game = "MinAtar/Asterix"\nentropy-coef = 0.02\nlr = 0.001\n')
    _, cfg = configure("a3c", {"lr": 5e-4}, config=settings, verbose=False)
    assert cfg.game == "MinAtar/Asterix" and cfg.entropy_coef == 0.02  # from the file
    assert cfg.lr == 5e-4 and cfg.hidden == 128  # the flag wins over the file; the MinAtar preset under both
    settings.write_text("lr = [oops\n")
    with pytest.raises(UsageError, match="not valid TOML"):
        configure("a3c", {}, config=settings, verbose=False)
    settings.write_text("learning_rate = 0.1\n")
    with pytest.raises(UsageError, match="unknown setting 'learning_rate'"):
        configure("a3c", {}, config=settings, verbose=False)
    result = subprocess.run([sys.executable, "-m", "pathzero", "train", "--config", str(tmp_path / "none.toml")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "none.toml: cannot read it" in result.stderr and "Traceback" not in result.stderr


def test_the_settings_are_printed_in_one_line_and_saved(tmp_path, capsys):
    run = pathzero.train(logdir=str(tmp_path), **dict(TINY, total_frames=400, eval_every=0))
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("preset minatar: ") and out[1].startswith("settings: ")
    assert "lr=0.003" in out[1] and "game=MinAtar/Breakout" in out[1]
    assert json.loads((run.dir / "config.json").read_text())["lr"] == 0.003


def test_evals_csv_is_trimmed_to_the_checkpoint_on_resume(tmp_path):
    run = pathzero.train(logdir=str(tmp_path), **dict(TINY, total_frames=1000, eval_every=500, evaluation_episodes=2))
    from pathzero.agents.common.evaluation import read_eval_returns

    with (run.dir / "evals.csv").open("a") as f:  # as if evaluated after the checkpoint, then killed
        f.write("999999,2,5,5,5,5,1.0\n")
    with (run.dir / "eval_returns.csv").open("a") as f:
        f.write("999999,0,5\n999999,1,5\n")
    resumed = pathzero.train(resume=run.dir, total_frames=2000)
    frames = [int(e["frames"]) for e in resumed.evals()]
    assert 999999 not in frames and frames == sorted(frames) and frames[-1] == 2000
    # Every evaluation's episodes are kept, trimmed alike, and are what its row summarises.
    returns = read_eval_returns(resumed.dir)
    assert sorted(returns) == frames
    for row in resumed.evals():
        episodes = returns[int(row["frames"])]
        assert len(episodes) == 2 and np.mean(episodes) == pytest.approx(row["mean_return"], rel=1e-5)


@pytest.mark.parametrize("lr_decay", [True, False])
def test_the_end_of_run_evaluation_is_skipped_only_when_the_last_one_played_the_final_policy(tmp_path, lr_decay):
    """A scheduled evaluation at the budget, then the last batch's overshoot: with the learning rate
    decayed to zero the policy has not changed, so evaluating it again would only repeat the row."""
    from types import SimpleNamespace

    from pathzero.agents.common.evaluation import Evaluator
    from pathzero.envs import resolve_game

    cfg = SimpleNamespace(eval_every=500, evaluation_episodes=2, seed=1, eval_greedy=False, eval_video_every=0,
                          total_frames=1000, lr_decay=lr_decay)
    (tmp_path / "evals.csv").write_text("frames,episodes,mean_return,median_return,ci_low,ci_high,wall_seconds\n"
                                        "500,2,1,1,1,1,1.0\n1000,2,2,2,2,2,2.0\n")
    asked = []

    def policy():
        asked.append(True)
        raise RuntimeError("the final policy was asked for")

    evaluator = Evaluator(cfg, resolve_game("MinAtar/Breakout"), tmp_path, writer=None, purge_frames=None)
    if lr_decay:
        evaluator.finish(1032, policy, 3.0, final=True)
        assert not asked and len((tmp_path / "evals.csv").read_text().splitlines()) == 3
    else:  # the overshoot's updates changed the weights: the end is evaluated
        with pytest.raises(RuntimeError, match="final policy"):
            evaluator.finish(1032, policy, 3.0, final=True)
        assert asked


def test_a_failed_run_says_whether_it_resumes(tmp_path):
    from pathzero.agents.common.runner import resume_hint

    assert "stopped before its first checkpoint; start it again" in resume_hint(tmp_path)
    (tmp_path / "checkpoint.pt").write_bytes(b"")
    assert resume_hint(tmp_path) == f" — checkpoint saved; resume with `pathzero train --resume {tmp_path}`"


def test_pathnet_runs_load_per_task(tmp_path):
    from pathzero.agents.pathnet import PathNetConfig

    tiny = dict(TINY, total_frames=1200, eval_every=600, evaluation_episodes=2, population=2, eval_episodes=2,
                layers=2, modules=3, active=2, channels=4, width=8, hidden=16)
    tiny.pop("blocks")
    assert set(tiny) <= {f.name for f in __import__("dataclasses").fields(PathNetConfig)}
    source = pathzero.train(agent="pathnet", logdir=str(tmp_path), **tiny)
    assert source.evals()  # evaluation plays the best pathway so far
    target = pathzero.train(agent="pathnet", logdir=str(tmp_path), transfer_from=str(source.dir),
                            **dict(tiny, game="MinAtar/Asterix"))
    own = pathzero.load(target)
    earlier = pathzero.load(target, task="MinAtar-Breakout")
    assert own.spec.env_id.startswith("MinAtar/Asterix") and earlier.spec.env_id.startswith("MinAtar/Breakout")
    assert len(earlier.evaluate(episodes=2)) == 2
    with pytest.raises(UsageError, match="no task"):
        pathzero.load(target, task="Pong")


def test_a_run_stopped_during_its_end_finishes_it_on_resume(tmp_path):
    """The checkpoint after the budget says the run is not yet complete until the final evaluation and the
    replay are done; a resume then only does those, and a complete run refuses to train further."""
    import torch

    from pathzero.agents.common.checkpoint import save_checkpoint

    run = pathzero.train(logdir=str(tmp_path), **dict(TINY, total_frames=800, eval_every=400, evaluation_episodes=2,
                                                        replay_episodes=1, replay_max_steps=20))
    ckpt = torch.load(run.dir / "checkpoint.pt", weights_only=True)
    assert ckpt["state"]["complete"] is True
    ckpt["state"]["complete"] = False  # as if killed after the last checkpoint of training
    save_checkpoint(run.dir / "checkpoint.pt", ckpt)
    (run.dir / "replay.mp4").unlink()
    rows = (run.dir / "evals.csv").read_text().splitlines()
    (run.dir / "evals.csv").write_text("\n".join(rows[:-1]) + "\n")  # the final evaluation was lost
    pathzero.train(resume=run.dir)
    after = torch.load(run.dir / "checkpoint.pt", weights_only=True)
    assert after["state"]["complete"] is True and after["state"]["frames"] == ckpt["state"]["frames"]
    assert (run.dir / "replay.mp4").exists() and run.evals()[-1]["frames"] == ckpt["state"]["frames"]
    with pytest.raises(UsageError, match="already trained"):
        pathzero.train(resume=run.dir)


def test_older_run_folders_are_still_told_apart(tmp_path):
    from pathzero.agents.api import agent_of_run

    for agent, keys in (("pathnet", {"layers": 4, "modules": 10, "active": 4, "population": 16}),
                        ("gumbel", {"layers": 4, "modules": 10, "active": 4, "population": 16, "tau_start": 1.0,
                                    "tau_end": 0.03, "flops_penalty": 0.01}),
                        ("a3c", {"lr": 7e-4}), ("alphazero", {"iterations": 20, "simulations": 32})):
        folder = tmp_path / agent
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"game": "Pong", **keys}))  # no setting added since
        assert agent_of_run(folder) == agent


def test_a_variant_trains_names_its_folder_and_resumes_as_itself(tmp_path):
    run = pathzero.train(logdir=str(tmp_path), **dict(TINY, game="MinAtar/Breakout+vflip+sticky=0", total_frames=400,
                                                      eval_every=0))
    assert run.dir.name.startswith("MinAtar-Breakout+sticky=0+vflip__a3c__")
    assert json.loads((run.dir / "config.json").read_text())["game"] == "MinAtar/Breakout+vflip+sticky=0"
    resumed = pathzero.train(resume=run.dir, total_frames=800)
    agent = resumed.load()
    assert resumed.dir == run.dir and agent.frames >= 800 and resumed.episodes()[-1]["frames"] > 400
    assert agent.spec.env_id == "MinAtar/Breakout-v1+sticky=0+vflip"
    result = subprocess.run([sys.executable, "-m", "pathzero", "train", "--game", "MinAtar/Breakout+zoom"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "unknown variant 'zoom'" in result.stderr and "hflip" in result.stderr


def test_a_run_draws_its_learning_curve_without_tensorboard(tmp_path):
    from PIL import Image

    run = pathzero.train(logdir=str(tmp_path), **dict(TINY, total_frames=1500, eval_every=500, evaluation_episodes=2))
    pathzero.train(resume=run.dir, total_frames=2500)
    png = run.plot()
    assert png == run.dir / "learning_curve.png" and Image.open(png).size[0] >= 1000
    result = subprocess.run([sys.executable, "-m", "pathzero", "plot", str(run.dir), "--out", str(tmp_path / "c.png")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == str(tmp_path / "c.png"), result.stderr
    from pathzero.agents.pictures import run_curve

    fig, summary = run_curve(run.dir, "a3c")
    assert summary["sessions"] == 2 and summary["evaluations"] >= 4 and summary["frames"] >= 2000
    assert "serial (one process)" in fig._suptitle.get_text() and "1 resume(s)" in fig._suptitle.get_text()
    bad = subprocess.run([sys.executable, "-m", "pathzero", "plot", str(tmp_path / "nowhere")], capture_output=True,
                         text=True, timeout=300)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
