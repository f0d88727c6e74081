"""A run's settings, from four layers, each over the one before:

    the config class's defaults < the game family's preset < a TOML file (--config) < flags / options

or, when a run is resumed, its config.json with only the resumable settings changed. The API
(`pathzero.train`) and the commands build configs here, so both give the same run.

A TOML file holds config fields at its top level, named as in config.json or as flags:

    # minatar.toml
    lr = 0.002
    entropy-coef = 0.02
    eval_every = 50000
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pathzero.agents.common.runlog import read_config
from pathzero.errors import UsageError


def field_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def check_names(cls: type, values: dict[str, Any], where: str) -> None:
    """UsageError naming the first key that is not a field of `cls`, and the closest setting there is."""
    import difflib

    names = field_names(cls)
    for key in values:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else "see --help for every setting"
            raise UsageError(f"unknown setting {key!r} in {where}; {hint}")


def check_types(cls: type, values: dict[str, Any], where: str) -> None:
    """UsageError naming the first value whose kind its setting does not take (an int is a float too; a
    bool is no number)."""
    import typing

    hints = typing.get_type_hints(cls)
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    for key, value in values.items():
        kinds = _kinds(hints.get(key))
        if kinds is None or value is None and type(None) in kinds:
            continue
        ok = any(isinstance(value, k) and not (isinstance(value, bool) and k in (int, float)) for k in kinds)
        if not ok:
            names = " or ".join(sorted({"a number" if k in (int, float) else _KIND_NAMES.get(k, k.__name__)
                                        for k in kinds if k is not type(None)}))
            default = defaults.get(key)
            example = "" if default is dataclasses.MISSING else f", e.g. {key} = {_toml(default)}"
            raise UsageError(f"{key} = {_toml(value)} in {where}: {key} takes {names}{example}")


_KIND_NAMES = {bool: "true or false", str: "a string", tuple: "a list", list: "a list", dict: "a table"}


def _kinds(hint) -> tuple[type, ...] | None:
    """The plain types a type hint admits, or None when it cannot be checked simply."""
    import types
    import typing

    if hint is None or hint is typing.Any:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        parts = [_kinds(a) for a in typing.get_args(hint)]
        return None if any(p is None for p in parts) else tuple(k for p in parts for k in p)
    if origin is not None:
        return (origin,) if isinstance(origin, type) else None
    if hint is float:
        return (int, float)
    return (hint,) if isinstance(hint, type) else None


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def read_toml(path: str | Path, cls: type) -> dict[str, Any]:
    """The settings of a TOML file, keys with dashes read as underscores, checked against `cls`."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise UsageError(f"--config {path}: cannot read it ({exc.strerror or type(exc).__name__}); give a TOML file "
                         "of settings, e.g. lr = 0.002") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--config {path} is not valid TOML ({exc}); write one setting per line, e.g. lr = 0.002") from None
    values = {str(k).replace("-", "_"): v for k, v in data.items()}
    nested = [k for k, v in values.items() if isinstance(v, dict)]
    if nested:
        raise UsageError(f"--config {path}: [{nested[0]}] is a table; settings go at the top level, e.g. lr = 0.002")
    check_names(cls, values, str(path))
    return values


def build_config(cls: type, given: dict[str, Any], *, preset: dict[str, Any] | None = None,
                 file: str | Path | None = None) -> Any:
    """A new run's config: defaults < preset < file < given."""
    check_names(cls, given, "the options")
    from_file = read_toml(file, cls) if file is not None else {}
    if file is not None:
        check_types(cls, from_file, str(file))
    try:
        return cls(**{**(preset or {}), **from_file, **given})
    except TypeError as exc:  # a value of the wrong kind in a file
        raise UsageError(f"a setting has the wrong type ({exc}); see --help for each setting's kind") from None


def resumed_config(cls: type, run_dir: str | Path, given: dict[str, Any], resumable: set[str],
                   command: str) -> Any:
    """A resumed run's config: its config.json with only the `resumable` settings of `given` on top."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise UsageError(f"{run_dir} is not a run folder (no config.json); give a folder made by {command}")
    check_names(cls, given, "the options")
    fixed = sorted(set(given) - resumable)
    if fixed:
        raise UsageError(f"--{fixed[0].replace('_', '-')} cannot change when resuming; it is fixed by "
                         f"{run_dir / 'config.json'} (start a new run to change it)")
    try:
        return cls(**{**saved_fields(cls, read_config(run_dir)), **given})
    except TypeError as exc:  # keys of another tool's config
        raise UsageError(f"{run_dir}/config.json is not a {command} config ({exc})") from None


def saved_fields(cls: type, saved: dict[str, Any]) -> dict[str, Any]:
    """The settings of a config.json for `cls`: without the "agent" that names its writer and without
    the fields older versions had and `cls` has retired (its RETIRED class attribute)."""
    retired = getattr(cls, "RETIRED", frozenset())
    return {k: v for k, v in saved.items() if k != "agent" and k not in retired}


def describe_settings(cfg: Any) -> str:
    """One line: the settings that differ from the config class's defaults."""
    defaults = {}
    for f in dataclasses.fields(cfg):
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = f.default_factory()
    changed = [f"{k}={v}" for k, v in dataclasses.asdict(cfg).items() if defaults.get(k, object()) != v]
    return "settings: " + (" ".join(changed) if changed else "the defaults") + " (the rest as in --help)"
