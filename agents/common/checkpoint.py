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


# An exported model folder (`pathzero export`, the Hugging Face Hub's layout): the checkpoint's tensors in
# model.safetensors, everything else in pathzero.json, what only training needs left out.
EXPORT_WEIGHTS, EXPORT_META = "model.safetensors", "pathzero.json"
TRAINING_ONLY = ("optimizer", "buffer", "rng", "anchor")


def is_export(path: str | os.PathLike) -> bool:
    path = Path(path)
    return path.is_dir() and (path / EXPORT_WEIGHTS).is_file() and (path / EXPORT_META).is_file()


def _encode(value: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    """`value` with its tensors moved into `tensors` (named by their path) and JSON in their place."""
    if isinstance(value, torch.Tensor):
        tensors[key] = value.detach().cpu().clone().contiguous()  # safetensors refuses shared storage
        return {"__tensor__": key}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: _encode(v, f"{key}/{k}", tensors) for k, v in value.items()}
        return {"__items__": [[k, _encode(v, f"{key}/{i}", tensors)] for i, (k, v) in enumerate(value.items())]}
    if isinstance(value, (list, tuple)):
        items = [_encode(v, f"{key}/{i}", tensors) for i, v in enumerate(value)]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"{key} holds a {type(value).__name__}, which an exported model cannot carry")


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__tensor__"}:
            return tensors[value["__tensor__"]]
        if set(value) == {"__items__"}:
            return {k: _decode(v, tensors) for k, v in value["__items__"]}
        if set(value) == {"__tuple__"}:
            return tuple(_decode(v, tensors) for v in value["__tuple__"])
        return {k: _decode(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    return value


def write_export(folder: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Writes a checkpoint's playing part into `folder` as model.safetensors and pathzero.json."""
    import json

    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    meta = _encode({k: v for k, v in payload.items() if k not in TRAINING_ONLY}, "checkpoint", tensors)
    save_file(tensors, str(folder / EXPORT_WEIGHTS), metadata={"format": "pt", "pathzero": payload["format"]})
    (folder / EXPORT_META).write_text(json.dumps({"checkpoint": meta}, indent=1) + "\n")


def read_export(folder: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint dict of an exported model folder (without what only training needs)."""
    import json

    from safetensors.torch import load_file

    folder = Path(folder)
    try:
        tensors = load_file(str(folder / EXPORT_WEIGHTS))
        meta = json.loads((folder / EXPORT_META).read_text())["checkpoint"]
        return _decode(meta, tensors)
    except Exception as error:  # a damaged or foreign folder: one line, not a traceback
        raise UsageError(f"{folder} looks like an exported pathzero model but cannot be read "
                         f"({type(error).__name__}: {error}); export it again with pathzero export") from None


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
    """Loads a checkpoint (a file, a run folder holding one, or an exported model folder) with
    `weights_only=True`.

    Raises UsageError when the file is missing, truncated, not a checkpoint, or written by
    another tool than `expected_format`.
    """
    formats = (expected_format,) if isinstance(expected_format, str) else expected_format
    expected = f"a {' or '.join(formats)} checkpoint written by the matching pathzero command"
    if is_export(path):
        payload = read_export(path)
        if payload.get("format") not in formats:
            raise UsageError(f"{path} holds an exported {payload.get('format')} model, not {expected}")
        return payload
    path = resolve_checkpoint(path)
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
