"""The commands end to end: what they write, and one-line errors with exit code 2 on bad input."""
import hashlib
import json
import os
import subprocess
import sys

import imageio.v2 as imageio
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from pathzero.agents.common.runlog import read_episodes

TINY = ["--game", "CartPole-v1", "--hidden", "16", "--envs-per-worker", "2", "--no-progress"]


def pathzero(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "pathzero.scripts.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("runs")
    result = pathzero("train", *TINY, "--total-frames", 3000, "--workers", 2, "--logdir", logdir,
                      "--replay-episodes", 2, "--replay-max-steps", 40)
    assert result.returncode == 0, result.stderr
    (run_dir,) = logdir.iterdir()
    return run_dir


def test_train_writes_the_whole_run_folder(trained_run):
    assert trained_run.name.startswith("CartPole-v1__a3c__1__")
    config = json.loads((trained_run / "config.json").read_text())
    assert config["game"] == "CartPole-v1" and config["total_frames"] == 3000 and config["workers"] == 2
    episodes = read_episodes(trained_run)
    # which workers finish episodes within 3000 frames depends on how the OS schedules their start-up
    assert episodes and {e["worker"] for e in episodes} <= {0.0, 1.0}
    assert all(e["return"] == e["length"] for e in episodes)  # CartPole: +1 per step
    ckpt = torch.load(trained_run / "checkpoint.pt", weights_only=True)
    assert ckpt["format"] == "pathzero-a3c" and ckpt["state"]["frames"] >= 3000
    events = EventAccumulator(str(trained_run))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"charts/episodic_return", "charts/episodic_length", "charts/fps", "charts/learning_rate",
            "losses/policy", "losses/value", "losses/entropy"} <= tags
    reader = imageio.get_reader(trained_run / "replay.mp4")
    n = reader.count_frames()
    assert 2 * 2 <= n <= 2 * 41  # two episodes of at most 40 steps, plus their first frames


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_watch_prints_scores_and_writes_every_frame(trained_run, tmp_path, suffix):
    video = tmp_path / f"replay{suffix}"
    result = pathzero("watch", trained_run, "--episodes", 2, "--video", video, "--max-steps", 30)
    assert result.returncode == 0, result.stderr
    lengths = [int(line.split(" in ")[1].split()[0]) for line in result.stdout.splitlines()
               if line.startswith("episode")]
    assert len(lengths) == 2
    expected = sum(n + 1 for n in lengths)  # the first frame of each episode, then one per step
    if suffix == ".gif":  # Pillow merges identical consecutive frames into a longer one: count time
        from PIL import Image, ImageSequence
        durations = [f.info["duration"] for f in ImageSequence.Iterator(Image.open(video))]
        frames = round(sum(durations) / min(durations))
    else:
        frames = imageio.get_reader(video).count_frames()
    assert frames == expected


def test_resume_from_the_command_line(trained_run, tmp_path):
    import shutil
    run_dir = tmp_path / "copy"
    shutil.copytree(trained_run, run_dir)
    result = pathzero("train", "--resume", run_dir, "--total-frames", 5000, "--replay-episodes", 0)
    assert result.returncode == 0, result.stderr
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["state"]["frames"] >= 5000
    refused = pathzero("train", "--resume", run_dir, "--hidden", 32)
    assert refused.returncode == 2 and "cannot change when resuming" in refused.stderr


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_pathzero_bench_is_gone_and_says_where_the_benchmarks_run(tmp_path):
    """The benchmarks left the installed package: `pathzero bench` names the checkout's `python -m benchmarks`."""
    for args in (["bench"], ["bench", "throughput", "--game", "Pong"]):
        assert_one_line_error(pathzero(*args, cwd=tmp_path), "pathzero bench", "python -m benchmarks", "make bench-")
    assert "bench" not in pathzero("--help").stdout


