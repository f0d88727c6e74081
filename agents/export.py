"""`pathzero export RUN DIR`: a trained agent as a model folder in the Hugging Face Hub's layout.

    DIR/model.safetensors   the network's weights (and every other tensor a player needs)
    DIR/pathzero.json       the rest of the checkpoint (format, game, network description, task, frames)
    DIR/config.json         the run's settings, as in its run folder
    DIR/replay.mp4          one episode played by the agent (not for board games)
    DIR/README.md           the model card: the Hub's YAML metadata (library, tags, model-index with the
                            evaluation result), how it was evaluated, how to use and reproduce it

`pathzero.load(DIR)`, `pathzero watch DIR` and `pathzero evaluate --checkpoint DIR` read it as they read a run
folder. What only training needs (optimizer statistics, replay buffers, anchors, random states) is left out,
so an exported folder plays but does not resume. `--push REPO_ID` uploads the folder with huggingface_hub
(pip install huggingface_hub, and a token from `huggingface-cli login` or HF_TOKEN).
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np

from pathzero.envs import UsageError

FAMILY_TAGS = {"ale": "atari", "minatar": "minatar", "gym": "classic-control", "board": "board-game"}


def export(run: str | Path, out: str | Path, *, episodes: int = 10, task: str | None = None, seed: int = 0,
           video_steps: int = 3000, push: str | None = None) -> Path:
    """Writes the export of `run` (a run folder or checkpoint) into `out`; returns `out`."""
    from pathzero.agents.common.checkpoint import (EXPORT_META, TRAINING_ONLY, is_export, load_checkpoint,
                                                   resolve_checkpoint, write_export)
    from pathzero.agents.common.registry import agent_of_format, agents, load_trained
    from pathzero.agents.common.trained import Agent

    if episodes < 1:
        raise UsageError(f"--episodes must be >= 1, got {episodes}")
    run, out = Path(run), Path(out)
    if is_export(run):
        raise UsageError(f"{run} is already an exported model; give the run folder it came from")
    checkpoint = resolve_checkpoint(run)
    if out.exists() and any(out.iterdir()) and not (out / EXPORT_META).is_file():
        raise UsageError(f"{out} exists and holds other files; give a new or empty folder (or an earlier export)")
    formats = tuple(dict.fromkeys(e.checkpoint_format for e in agents()))
    payload = load_checkpoint(checkpoint, formats)
    entry = agent_of_format(payload["format"])
    agent = load_trained(checkpoint, **({"task": task} if task else {}), seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    write_export(out, payload)
    run_dir = checkpoint.parent
    config = json.loads((run_dir / "config.json").read_text()) if (run_dir / "config.json").is_file() else \
        {**payload.get("config", {}), "agent": entry.name}
    config.setdefault("agent", entry.name)  # the checkpoint's format names the agent
    (out / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    if isinstance(agent, Agent):
        results = agent.play(episodes, seed=seed)
        scores = [r.ret for r in results]
        video = out / "replay.mp4"
        if (run_dir / "replay.mp4").is_file() and task is None:
            shutil.copyfile(run_dir / "replay.mp4", video)
        else:
            agent.play(1, seed=seed, max_steps=video_steps, video=str(video))
        card = _card_agent(agent, entry.name, config, scores, seed, left_out=TRAINING_ONLY)
    else:
        opponents = ["random"] + (["perfect"] if agent.game.name == "tictactoe" else [])
        matches = {name: agent.match(episodes, opponent=name, seed=seed) for name in opponents}
        card = _card_board(agent, config, matches, seed)
    (out / "README.md").write_text(card)
    if push:
        _push(out, push)
    return out


def _yaml_list(items: list[str], indent: str = "") -> str:
    return "\n".join(f"{indent}- {item}" for item in items)


def _card_agent(agent, kind: str, config: dict, scores: list[float], seed: int, left_out) -> str:
    spec = agent.spec
    mean, std = float(np.mean(scores)), float(np.std(scores))
    name = f"{kind}-{spec.name.replace('/', '-')}"
    tags = ["reinforcement-learning", "deep-reinforcement-learning", "pathzero", kind, spec.name.split("/")[-1],
            FAMILY_TAGS.get(spec.kind, spec.kind)]
    protocol = ("ALE v5: sticky actions 0.25, up to 30 no-op starts, whole episodes up to 108,000 frames, unclipped "
                "game scores" if spec.kind == "ale" else "whole episodes, unclipped scores")
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in config.items()
                     if k in ("seed", "total_frames", "workers") and v is not None)
    game = config.get("game") or spec.env_id  # as the user named it (MinAtar/Breakout), not the folder slug
    command = ("pathzero train --agent " + kind + " --game " + game + (" " + flags if flags else "")
               if kind != "alphazero" else "")
    return f"""---
