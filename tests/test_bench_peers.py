"""The peers benchmark (`python -m benchmarks peers`): an SB3 run under pathzero's protocol, cut short and
resumed, then reported; a Sample Factory run in its own environment, extended and reported; the
time-to-score arithmetic; bad input."""
import argparse
import json

import pytest

from benchmarks.peers import PeerRun, add_parsers, at_frames, first_held, holds_at_end, report, run_peer, run_sf


def bench(*args):
    parser = argparse.ArgumentParser()
    handlers = add_parsers(parser.add_subparsers(dest="what", required=True))
    parsed = parser.parse_args([str(a) for a in args])
    return handlers[parsed.what](parsed)


def test_time_to_score_and_holding():
    evals = [[0, -21, None, None, 0.0], [500_000, 11, 9, 13, 600.0], [1_000_000, 18, 17, 19, 1200.0],
             [1_500_000, 17.5, 16, 19, 1800.0], [2_000_000, 18, 17, 19, 2400.0], [2_500_000, 19, 18, 20, 3000.0],
             [3_000_000, 20, 19, 21, 3600.0]]
    assert first_held(evals, 10.0) == (500_000, 600.0)
    assert first_held(evals, 18.0) == (1_000_000, 1200.0)
    assert first_held(evals, 18.0, hold=3) == (2_000_000, 2400.0)  # 17.5 broke the first run of three
    assert first_held(evals, 21.0) is None
    assert holds_at_end(evals, 18.0) and not holds_at_end(evals[:5], 18.0)
    assert at_frames(evals, 1_000_000) == 18 and at_frames(evals, 1_200_000) == 17.5
    assert at_frames(evals, 4_000_000) is None


def test_an_sb3_run_cut_short_resumes_and_is_reported(tmp_path):
    run = PeerRun("sb3-a2c", "Breakout", 1, 3_200)
    assert run_peer(run, tmp_path, stop_at=1_600, eval_every=1_600, episodes=1) is None
    folder = run.folder(tmp_path)
    state = json.loads((folder / "peer_state.json").read_text())
    assert state["frames"] >= 1_600 and [e[0] for e in state["evals"]] == [state["frames"]]
    assert (folder / "model.zip").is_file() and not (folder / "results.json").exists()
    res = run_peer(run, tmp_path, eval_every=1_600, episodes=1)
    assert res["frames"] >= 3_200 and res["evals"][0] == state["evals"][0]  # the first slice's evaluation kept
    assert [e[0] for e in res["evals"]] == sorted({e[0] for e in res["evals"]}) and len(res["evals"]) == 2
    assert res["evals"][-1][4] > res["evals"][0][4] > 0  # training wall time goes on across the resume
    assert len(res["slices"]) == 2 and res["slices"][1]["from_frames"] == state["frames"]
    assert res["version"].startswith("stable-baselines3 ") and res["settings"]["vf_coef"] == 0.25
    assert run_peer(run, tmp_path) == res  # a finished run is skipped
    doc = tmp_path / "BENCHMARKS.md"
    body = report([run, PeerRun("pathzero", "Breakout", 1, 3_200)], tmp_path, doc, "python -m benchmarks peers",
                  "", eval_every=1_600, episodes=1)
    assert "<!-- bench:peers -->" in doc.read_text() and "1 of 2 runs not finished yet" in body
    assert "| SB3 A2C (RL Zoo) | 1 |" in body and "pathzero A3C" not in body.split("**Breakout**")[1]
    assert (tmp_path / "peers.png").stat().st_size > 10_000


