"""What a transfer matrix (agents/transfer.py) and a continual sequence (agents/continual.py) share: the
methods they compare, the options of their runs, and the skeleton of an experiment folder.

A method is one entry, `register_method(Method(...))`: the agent that trains its runs, the settings it
gives them, and (for a transfer method) the control whose run on the source game it starts from. The
matrix and the sequence read these entries; neither branches on a method's name.

An experiment folder holds a settings file (a rerun must ask for runs trained the same way), `cells/`
(one JSON file per finished run, written whole or not at all) and `runs/` (the run folders).
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from pathzero.agents.common.backend import Job, run_jobs
from pathzero.agents.common.checkpoint import CHECKPOINT_NAME, load_checkpoint
from pathzero.agents.common.registry import agent as registered_agent
from pathzero.agents.common.runlog import write_atomic
from pathzero.agents.gumbel import GumbelConfig
from pathzero.agents.pathnet import PathNetConfig
from pathzero.errors import UsageError

# Settings that only mean something for a run that starts from a source run, with the values a run
# without one (a control, a sequence's first phase) gets.
FROM_SOURCE = {"freeze_source": False, "penalty": "none", "copy_stem": False, "revisit": False}


@dataclass(frozen=True)
class Method:
    """One arm of an experiment: how its runs are configured and what they start from."""

    name: str
    """The name users give (--methods NAME) and cells carry."""
    description: str
    """One line for --help."""
    agent: str = "pathnet"
    """The registered agent (agents/common/registry.py) whose config and trainer its runs use."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Values of its runs' config fields (evolve, freeze_source, penalty, copy_stem, ...); a run that
    starts from no source run gets FROM_SOURCE's values for those instead."""
    source: str | None = None
    """Matrix: the control method whose run on the source game a transfer run starts from; None: a control,
    trained on the target game alone."""
    run: str = ""
    """The kind its runs' cells carry (default: its name; the controls' are fixed and evolved, the names
    matrices have always used)."""
    matrix: bool = True
    """Whether a transfer matrix can compare it."""
    default: bool = True
    """Whether a matrix compares it when --methods is not given."""
    sequence: bool = False
    """Whether a continual sequence can compare it (a sequence's phase starts from the phase before it)."""
    strength: str | None = None
    """The setting that `NAME@X` sets to X (ewc@1000: ewc_lambda), so one folder compares several strengths."""

    @property
    def kind(self) -> str:
        return self.run or self.name

    @property
    def is_control(self) -> bool:
        return self.source is None

    @property
    def config_class(self) -> type:
        return registered_agent(self.agent).config

    @property
    def freezes(self) -> bool:
        """Whether its run freezes what the source run learned (a sequence: nothing left to train when a
        game comes round again)."""
        return bool(self.settings.get("freeze_source", False))

    def config(self, base: Any, values: Mapping[str, Any], from_source: bool) -> Any:
        """Its run's config: `base`'s options, then its settings (those of FROM_SOURCE only `from_source`),
        then `values` (what the experiment sets for this run), each over the one before; the fields of its
        agent's config only."""
        settings = {**self.settings, **({} if from_source else FROM_SOURCE)}
        merged = {**_as_dict(base), **settings, **values}
        cls = self.config_class
        return cls(**{f.name: merged[f.name] for f in fields(cls) if f.name in merged})


_METHODS: dict[str, Method] = {}


def register_method(method: Method) -> Method:
    """Adds a method (or replaces the one of the same name)."""
    if method.source is not None and method.source not in _METHODS:
        raise ValueError(f"method {method.name}: its source {method.source!r} is not a registered control")
    _METHODS[method.name] = method
    return method


def unregister_method(name: str) -> None:
    """Removes a method added by `register_method` (a test's, a plugin's); unknown names are ignored."""
    _METHODS.pop(name, None)


def method(name: str) -> Method:
    """A method by name, or UsageError naming the known ones."""
    if name not in _METHODS:
        raise UsageError(f"unknown method {name!r}; choose from {', '.join(_METHODS)}")
    return _METHODS[name]


def methods(*, matrix: bool = False, sequence: bool = False) -> list[Method]:
    """The registered methods (those a matrix, or a sequence, can compare), in registration order."""
    return [m for m in _METHODS.values() if (not matrix or m.matrix) and (not sequence or m.sequence)]


def method_of_kind(kind: str) -> Method:
    """The method whose runs' cells carry `kind`."""
    for m in _METHODS.values():
        if m.kind == kind:
            return m
    raise UsageError(f"no method makes runs of kind {kind!r}")


register_method(Method("independent", "the independent learner: a fixed maximal pathway trained on the target only",
                       settings={"evolve": False}, run="fixed"))
register_method(Method("pathnet_scratch", "PathNet from scratch: pathways evolved on the target only",
                       settings={"evolve": True}, run="evolved"))
