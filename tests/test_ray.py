"""The Ray backend: matrices and sequences as Ray tasks on a local two-node cluster on loopback."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from dataclasses import replace

import pytest

from pathzero.agents.common.backend import LOOPBACK_ENV, Job, run_jobs

os.environ[LOOPBACK_ENV] = "0"  # before Ray is imported: every node of the test cluster on 127.0.0.1
import ray  # noqa: E402  (the ray extra is part of the test install)
from ray.cluster_utils import Cluster  # noqa: E402

from pathzero.agents.continual import Continual  # noqa: E402
from pathzero.agents.transfer import TransferConfig, TransferMatrix, plan  # noqa: E402
from tests.test_pathnet_runs import TINY  # noqa: E402

# One xdist worker runs every test that starts Ray: a second Ray on the machine at once could be joined instead.
pytestmark = pytest.mark.xdist_group("ray")

RUN_ONLY = ("wall_seconds", "fps", "run_dir")  # what may differ between two runs of the same seed


@pytest.fixture(scope="module")
def cluster():
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    nodes.add_node(num_cpus=1)
    ray.init(address=nodes.address)
    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"} and len(ray.nodes()) == 2
    yield nodes
    ray.shutdown()
    nodes.shutdown()


def _cells(root):
    return {p.name: {k: v for k, v in json.loads(p.read_text()).items() if k not in RUN_ONLY}
            for p in sorted((root / "cells").glob("*.json"))}


def _matrix_csv(root):
    """matrix.csv without what depends on the machine's load (wall time, frames/s)."""
    rows = list(csv.DictReader((root / "matrix.csv").open()))
    return [{k: v for k, v in row.items() if k not in RUN_ONLY} for row in rows]


def test_a_matrix_on_ray_gives_the_local_cells_and_resumes_the_same_way(tmp_path, cluster):
    base = replace(TINY, game="MinAtar/Breakout", envs_per_worker=4, hidden=16, channels=4)
    cfg = TransferConfig(games=("MinAtar/Breakout", "MinAtar/Asterix"), frames=1500, seeds=1,
                         logdir=str(tmp_path / "local"), base=base, score_episodes=2, random_episodes=5, bins=5,
                         pairs=(("MinAtar/Breakout", "MinAtar/Asterix"),),
                         methods=("independent", "finetune", "pathnet"))
    local = TransferMatrix(cfg).run(progress=False)
    on_ray = TransferMatrix(replace(cfg, logdir=str(tmp_path / "ray"))).run(progress=False, backend="ray")
    assert _cells(tmp_path / "ray") == _cells(tmp_path / "local")  # serial runs: the same numbers exactly
    assert [c["score"] for c in on_ray["cells"]] == [c["score"] for c in local["cells"]]
    assert _matrix_csv(tmp_path / "ray") == _matrix_csv(tmp_path / "local")
    assert "wall_seconds" in (tmp_path / "ray" / "matrix.csv").read_text().splitlines()[0]
    # resuming: a lost transfer cell is the only run trained again
    cells = plan(cfg)
    lost = cells[-1].path(tmp_path / "ray")
    lost.unlink()
    stamps = {c.key: c.path(tmp_path / "ray").stat().st_mtime_ns for c in cells[:-1]}
    TransferMatrix(replace(cfg, logdir=str(tmp_path / "ray"))).run(progress=False, backend="ray")
    assert lost.exists()
    assert all(c.path(tmp_path / "ray").stat().st_mtime_ns == stamps[c.key] for c in cells[:-1])