def test_bad_input_gives_one_line_and_exit_code_2(trained_run, tmp_path):
    before = _sha(trained_run / "checkpoint.pt")
    assert_one_line_error(pathzero("train", "--game", "Pongg"), "unknown game 'Pongg'", "Pong")
    assert_one_line_error(pathzero("train", "--workers", 0), "--workers must be >= 1")
    assert_one_line_error(pathzero("train", "--total-frames", 0), "--total-frames must be a positive")
    assert_one_line_error(pathzero("train", "--total-frames", -5), "--total-frames must be a positive")
    assert_one_line_error(pathzero("train", "--total-frames", "lots"), "invalid int value")
    assert_one_line_error(pathzero("train", "--resume", tmp_path / "nope"), "is not a run folder")
    assert_one_line_error(pathzero("watch", tmp_path / "nope.pt"), "does not exist")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes((trained_run / "checkpoint.pt").read_bytes()[:1000])
    assert_one_line_error(pathzero("watch", truncated), "is a damaged torch file")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    assert_one_line_error(pathzero("watch", foreign), "not a pathzero-a3c or pathzero-pathnet or pathzero-alphazero checkpoint")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(pathzero("watch", empty), "holds no checkpoint.pt")
    assert_one_line_error(pathzero("watch", trained_run, "--video", tmp_path / "x.avi"), ".mp4 or .gif")
    assert_one_line_error(pathzero("frobnicate"), "unknown command")
    # a foreign checkpoint inside a run folder is refused on resume and left as it was
    (empty / "config.json").write_text((trained_run / "config.json").read_text())
    (empty / "checkpoint.pt").write_bytes(foreign.read_bytes())
    assert_one_line_error(pathzero("train", "--resume", empty), "not a pathzero-a3c checkpoint")
    assert foreign.read_bytes() == (empty / "checkpoint.pt").read_bytes()
    assert _sha(trained_run / "checkpoint.pt") == before