register_method(Method("finetune", "every weight of the source's fixed-pathway run trains on", source="independent",
                       settings={"evolve": False, "freeze_source": False}, sequence=True))
register_method(Method("ewc", "fine-tuning with EWC's anchor on the source's weights", source="independent",
                       settings={"evolve": False, "freeze_source": False, "penalty": "ewc"}, sequence=True,
                       strength="ewc_lambda"))
register_method(Method("wpl", "fine-tuning with the weight-plasticity loss on the shared pathway", source="independent",
                       settings={"evolve": False, "freeze_source": False, "penalty": "wpl"}, sequence=True,
                       strength="wpl_alpha"))
register_method(Method("pathnet", "PathNet: the source's best pathway frozen, new pathways evolved",
                       source="pathnet_scratch", settings={"evolve": True, "freeze_source": True}, sequence=True))
register_method(Method("gumbel", "the source's best pathway frozen, a Gumbel-softmax search for the new one",
                       agent="gumbel", source="pathnet_scratch", settings={"freeze_source": True}))
register_method(Method("finetune_stem", "finetune, its target task's input stem and fc layer copied from the source's",
                       source="independent", settings={"evolve": False, "freeze_source": False, "copy_stem": True},
                       default=False))
register_method(Method("pathnet_stem", "pathnet, its target task's input stem and fc layer copied from the source's",
                       source="pathnet_scratch", settings={"evolve": True, "freeze_source": True, "copy_stem": True},
                       default=False))


@dataclass(frozen=True)
class ExperimentRunConfig(PathNetConfig, GumbelConfig):
    """The options of every run of an experiment: PathNet's, and the Gumbel search's for the gumbel method.
    Each run takes the fields of its own agent's config (Method.config)."""


def _as_dict(config: Any) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in fields(config)}


# ----------------------------------------------------------------------------------------------
# The experiment folder.

class Experiment:
    """A plan of runs (`jobs`), run here or as Ray tasks, then a report (`write_outputs`), in a folder
    that a rerun resumes: `check_settings` refuses a rerun that would train its runs otherwise."""

    desc = "experiment"  # the progress bar's label

    def __init__(self, root: Path, base: Any) -> None:
        self.root, self.base = Path(root), base

    def check_settings(self) -> None:
        raise NotImplementedError

    def jobs(self) -> list[Job]:
        """Every run as a job, finished ones marked done, each needing the runs it starts from."""
        raise NotImplementedError

    def write_outputs(self) -> dict:
        raise NotImplementedError

    def cell_path(self, key: str) -> Path:
        return self.root / "cells" / f"{key}.json"

    def store(self, key: str, result: dict) -> dict:
        """Writes a finished run's cell, whole or not at all; returns it."""
        path = self.cell_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(result, indent=1) + "\n")
        return result

    def run(self, progress: bool = True, backend: str = "local", ray_address: str | None = None,
            ray_dashboard: bool = False) -> dict:
        """Trains every run not yet finished (here, or as Ray tasks with `backend="ray"`), then writes
        the outputs and returns them."""
        self.check_settings()
        run_jobs(self.jobs(), backend=backend, address=ray_address, cpus=1 if self.base.serial else self.base.workers,
                 progress=progress, desc=self.desc, dashboard=ray_dashboard)
        return self.write_outputs()


def check_folder_settings(path: Path, settings: dict, compared: Iterable[str], what: str,
                          normalise: Callable[[dict], dict] = dict, check: Callable[[], None] | None = None) -> None:
    """Refuses a rerun whose `compared` settings (after `normalise`) differ from those saved at `path`
    (an experiment folder's settings file) or that `check` refuses; then saves `settings` there (games,
    seeds and methods may grow later)."""
    if path.exists():
        saved, current = normalise(json.loads(path.read_text())), normalise(settings)
        differ = sorted(k for k in compared if saved.get(k) != current.get(k))
        if differ:
            raise UsageError(f"{path.parent} holds a {what} with other settings ({', '.join(differ)} differ); "
                             "use those settings to resume it, or another --logdir")
        if check is not None:
            check()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(settings, indent=2) + "\n")


def train_or_resume(cfg: Any, agent: str) -> Path:
    """Trains `agent`'s run into cfg.logdir, resuming it if an earlier attempt left a checkpoint there;
    returns the run folder."""
    entry = registered_agent(agent)
    folder = Path(cfg.logdir)
    previous = sorted(folder.glob("*/" + CHECKPOINT_NAME)) if folder.exists() else []
    if previous:
        run_dir = previous[-1].parent
        state = load_checkpoint(run_dir, entry.checkpoint_format)["state"]
        if state["frames"] >= cfg.total_frames and state.get("complete", True):
            return run_dir  # trained to the end; only its cell was not written
        return Path(entry.train(cfg, resume=run_dir))
    if folder.exists():
        shutil.rmtree(folder)  # an attempt that died before its first checkpoint
    return Path(entry.train(cfg))