def test_a_ray_task_whose_worker_dies_is_retried_and_finished_runs_are_not_run_again(tmp_path, cluster):
    log = tmp_path / "attempts.txt"

    def job(key, die_once=False):
        def run():
            with open(log, "a") as f:
                f.write(f"{key}\n")
            if die_once and not (tmp_path / "died").exists():
                (tmp_path / "died").touch()
                os._exit(1)  # the worker process dies mid-task, as a killed node would
            (tmp_path / f"{key}.done").touch()
            return key
        return run

    def jobs():
        made = [Job("a", job("a")), Job("b", job("b", die_once=True), needs=("a",)), Job("c", job("c"))]
        for j in made:
            j.done = (tmp_path / f"{j.key}.done").exists()
        return made

    run_jobs(jobs(), backend="ray", progress=False)
    attempts = log.read_text().split()
    assert sorted(attempts) == ["a", "b", "b", "c"]  # b died once and ran again; nothing else twice
    assert attempts.index("a") < attempts.index("b")  # b needs a: it starts after a is done
    run_jobs(jobs(), backend="ray", progress=False)  # all done: a rerun starts nothing
    assert sorted(log.read_text().split()) == ["a", "b", "b", "c"]


def test_a_ray_task_that_fails_stops_the_rest_with_its_error(tmp_path, cluster):
    def bad():
        from pathzero.envs import UsageError
        raise UsageError("this run was given a bad setting")

    with pytest.raises(Exception, match="bad setting"):
        run_jobs([Job("bad", bad)], backend="ray", progress=False)


def test_a_run_that_fails_on_ray_is_one_line_saying_what_finished_and_how_to_resume(tmp_path, cluster):
    from pathzero.agents.common.backend import RayRunError

    def fine():
        return 1

    def broken():
        raise RuntimeError("The task's local raylet died\nmore lines of Ray's report")

    with pytest.raises(RayRunError) as info:
        run_jobs([Job("fine", fine), Job("broken", broken, ("fine",))], backend="ray", progress=False)
    message = str(info.value)
    assert "\n" not in message and message.startswith("run broken failed on Ray (RuntimeError: The task's local raylet died)")
    assert "1 of the 2 runs to do had finished and are kept; the rest resume when you run the same command again" in message