def test_a_sample_factory_run_in_its_own_environment_resumes_and_is_reported(tmp_path):
    """Sample Factory (make .venv-sf) trains Breakout under the protocol, evaluated beside its training; the
    same run given more frames resumes from its checkpoint and keeps its evaluations."""
    run = PeerRun("sf-appo", "Breakout", 1, 16_000)
    res = run_sf(run, tmp_path, eval_every=8_000, episodes=1, save_every_sec=3)
    assert res["frames"] >= 16_000 and res["evals"][-1][0] >= 16_000
    assert all(e[4] > 0 for e in res["evals"]) and res["wall_seconds"] > 0
    assert res["version"].startswith("sample-factory 2.1.1") and res["settings"]["num_envs_per_worker"] == 4
    assert res["settings"]["ppo_clip_ratio"] == 0.1 and res["settings"]["evaluation_episodes"] == 1
    assert run_sf(run, tmp_path) == res  # finished: skipped
    folder = run.folder(tmp_path)
    (folder / "results.json").unlink()
    longer = run_sf(PeerRun("sf-appo", "Breakout", 1, 32_000), tmp_path, eval_every=8_000, episodes=1, save_every_sec=3)
    assert longer["evals"][:len(res["evals"])] == res["evals"]  # the first slice's evaluations kept
    assert longer["frames"] >= 32_000 and longer["wall_seconds"] > res["wall_seconds"]
    assert len(longer["slices"]) == 2 and longer["slices"][1]["from_frames"] == res["frames"]
    body = report([PeerRun("sf-appo", "Breakout", 1, 32_000)], tmp_path, tmp_path / "B.md", "python -m benchmarks peers",
                  "", eval_every=8_000, episodes=1)
    assert "| Sample Factory APPO (its Atari settings) | 1 |" in body and "sample-factory 2.1.1" in body


def test_a_run_ends_once_it_holds_the_target_past_the_budget(tmp_path, monkeypatch):
    """The Pong rule ("until +18 is held or 20M frames"), tried on Breakout with a target every policy
    holds: SB3 and Sample Factory stop after HOLD evaluations in a row, not before SCORE_AT frames."""
    import benchmarks.peers as peers

    monkeypatch.setattr(peers, "HELD_STOP", {"Breakout": -1.0})
    monkeypatch.setattr(peers, "SCORE_AT", 2_400)
    assert peers.ends_held("Breakout", [[800, 0.0], [1_600, 0.0], [2_400, 0.0]], 2_400)
    assert not peers.ends_held("Breakout", [[800, 0.0], [1_600, 0.0]], 1_600)  # two in a row only
    assert not peers.ends_held("Pong", [[800, 30.0]] * 3, 2_400)  # no rule for this game here
    res = run_peer(PeerRun("sb3-a2c", "Breakout", 1, 80_000), tmp_path, eval_every=800, episodes=1)
    assert res["ended_held"] and 2_400 <= res["frames"] < 4_000 and len(res["evals"]) == 3
    res = run_sf(PeerRun("sf-appo", "Breakout", 1, 2_000_000), tmp_path, eval_every=8_000, episodes=1, save_every_sec=3)
    assert res["ended_held"] and res["frames"] < 200_000 and len(res["evals"]) >= 3


def test_a_sample_factory_run_that_stops_checkpointing_is_stopped(tmp_path, monkeypatch):
    """The wait on Sample Factory has a deadline: a process that writes no checkpoint for SF_STALL_SECONDS
    is stopped as hung (its whole process group, SIGINT first) and the run fails in one clear error. The
    stand-in for Sample Factory's python ignores its arguments and sleeps."""
    import os

    import benchmarks.peers as peers

    hung = tmp_path / "python"
    hung.write_text("#!/bin/sh\necho $$ > \"$(dirname \"$0\")/pid\"\nexec sleep 600\n")
    hung.chmod(0o755)
    monkeypatch.setattr(peers, "SF_STALL_SECONDS", 1.0)
    with pytest.raises(RuntimeError, match="no new checkpoint for 1.0 s, stopped"):
        run_sf(PeerRun("sf-appo", "Breakout", 1, 16_000), tmp_path / "runs", python=str(hung), poll_seconds=0.2)
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the sleeping process is gone, not left behind


def test_bad_input_is_one_line(capsys):
    from pathzero.envs import UsageError

    with pytest.raises(UsageError, match="ALE games"):
        bench("peers", "--games", "MinAtar/Breakout", "--report-only")
    with pytest.raises(UsageError, match="unknown --methods sb3-dqn"):
        bench("peers", "--methods", "sb3-dqn", "--report-only")
    with pytest.raises(UsageError, match="make .venv-sf"):
        bench("peers", "--methods", "sf-appo", "--sf-python", "/nowhere/python", "--games", "Breakout")
