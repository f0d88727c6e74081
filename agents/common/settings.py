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
from pathzero.envs.errors import UsageError


def field_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def check_names(cls: type, values: dict[str, Any], where: str) -> None:
    """UsageError naming the first key that is not a field of `cls`."""
    names = field_names(cls)
    for key in values:
        if key not in names:
            raise UsageError(f"unknown setting {key!r} in {where}; the settings of {cls.__name__} are: "
                             f"{', '.join(names)}")


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
        return cls(**{**read_config(run_dir), **given})
    except TypeError as exc:  # keys of another tool's config
        raise UsageError(f"{run_dir}/config.json is not a {command} config ({exc})") from None


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