def test_backend_ray_on_the_command_line_starts_ray_on_loopback(tmp_path):
    code = ("from pathzero.agents.common.backend import start_ray; r = start_ray(); "
            "print(sorted({n['NodeManagerAddress'] for n in r.nodes()})); r.shutdown()")
    env = {k: v for k, v in os.environ.items() if k not in (LOOPBACK_ENV, "RAY_ADDRESS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "['127.0.0.1']"
    args = ["--games", "CartPole-v1", "--methods", "finetune", "--frames", 800, "--seeds", 1, "--serial",
            "--envs-per-worker", 2, "--population", 2, "--eval-episodes", 1, "--hidden", 8, "--width", 8,
            "--random-episodes", 2, "--score-episodes", 1, "--bins", 4, "--no-progress"]
    result = subprocess.run([sys.executable, "-m", "pathzero", "transfer", *map(str, args), "--backend", "ray",
                             "--logdir", str(tmp_path / "m")], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "m" / "matrix.json").exists() and (tmp_path / "m" / "matrix.csv").exists()


def test_backend_ray_without_ray_installed_is_a_one_line_error(tmp_path):
    code = ("import sys; sys.modules['ray'] = None; from pathzero.scripts.cli import main; "
            f"main(['transfer', '--games', 'CartPole-v1', '--backend', 'ray', '--logdir', {str(tmp_path)!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "pathzero[ray]" in out.stderr and "--backend local" in out.stderr
    code = code.replace("'transfer'", "'train', '--no-progress'").replace("'--games'", "'--game'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "pathzero[ray]" in out.stderr, out.stderr
    assert not list(tmp_path.iterdir())  # refused before a run folder was made


def test_a_continual_sequence_on_ray_gives_the_local_figures(tmp_path, cluster):
    from tests.test_continual import _cfg

    cfg = _cfg(tmp_path / "local", cycles=1, seeds=1, methods=("finetune", "pathnet"))
    local = Continual(cfg).run(progress=False)
    on_ray = Continual(replace(cfg, logdir=str(tmp_path / "ray"))).run(progress=False, backend="ray")
    assert json.dumps(on_ray["summary"], sort_keys=True) == json.dumps(local["summary"], sort_keys=True)
    assert _cells(tmp_path / "ray").keys() == _cells(tmp_path / "local").keys()

    def evaluations(root):  # every run's evaluations of every game, in the order of the runs' keys
        return [p.read_text() for p in sorted(root.glob("runs/*/*/evals_tasks.csv"), key=lambda p: p.parts[-3])]

    assert evaluations(tmp_path / "ray") == evaluations(tmp_path / "local") and evaluations(tmp_path / "local")


# ------------------------------------------------------------------------------------------------
# A3C's workers as Ray actors around a parameter server

def _a3c(tmp_path, **kw):
    import pathzero

    options = dict(game="CartPole-v1", agent="a3c", backend="ray", workers=2, envs_per_worker=4, hidden=16,
                   total_frames=3000, logdir=str(tmp_path), progress=False, replay_episodes=0, eval_every=0,
                   verbose=False)
    return pathzero.train(**{**options, **kw})


def test_a3c_on_ray_writes_the_local_run_folder_and_resumes(tmp_path, cluster):
    import torch

    import pathzero

    run = _a3c(tmp_path, eval_every=1500, evaluation_episodes=2)
    ckpt = torch.load(run.dir / "checkpoint.pt", weights_only=True)
    assert ckpt["state"]["frames"] >= 3000 and ckpt["state"]["complete"] and run.config["backend"] == "ray"
    episodes = run.episodes()
    assert len(episodes) > 20 and {e["worker"] for e in episodes} == {0, 1}  # both actors reported
    assert [e["frames"] for e in run.evals()][-1] >= 3000 and list(run.dir.glob("events.out.tfevents.*"))
    steps = ckpt["optimizer"]["state"][0]["step"]
    assert steps == ckpt["state"]["updates"]  # every update the workers reported reached the shared optimizer
    resumed = pathzero.train(resume=run.dir, total_frames=6000, progress=False, verbose=False)
    again = torch.load(resumed.dir / "checkpoint.pt", weights_only=True)
    assert resumed.dir == run.dir and again["state"]["frames"] >= 6000 and again["state"]["resumes"] == 1
    assert again["optimizer"]["state"][0]["step"] > steps  # the shared RMSProp statistics went on


def test_a3c_on_ray_learns_cartpole(tmp_path, cluster):
    run = _a3c(tmp_path, total_frames=300_000, target_return=150.0, envs_per_worker=8, hidden=64)
    returns = [e["return"] for e in run.episodes()]
    best = max(sum(returns[i:i + 20]) / 20 for i in range(len(returns) - 19))
    assert best >= 150 and run.episodes()[-1]["frames"] < 300_000  # reached the target and stopped early


def test_a_dead_a3c_actor_is_replaced_and_the_run_finishes(tmp_path, cluster):
    import threading
    import time

    import torch

    from pathzero.agents.common.ray_workers import worker_name

    result = {}
    thread = threading.Thread(target=lambda: result.update(run=_a3c(tmp_path, total_frames=40_000)))
    thread.start()
    actor = None
    for _ in range(600):  # polls, 0.5 s apart, until training is under way
        if actor is not None:
            break
        time.sleep(0.5)
        runs = list(tmp_path.glob("*/episodes.csv"))
        if runs and len(runs[0].read_text().splitlines()) > 10:  # training is under way
            try:
                actor = ray.get_actor(worker_name(runs[0].parent, 1, 0))
            except ValueError:
                pass
    assert actor is not None, "worker 1 never started"
    ray.kill(actor, no_restart=True)  # as if its process or node died
    thread.join(timeout=600)
    ckpt = torch.load(result["run"].dir / "checkpoint.pt", weights_only=True)
    assert ckpt["state"]["replaced_workers"] == 1 and ckpt["state"]["frames"] >= 40_000 and ckpt["state"]["complete"]
    assert max(e["frames"] for e in result["run"].episodes() if e["worker"] == 1) > ckpt["state"]["frames"] / 2


def test_a_dead_parameter_server_stops_the_run_at_once_and_keeps_its_last_checkpoint(tmp_path, cluster):
    """A dead server fails the driver's next call (RayActorError) rather than running out its patience."""
    import threading
    import time

    import torch

    from pathzero.agents.common.ray_workers import server_name
    from pathzero.agents.common.runner import TrainingError

    result = {}

    def train():
        try:
            _a3c(tmp_path, total_frames=10_000_000, checkpoint_minutes=0.05)
        except TrainingError as exc:
            result["error"] = str(exc)

    thread = threading.Thread(target=train)
    thread.start()
    server = None
    for _ in range(600):  # polls, 0.5 s apart, until training is under way
        time.sleep(0.5)
        runs = list(tmp_path.glob("*/checkpoint.pt"))  # written every 3 s
        if runs:
            server = ray.get_actor(server_name(runs[0].parent, 0))
            break
    assert server is not None, "training never got under way"
    ray.kill(server, no_restart=True)  # as if its process or node died
    thread.join(timeout=300)
    assert not thread.is_alive(), "the run went on waiting for a dead server"
    assert "the parameter server died (ActorDiedError)" in result["error"]  # not a GetTimeoutError
    assert "checkpoint saved; resume with" in result["error"]
    # The last good checkpoint stays (resuming after a killed worker is tested in this file too).
    state = torch.load(runs[0], weights_only=True)["state"]
    assert state["frames"] < 10_000_000 and not state["complete"]


def test_ray_backend_refuses_what_it_does_not_run(tmp_path):
    import pathzero
    from pathzero.envs import UsageError

    with pytest.raises(UsageError, match=r"--backend ray cannot run pathnet.s workers \(agents that can: a3c\)"):
        pathzero.train("CartPole-v1", agent="pathnet", backend="ray", logdir=str(tmp_path), verbose=False)
    with pytest.raises(UsageError, match="--serial"):
        pathzero.train("CartPole-v1", backend="ray", serial=True, logdir=str(tmp_path), verbose=False)


def test_a_matrix_run_whose_ray_worker_is_killed_resumes_from_its_checkpoint(tmp_path, cluster):
    import signal
    import threading
    import time

    import torch

    base = replace(TINY, total_frames=15_000, checkpoint_minutes=0.005)  # a checkpoint every 0.3 s
    cfg = TransferConfig(games=("CartPole-v1",), frames=15_000, seeds=1, logdir=str(tmp_path), base=base,
                         score_episodes=1, random_episodes=2, bins=4, methods=("independent", "finetune"))
    key = "fixed__CartPole-v1__1"
    thread = threading.Thread(target=lambda: TransferMatrix(cfg).run(progress=False, backend="ray"))
    thread.start()
    killed = None
    for _ in range(1500):  # polls, 0.2 s apart: the run's first checkpoint, then its process
        if killed is not None:
            break
        time.sleep(0.2)
        if not list((tmp_path / "runs" / key).glob("*/checkpoint.pt")):
            continue
        for proc in Path("/proc").iterdir():  # Ray titles a worker process by the task it runs
            try:
                if proc.name.isdigit() and f"ray::{key}" in (proc / "cmdline").read_bytes().decode(errors="ignore"):
                    os.kill(int(proc.name), signal.SIGKILL)
                    killed = int(proc.name)
            except (OSError, ValueError):
                continue
    thread.join(timeout=600)
    assert killed is not None, "the run's Ray worker was never found"
    (run_dir,) = (tmp_path / "runs" / key).iterdir()
    state = torch.load(run_dir / "checkpoint.pt", weights_only=True)["state"]
    assert state["resumes"] == 1 and state["frames"] >= 15_000 and state["complete"]  # resumed, not restarted
    assert (tmp_path / "cells" / f"{key}.json").exists() and (tmp_path / "matrix.json").exists()


def test_runs_asking_for_more_cpus_than_any_node_has_are_refused(tmp_path, cluster):
    from pathzero.envs import UsageError

    with pytest.raises(UsageError, match="largest Ray node has 1"):
        run_jobs([Job("big", lambda: None)], backend="ray", cpus=2, progress=False)


def test_a3c_on_ray_with_more_workers_than_cpus_is_refused(tmp_path, cluster):
    from pathzero.envs import UsageError

    with pytest.raises(UsageError, match="needs 3 CPUs on the Ray cluster, which has 2"):
        _a3c(tmp_path, workers=3)
    assert not list(tmp_path.iterdir())  # refused before a run folder was made