library_name: pathzero
tags:
{_yaml_list(tags)}
model-index:
- name: {name}
  results:
  - task:
      type: reinforcement-learning
      name: reinforcement-learning
    dataset:
      name: {spec.env_id}
      type: {spec.env_id}
    metrics:
    - type: mean_reward
      value: {mean:.2f} +/- {std:.2f}
      name: mean_reward
      verified: false
---

# {kind} agent playing {spec.env_id}

A pathzero {kind} agent{f' (task {agent.task})' if agent.task else ''} trained for {agent.frames:,} frames.

## Evaluation

Mean return **{mean:.2f} +/- {std:.2f}** (standard deviation) over {len(scores)} episodes, environment seeds {seed} to
{seed + len(scores) - 1}, actions {'the most likely' if agent.greedy else 'sampled from the policy'}; {protocol}.
Scores: {', '.join(f'{s:g}' for s in scores)}. Exported {dt.date.today().isoformat()}.

## Use it

```bash
pip install pathzero
pathzero watch THIS_FOLDER --episodes 3 --video play.mp4
```

```python
import pathzero
agent = pathzero.load("THIS_FOLDER")
print(agent.evaluate(episodes=10))
```

## Reproduce it

```bash
{command}
```

Every setting of the run is in `config.json`. The weights are in `model.safetensors`, the rest of the checkpoint
in `pathzero.json`; what only training needs ({', '.join(left_out)}) is left out, so this folder plays but
does not resume training.
"""


def _card_board(agent, config: dict, matches: dict, seed: int) -> str:
    game = agent.game.name
    tags = ["reinforcement-learning", "pathzero", "alphazero", "self-play", "board-game", game]
    metrics = "\n".join(f"""    - type: score_vs_{name}
      value: {(m.wins + m.draws / 2) / (m.wins + m.draws + m.losses):.3f}
      name: score against {name} play (win 1, draw 1/2)
      verified: false""" for name, m in matches.items())
    rows = "\n".join(f"| {name} | {m.wins} | {m.draws} | {m.losses} |" for name, m in matches.items())
    return f"""---
library_name: pathzero
tags:
{_yaml_list(tags)}
model-index:
- name: alphazero-{game}
  results:
  - task:
      type: reinforcement-learning
      name: reinforcement-learning
    dataset:
      name: {game}
      type: {game}
    metrics:
{metrics}
---

# AlphaZero-style self-play agent for {game}

A pathzero self-play network guiding MCTS (64 simulations per move when loaded), trained for
{config.get('iterations', '?')} iterations.

## Evaluation

Games against each opponent, moving first in every other game, opponents seeded {seed}:

| opponent | wins | draws | losses |
|---|---:|---:|---:|
{rows}

## Use it

```bash
pathzero play --checkpoint THIS_FOLDER
pathzero evaluate --checkpoint THIS_FOLDER --opponent perfect --games 20
```

```python
import pathzero
agent = pathzero.load("THIS_FOLDER")
print(agent.act([4]))  # the reply to a first move in the centre
```

## Reproduce it

```bash
pathzero selfplay --game {game} --seed {config.get('seed', 1)} --iterations {config.get('iterations', 20)}
```

Every setting of the run is in `config.json`; the weights in `model.safetensors`; no replay video (a board game).
"""


def _push(folder: Path, repo_id: str) -> None:
    """Uploads `folder` to the Hub as model repository `repo_id` (not tested here: no network)."""
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise UsageError("--push needs huggingface_hub: pip install huggingface_hub (then huggingface-cli login)") from None
    api = HfApi()
    try:
        api.whoami()
    except Exception:
        raise UsageError("--push needs a Hugging Face token: run `huggingface-cli login` or set HF_TOKEN") from None
    api.create_repo(repo_id, repo_type="model", exist_ok=True)
    api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model")
