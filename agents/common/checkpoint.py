"""Checkpoints: written atomically, read with `torch.load(weights_only=True)`.

A checkpoint is a plain dict of tensors and primitives, with a `format` field naming what wrote
it, so a file from another tool, another game or another network shape is refused with a message
rather than half-loaded.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from pathzero.errors import UsageError

CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Writes `payload` to `path` atomically: a temporary file in the same folder, then a rename.

    A crash mid-write leaves the previous checkpoint untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """A run folder or a checkpoint file -> the checkpoint file, or UsageError."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
        if not path.exists():
            raise UsageError(f"{path.parent} holds no {CHECKPOINT_NAME}; give a run folder written by "
                             "`pathzero train` or the path of a checkpoint file")
    elif not path.exists():
        raise UsageError(f"{path} does not exist; give a run folder (e.g. runs/Pong__a3c__1__...) "
                         "or a checkpoint file")
    return path


def load_checkpoint(path: str | os.PathLike, expected_format: str | tuple[str, ...]) -> dict[str, Any]:
    """Loads a checkpoint (a file or a run folder holding one) with `weights_only=True`.

    Raises UsageError when the file is missing, truncated, not a checkpoint, or written by
    another tool than `expected_format`.
    """
    path = resolve_checkpoint(path)
    formats = (expected_format,) if isinstance(expected_format, str) else expected_format
    expected = f"a {' or '.join(formats)} checkpoint written by the matching pathzero command"
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch raises many types for a damaged file
        raise UsageError(f"{path} is {_what_file(path)}, not {expected}") from None
    if not isinstance(payload, dict) or "format" not in payload:
        what = (f"a dict with keys {', '.join(map(str, list(payload)[:4]))}{', ...' if len(payload) > 4 else ''}"
                if isinstance(payload, dict) else f"a {type(payload).__name__}")
        raise UsageError(f"{path} is a torch file from outside pathzero (it holds {what}), not {expected}")
    if payload["format"] not in formats:
        raise UsageError(f"{path} is a {payload['format']} checkpoint, not {expected}")
    return payload


def _what_file(path: Path) -> str:
    """What a file that torch cannot load looks like: empty, text, a damaged torch (zip) file, or other bytes."""
    size = path.stat().st_size
    if size == 0:
        return "an empty file"
    with path.open("rb") as f:
        head = f.read(512)
    if head.startswith(b"PK\x03\x04"):
        return f"a damaged torch file ({size:,} bytes; truncated or partly written?)"
    try:
        head.decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return f"a binary file of another kind ({size:,} bytes)"
