"""Messages that say the right thing: what was wrong and what would be right, in one line."""
import subprocess
import sys

import pytest
import torch

import pathzero
from pathzero.agents.common.checkpoint import load_checkpoint
from pathzero.envs import UsageError, resolve_game


def pathzero_cli(*args):
    return subprocess.run([sys.executable, "-m", "pathzero", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_resume_given_a_checkpoint_file_names_its_run_folder(tmp_path):
    run = pathzero.train(game="CartPole-v1", serial=True, total_frames=300, logdir=str(tmp_path), replay_episodes=0,
                         verbose=False, progress=False)
    with pytest.raises(UsageError, match=f"is a file; --resume takes its run folder: {run.dir}$"):
        pathzero.train(resume=run.dir / "checkpoint.pt")


@pytest.mark.parametrize("line, says", [
    ('lr = "fast"', 'lr = "fast" in {file}: lr takes a number, e.g. lr = 0.0007'),
    ("clip_rewards = 1", "clip_rewards = 1 in {file}: clip_rewards takes true or false"),
    ("entropy_coeff = 0.02", "unknown setting 'entropy_coeff' in {file}; did you mean 'entropy_coef'?"),
])
def test_a_bad_setting_in_a_toml_file_is_named_with_what_it_takes(tmp_path, line, says):
    file = tmp_path / "settings.toml"
    file.write_text(line + "\n")
    with pytest.raises(UsageError) as info:
        pathzero.train(game="CartPole-v1", config=file, verbose=False)
    assert says.format(file=file) in str(info.value)


def test_files_that_are_not_checkpoints_say_what_they_are(tmp_path):
    (tmp_path / "text.pt").write_text("hello\n")
    (tmp_path / "empty.pt").write_bytes(b"")
    torch.save({"state_dict": {}, "epoch": 3}, tmp_path / "foreign.pt")
    torch.save(None, tmp_path / "none.pt")
    torch.save({"format": "pathzero-a3c", "model": {"w": torch.zeros(1000)}}, tmp_path / "whole.pt")
    data = (tmp_path / "whole.pt").read_bytes()
    (tmp_path / "truncated.pt").write_bytes(data[:len(data) // 2])
    expected = {"text": "is a text file", "empty": "is an empty file", "truncated": "is a damaged torch file",
                "foreign": "is a torch file from outside pathzero (it holds a dict with keys state_dict, epoch)",
                "none": "is a torch file from outside pathzero (it holds a NoneType)"}
    for name, says in expected.items():
        with pytest.raises(UsageError) as info:
            load_checkpoint(tmp_path / f"{name}.pt", "pathzero-a3c")
        assert says in str(info.value) and "not a pathzero-a3c checkpoint" in str(info.value)
    with pytest.raises(UsageError, match="is a pathzero-a3c checkpoint, not a pathzero-pathnet checkpoint"):
        load_checkpoint(tmp_path / "whole.pt", "pathzero-pathnet")


def test_close_names_are_suggested_from_the_same_family_only():
    with pytest.raises(UsageError) as info:
        resolve_game("MinAtar/Breakot")
    assert "did you mean MinAtar/Breakout?" in str(info.value)
    with pytest.raises(UsageError) as info:
        resolve_game("spaceinvader")
    assert "did you mean SpaceInvaders?" in str(info.value)


def test_the_command_line_suggests_commands_shows_its_version_and_percent_signs():
    typo = pathzero_cli("trian")
    assert typo.returncode == 2 and "did you mean train?" in typo.stderr
    version = pathzero_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("pathzero ")
    for command in ("transfer", "continual"):
        shown = pathzero_cli(command, "--help")
        assert shown.returncode == 0 and "95%" in shown.stdout and "%%" not in shown.stdout


def test_a_matrix_says_its_folder_and_not_the_evaluations_it_does_not_make(tmp_path, capsys):
    with pytest.raises(UsageError, match="independent alone scores nothing"):
        pathzero.transfer(["CartPole-v1"], methods=["independent"], logdir=str(tmp_path))
    pathzero.transfer(["CartPole-v1"], frames=600, seeds=1, logdir=str(tmp_path), methods=["independent", "finetune"],
                      serial=True, random_episodes=2, score_episodes=1, population=2, eval_episodes=1, hidden=8,
                      width=8)
    out = capsys.readouterr().out
    assert f"matrix folder: {tmp_path}" in out and "--eval-every" not in out.splitlines()[0]
