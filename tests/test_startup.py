"""Worker processes that die or stall while they start: the command ends in one line (exit 2) instead of
hanging, Ctrl-C and SIGTERM end it during start-up, a script without a main guard is told what to add,
and no run folder is left for a run that never trained."""
import os
import signal
import subprocess
import sys
import time

import pytest

FAILING_IN_WORKERS = '''
import time
if __name__ == "__mp_main__":  # what a worker sees when it imports this script
    {worker}
if __name__ == "__main__":
    from pathzero.scripts.cli import main
    main()
'''
MISSING_MODULE = 'raise ImportError("No module named \'gpu_helpers\'")'  # a module only the main process finds

COMMANDS = {
    "a3c": ["train", "--game", "CartPole-v1", "--workers", "2", "--total-frames", "4000"],
    "pathnet": ["train", "--agent", "pathnet", "--game", "MinAtar/Breakout", "--workers", "2", "--total-frames", "4000"],
    "matrix": ["transfer", "--games", "MinAtar/Breakout", "--frames", "2000", "--seeds", "1", "--workers", "2",
               "--methods", "independent", "pathnet", "--random-episodes", "2"],
}


def _script(tmp_path, worker: str):
    path = tmp_path / "run.py"
    path.write_text(FAILING_IN_WORKERS.format(worker=worker))
    return path


def _run_folders(logdir):
    """Run folders under logdir (a matrix keeps its own under runs/)."""
    return [p for p in logdir.rglob("*__*__*__*") if p.is_dir()] if logdir.exists() else []


@pytest.mark.parametrize("kind", sorted(COMMANDS))
def test_a_worker_that_dies_while_starting_ends_the_command_in_one_line(tmp_path, kind):
    logdir = tmp_path / "runs"
    result = subprocess.run([sys.executable, str(_script(tmp_path, MISSING_MODULE)), *COMMANDS[kind], "--logdir",
                             str(logdir)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "worker 0 died while starting (exit code 1): ImportError: No module named 'gpu_helpers'" in last
    assert last.startswith(f"pathzero {COMMANDS[kind][0]}: error: ") and "Traceback" not in result.stderr
    assert _run_folders(logdir) == []  # nothing trained, nothing kept


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_end_a_run_while_its_workers_start(tmp_path, signum):
    logdir = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, str(_script(tmp_path, "time.sleep(300)")), *COMMANDS["pathnet"],
                             "--logdir", str(logdir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for _ in range(240):  # until the run folder exists: the workers are being started (they never finish)
        if _run_folders(logdir) or proc.poll() is not None:
            break
        time.sleep(0.25)
    assert proc.poll() is None and _run_folders(logdir), proc.stderr.read() if proc.poll() is not None else ""
    time.sleep(1.0)
    os.kill(proc.pid, signum)
    _, stderr = proc.communicate(timeout=30)  # a few seconds, not the workers' 300 s sleep
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert _run_folders(logdir) == []


GUARDLESS = '''
import pathzero
{call}
print("after the call")
'''
CALLS = {
    "a3c": 'pathzero.train(game="CartPole-v1", workers=2, total_frames=4000, logdir=r"{logdir}")',
    "pathnet": 'pathzero.train(agent="pathnet", game="MinAtar/Breakout", workers=2, total_frames=4000, logdir=r"{logdir}")',
    "matrix": ('pathzero.transfer(["MinAtar/Breakout"], frames=2000, seeds=1, workers=2, logdir=r"{logdir}", '
               'methods=["independent", "pathnet"], random_episodes=2)'),
}


@pytest.mark.parametrize("kind", sorted(CALLS))
def test_a_script_without_a_main_guard_is_told_what_to_add(tmp_path, kind):
    logdir = tmp_path / "runs"
    script = tmp_path / "guardless.py"
    script.write_text(GUARDLESS.format(call=CALLS[kind].format(logdir=logdir)))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("pathzero: ")]
    assert len(lines) == 1 and 'put the code that trains under `if __name__ == "__main__":`' in lines[0]
    assert "Traceback" not in result.stderr and "after the call" not in result.stdout
    assert _run_folders(logdir) == []


def test_a_script_fed_on_stdin_trains(tmp_path):
    """Its workers have no file to import again: they do without the main module."""
    logdir = tmp_path / "runs"
    code = GUARDLESS.format(call=CALLS["pathnet"].format(logdir=logdir))
    result = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "after the call" in result.stdout and len(_run_folders(logdir)) == 1
