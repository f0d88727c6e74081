"""Checkpoints: atomic writes, weights_only loading, clear refusals."""
import pytest
import torch

from pathzero.agents.common.checkpoint import load_checkpoint, save_checkpoint
from pathzero.envs import UsageError


def test_round_trip_and_no_temporary_files(tmp_path):
    path = tmp_path / "checkpoint.pt"
    payload = {"format": "pathzero-a3c", "model": {"w": torch.arange(4.0)}, "frames": 7}
    save_checkpoint(path, payload)
    save_checkpoint(path, {**payload, "frames": 8})  # overwrite in place
    loaded = load_checkpoint(path, "pathzero-a3c")
    assert loaded["frames"] == 8 and torch.equal(loaded["model"]["w"], torch.arange(4.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]
    assert torch.load(path, weights_only=True)["frames"] == 8


def test_a_failed_write_keeps_the_old_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"format": "pathzero-a3c", "frames": 1})

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot pickle")

    with pytest.raises(RuntimeError):
        save_checkpoint(path, {"format": "pathzero-a3c", "bad": Unpicklable()})
    assert load_checkpoint(path, "pathzero-a3c")["frames"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


def test_truncated_missing_and_foreign_files_are_refused(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"format": "pathzero-a3c", "model": {"w": torch.zeros(1000)}})
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:500])
    with pytest.raises(UsageError, match=r"is a damaged torch file \(500 bytes; truncated or partly written\?\)"):
        load_checkpoint(truncated, "pathzero-a3c")
    with pytest.raises(UsageError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt", "pathzero-a3c")
    with pytest.raises(UsageError, match="holds no checkpoint.pt"):
        load_checkpoint(_empty(tmp_path), "pathzero-a3c")
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(UsageError, match="not a pathzero-a3c checkpoint"):
        load_checkpoint(foreign, "pathzero-a3c")
    with pytest.raises(UsageError, match="not a pathzero-alphazero checkpoint"):
        load_checkpoint(path, "pathzero-alphazero")


def _empty(tmp_path):
    folder = tmp_path / "empty_run"
    folder.mkdir()
    return folder


def test_pickled_code_is_never_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "pathzero-a3c", "x": Evil()}, path)
    with pytest.raises(UsageError):
        load_checkpoint(path, "pathzero-a3c")


def test_every_torch_load_in_the_code_refuses_pickled_code():
    """Checkpoints never execute pickled code: every torch.load call of the project (the package and the
    benchmarks, Sample Factory's runner included) passes weights_only=True."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    unsafe = []
    for folder in ("agents", "envs", "nets", "scripts", "pathzero", "benchmarks"):
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load"
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch"):
                    safe = any(k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                               for k in node.keywords)
                    if not safe:
                        unsafe.append(f"{path.relative_to(root)}:{node.lineno}")
    assert unsafe == []
