"""The agents pathzero knows: each agent module declares itself once, with `register(AgentEntry(...))`.

The API (`pathzero.train`, `pathzero.load`), the commands (`pathzero train --agent NAME`, `selfplay`),
the presets and the runner look an agent up here instead of branching on its name. Adding an agent is
one module with one `register` call; a module outside pathzero registers the same way once it is
imported (a test module), or is named in its package's entry points, group "pathzero.agents" (a plugin:
`entry_points={"pathzero.agents": ["myagent = mypackage.myagent"]}` in its setup.py). The built-in
agents' modules and the plugins are imported on the first lookup.
"""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pathzero.errors import UsageError

BUILT_IN = ("pathzero.agents.a3c", "pathzero.agents.pathnet", "pathzero.agents.gumbel", "pathzero.agents.alphazero")
PLUGINS = "pathzero.agents"  # the entry-point group of installed packages' agent modules, imported like BUILT_IN


@dataclass(frozen=True)
class AgentEntry:
    """One agent: what the API, the commands and the runner need to know about it."""

    name: str
    """The name users type (--agent NAME) and run folders carry (<game>__<name>__<seed>__<time>)."""
    config: type
    """Its config dataclass (a RunConfig subclass for actor-learners); config.json holds it."""
    train: Callable[..., Path]
    """(config, resume=None) -> the run folder: trains a new run, or continues the run folder `resume`."""
    load: Callable[..., Any]
    """(checkpoint file or run folder, **options) -> the trained agent (agents/common/trained.py)."""
    checkpoint_format: str
    """The "format" its checkpoint.pt files carry."""
    description: str
    """One line for --help."""
    resumable: frozenset[str] = frozenset()
    """Settings a resumed run may change; the rest are fixed by its config.json."""
    command: str = "train"
    """The command that trains it: train (games with frames) or selfplay (board games)."""
    ray: bool = False
    """Whether --backend ray can run its workers."""
    legacy_keys: frozenset[str] = field(default=frozenset())
    """config.json fields that, all present, identify a run of this agent written before config.json
    named its agent (the entry with the most matching fields wins)."""


_AGENTS: dict[str, AgentEntry] = {}
_built_in_loaded = False


def register(entry: AgentEntry) -> AgentEntry:
    """Adds an agent (or replaces the entry of the same name, as a re-imported module does)."""
    _AGENTS[entry.name] = entry
    return entry


def unregister(name: str) -> None:
    """Removes an agent added by `register` (a test's, a plugin's); unknown names are ignored."""
    _AGENTS.pop(name, None)


def _load_built_in() -> None:
    """Imports the built-in agents' modules (each registers itself), then lists them in BUILT_IN's
    order, before any other agent, whichever module happened to be imported first."""
    global _built_in_loaded
    if not _built_in_loaded:
        _built_in_loaded = True
        for module in BUILT_IN:
            importlib.import_module(module)
        for plugin in entry_points(group=PLUGINS):  # installed packages that add agents
            try:
                plugin.load()
            except Exception as exc:
                raise UsageError(f"the pathzero plugin {plugin.name} ({plugin.value}) failed to load: "
                                 f"{type(exc).__name__}: {exc}") from None
        order = {module: i for i, module in enumerate(BUILT_IN)}
        ranked = sorted(_AGENTS.values(), key=lambda e: order.get(e.train.__module__, len(order)))
        _AGENTS.clear()
        _AGENTS.update((e.name, e) for e in ranked)


def agents(command: str | None = None) -> list[AgentEntry]:
    """Every registered agent (those trained by `command` when given), in registration order."""
    _load_built_in()
    return [e for e in _AGENTS.values() if command is None or e.command == command]


def agent(name: str) -> AgentEntry:
    """The entry of agent `name`, or UsageError naming the known ones."""
    _load_built_in()
    if name not in _AGENTS:
        raise UsageError(f"unknown agent {name!r}; choose one of {', '.join(_AGENTS)}")
    return _AGENTS[name]


def agent_of_format(checkpoint_format: str) -> AgentEntry:
    """The agent whose checkpoints carry `checkpoint_format`."""
    for entry in agents():
        if entry.checkpoint_format == checkpoint_format:
            return entry
    raise UsageError(f"no agent writes checkpoints of format {checkpoint_format!r}")


def agent_of_config(config: dict[str, Any]) -> AgentEntry:
    """The agent that wrote a config.json: its "agent" field, or (older runs) its fields."""
    if "agent" in config:
        return agent(config["agent"])
    keys = set(config)
    matches = [e for e in agents() if e.legacy_keys <= keys]
    if not matches:
        raise UsageError("config.json names no agent and matches none; give a run folder made by pathzero")
    return max(matches, key=lambda e: len(e.legacy_keys))


def agent_of_run(run_dir: str | Path) -> str:
    """The name of the agent that wrote a run folder: config.json's "agent" (older runs: told by its fields)."""
    from pathzero.agents.common.runlog import read_config

    return agent_of_config(read_config(Path(run_dir))).name


def load_trained(path: str | Path, **options: Any):
    """The trained agent in a run folder, checkpoint file or exported model folder, loaded by the agent whose
    checkpoint format it holds (`options`: task, greedy, simulations, game, seed)."""
    from pathzero.agents.common.checkpoint import load_checkpoint

    formats = tuple(dict.fromkeys(e.checkpoint_format for e in agents()))
    entry = agent_of_format(load_checkpoint(path, formats)["format"])
    return entry.load(path, **options)