def test_a_reader_that_closes_the_pipe_early_ends_the_command_quietly():
    """`pathzero --help | head -1`: the reader is gone before the usage is written. Without the handler Python
    prints a BrokenPipeError traceback; with it the command exits 141 (128 + SIGPIPE, as a shell tool would)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "-m", "pathzero.scripts.cli", "--help"], stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr == ""


def test_without_the_video_encoder_videos_are_refused_in_one_line_before_training(trained_run, tmp_path):
    """imageio-ffmpeg missing (a broken install): imageio would write the mp4 with another plugin and fail with a
    traceback, after the whole training. pathzero refuses at the start instead, and trains without videos."""
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "imageio_ffmpeg.py").write_text("raise ImportError('hidden by the test')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(hidden), os.environ.get("PYTHONPATH")]))}
    logdir = tmp_path / "runs"
    refused = pathzero("train", *TINY, "--serial", "--total-frames", 1000, "--logdir", logdir, env=env)
    assert_one_line_error(refused, "needs imageio-ffmpeg", "pip install imageio-ffmpeg", "--replay-episodes 0")
    assert not logdir.exists()  # refused before a run folder was made
    trained = pathzero("train", *TINY, "--serial", "--total-frames", 1000, "--logdir", logdir,
                       "--replay-episodes", 0, env=env)
    assert trained.returncode == 0, trained.stderr
    assert_one_line_error(pathzero("watch", trained_run, "--video", tmp_path / "a.mp4", env=env), "or write a .gif")
    gif = pathzero("watch", trained_run, "--episodes", 1, "--max-steps", 5, "--video", tmp_path / "a.gif", env=env)
    assert gif.returncode == 0 and (tmp_path / "a.gif").stat().st_size > 0, gif.stderr


def test_help_explains_every_option():
    result = pathzero("train", "--help")
    assert result.returncode == 0
    for flag in ("--game", "--workers", "--total-frames", "--seed", "--logdir", "--resume", "--t-max",
                 "--entropy-coef", "--lr"):
        assert flag in result.stdout
    assert "emulator frames" in result.stdout


def test_ctrl_c_stops_cleanly_with_a_checkpoint_that_resumes(tmp_path):
    import os
    import signal
    import time as _time

    def as_in_a_terminal() -> None:
        # a suite started in the background (`make test &`) inherits SIGINT ignored, and Python then
        # never turns Ctrl-C into KeyboardInterrupt: give the command a terminal's default
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    logdir = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "pathzero.scripts.cli", "train", *TINY, "--workers", "2",
                             "--total-frames", "100000000", "--logdir", str(logdir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=as_in_a_terminal)
    rows = 0
    for _ in range(600):  # wait (bounded) until training is under way: episodes are being logged
        csvs = list(logdir.glob("*/episodes.csv"))
        rows = len(csvs[0].read_text().splitlines()) if csvs else 0
        if rows > 20 or proc.poll() is not None:
            break
        _time.sleep(0.5)
    assert rows > 20, proc.stderr.read() if proc.poll() is not None else "training did not start"
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "checkpoint saved; resume with" in stderr and "Traceback" not in stderr
    (run_dir,) = logdir.iterdir()
    frames = torch.load(run_dir / "checkpoint.pt", weights_only=True)["state"]["frames"]
    assert frames > 0
    resumed = pathzero("train", "--resume", run_dir, "--total-frames", frames + 2000, "--replay-episodes", 0)
    assert resumed.returncode == 0, resumed.stderr
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["state"]["frames"] >= frames + 2000


def _start_long_run(logdir):
    proc = subprocess.Popen([sys.executable, "-m", "pathzero.scripts.cli", "train", *TINY, "--workers", "2",
                             "--total-frames", "100000000", "--logdir", str(logdir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    import time as _time
    for _ in range(600):  # wait (bounded) until training is under way: episodes are being logged
        csvs = list(logdir.glob("*/episodes.csv"))
        if (csvs and len(csvs[0].read_text().splitlines()) > 20) or proc.poll() is not None:
            break
        _time.sleep(0.5)
    assert proc.poll() is None, proc.stderr.read()
    return proc


def _children(pid):
    from pathlib import Path
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and "spawn_main" in (stat.parent / "cmdline").read_text(errors="ignore"):
            kids.append(int(stat.parent.name))
    return kids


def test_sigterm_checkpoints_and_a_killed_main_process_leaves_no_workers(tmp_path):
    import os
    import signal
    import time as _time

    proc = _start_long_run(tmp_path / "a")
    os.kill(proc.pid, signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "checkpoint saved" in stderr, stderr
    (run_dir,) = (tmp_path / "a").iterdir()
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["state"]["frames"] > 0

    proc = _start_long_run(tmp_path / "b")
    workers = _children(proc.pid)
    assert len(workers) == 2
    os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up: the workers must notice by themselves
    proc.wait(timeout=60)  # the main process; its pipes stay open until the workers end, checked below
    for _ in range(240):
        alive = [w for w in workers if os.path.exists(f"/proc/{w}") and
                 open(f"/proc/{w}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"]
        if not alive:
            break
        _time.sleep(0.5)
    assert not alive, f"workers {alive} outlived their main process"


def test_episodes_csv_tells_a_resume_from_a_slow_worker_after_repeated_kills(tmp_path):
    """Killed (SIGKILL, workers and all) three times and resumed each time: the rows are numbered 0, 1, 2, ...
    across sessions with no gap or repeat, each resume opens a new session whose first row lies beyond every
    row kept (nothing replayed), and the budget completes."""
    import os
    import signal
    import time as _time

    logdir = tmp_path / "runs"
    command = [sys.executable, "-m", "pathzero.scripts.cli", "train", *TINY, "--workers", "2", "--total-frames",
               "100000000", "--checkpoint-minutes", "0.02", "--replay-episodes", "0", "--logdir", str(logdir)]
    for session in range(3):
        if session:
            (run_dir,) = logdir.iterdir()
            command = [sys.executable, "-m", "pathzero.scripts.cli", "train", "--resume", str(run_dir), "--no-progress"]
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        before = _rows(logdir)
        for _ in range(600):  # bounded: until this session has logged episodes and checkpointed past them
            if len(_rows(logdir)) > len(before) + 40 or proc.poll() is not None:
                break
            _time.sleep(0.25)
        assert proc.poll() is None, proc.stderr.read()
        _time.sleep(1.5)  # a checkpoint or two more
        os.killpg(proc.pid, signal.SIGKILL)  # the main process and its workers, no chance to clean up
        proc.wait(timeout=60)
    (run_dir,) = logdir.iterdir()
    frames = torch.load(run_dir / "checkpoint.pt", weights_only=True)["state"]["frames"]
    done = pathzero("train", "--resume", run_dir, "--total-frames", frames + 3000)
    assert done.returncode == 0, done.stderr
    rows = _rows(logdir)
    assert [r["row"] for r in rows] == list(range(len(rows)))
    sessions = [r["session"] for r in rows]
    assert sessions == sorted(sessions) and sessions[-1] == 3
    for i in range(1, len(rows)):
        if sessions[i] != sessions[i - 1]:  # a resume: it goes on from its checkpoint, beyond every row kept
            assert rows[i]["frames"] > max(r["frames"] for r in rows[:i])
    assert max(r["frames"] for r in rows) >= frames + 3000 - 2000


def _rows(logdir):
    import csv

    files = list(logdir.glob("*/episodes.csv"))
    if not files:
        return []
    with files[0].open(newline="") as f:
        return [{k: int(float(v)) for k, v in row.items() if k in ("frames", "session", "row")}
                for row in csv.DictReader(f) if row.get("row")]
