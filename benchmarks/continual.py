"""`python -m benchmarks continual` and `python -m benchmarks penalty`: forgetting-aware sharing, measured.

    python -m benchmarks continual docs/continual/minatar --name minatar    # a finished sequence into the docs
    python -m benchmarks penalty --game MinAtar/Breakout --frames 300000     # frames/s of ewc and wpl vs fine-tuning

`continual` writes the sequence's figures per method with their intervals and checks the issue's goals:
EWC and WPL cut fine-tuning's forgetting by >= 50% (paired over seeds) while keeping >= 80% of its forward
transfer; PathNet forgets exactly nothing. `penalty` trains one source run, then fine-tuning, EWC and WPL
from it with the same settings, and compares their frames/s after start-up (goal: <= 10% slower).
"""
from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import numpy as np

DEFAULT_DOC = "docs/BENCHMARKS.md"


def _fmt(est: dict) -> str:
    if est.get("value") is None:
        return "undefined"
    if est.get("ci_low") is None:
        return f"{est['value']:+.3f}"
    return f"{est['value']:+.3f} [{est['ci_low']:+.3f}, {est['ci_high']:+.3f}]"


def goal_lines(summary: dict) -> list[str]:
    from pathzero.agents.common.stats import normalised_ratio

    from pathzero.agents.continual import method_kind

    lines = []
    base = summary.get("finetune")
    for method in summary:
        if base is None or method_kind(method)[0] not in ("ewc", "wpl"):
            continue
        mine, theirs = np.array(summary[method]["forgetting"]["seeds"]), np.array(base["forgetting"]["seeds"])
        if theirs.mean() <= 0:
            lines.append(f"- {method}: fine-tuning forgot nothing on average here ({theirs.mean():+.3f}), so a cut "
                         "in its forgetting cannot be measured.")
        else:
            kept, _ = normalised_ratio(mine, theirs, 0.0)  # mean(method) / mean(finetune), paired by seed
            cut = 1 - kept.value
            low = None if kept.high is None else 1 - kept.high
            met = low is not None and low >= 0.5
            interval = "" if low is None else f", 95% interval [{low:.0%}, {1 - kept.low:.0%}]"
            lines.append(f"- {method}: forgetting cut by {cut:.0%} against fine-tuning{interval} (goal >= 50% with "
                         f"the interval above it): **{'met' if met else 'not met'}**.")
        ft, ft_base = summary[method]["forward_transfer"]["value"], base["forward_transfer"]["value"]
        if ft is not None and ft_base is not None and ft_base > 0:
            lines.append(f"- {method}: forward transfer {ft:+.3f} = {ft / ft_base:.0%} of fine-tuning's {ft_base:+.3f} "
                         f"(goal >= 80%): **{'met' if ft >= 0.8 * ft_base else 'not met'}**.")
        elif ft is not None and ft_base is not None:
            lines.append(f"- {method}: forward transfer {ft:+.3f}; fine-tuning's is {ft_base:+.3f} (not positive, so "
                         "the 80% goal has no meaning here).")
    if "pathnet" in summary:
        seeds = summary["pathnet"]["forgetting"]["seeds"]
        lines.append(f"- pathnet: forgetting per seed {', '.join(f'{v:+.3f}' for v in seeds)} (goal: exactly 0): "
                     f"**{'met' if all(v == 0 for v in seeds) else 'not met'}**.")
    return lines


def continual(args) -> int:
    from benchmarks.bench import machine, read_output, write_section

    root = Path(args.folder)
    data = read_output(root, "continual.json", "continual")
    name = args.name or root.name
    docs = Path(args.doc).parent
    picture = docs / f"{name}_continual.png"
    shutil.copyfile(root / "continual.png", picture)
    rows = [f"| {m} | {_fmt(e['performance'])} | {_fmt(e['forgetting'])} | {_fmt(e['forward_transfer'])} |"
            for m, e in data["summary"].items()]
    refs = [f"| {g} | {r['random']:.2f} | {r['single_task']:.2f} |" for g, r in data["references"].items()]
    command = (f"pathzero continual --games {' '.join(data['games'])} --cycles {data['cycles']} --frames {data['frames']} "
               f"--seeds {data['seeds']} --logdir {root}" + (f" {args.flags}" if args.flags else ""))
    body = f"""## Continual learning: {' -> '.join(data['games'])} ({name})

Measured {dt.date.today().isoformat()} on {machine()}. Command: `{command}`; then
`python -m benchmarks continual {root} --name {name}`.

{data['frames']:,} frames per phase, {data['cycles']} cycle(s), {data['seeds']} seeds. Scores normalised per game:
0 = a uniform random policy, 1 = the single-task learner's final evaluation (fixed pathway, that game alone,
the same frames). Performance: the normalised score at the end of the sequence, averaged over games.
Forgetting: score at the end of a game's last own phase minus at the end, averaged over the games before the
last. Forward transfer: (AUC - AUC_ref) / (1 - AUC_ref) over a game's first phase (Continual World). Mean over
seeds with 95% bootstrap intervals.

| method | performance | forgetting | forward transfer |
|---|---:|---:|---:|
{chr(10).join(rows)}

| game | random | single-task learner |
|---|---:|---:|
{chr(10).join(refs)}

{chr(10).join(goal_lines(data['summary']))}
{chr(10).join('- ' + n for n in data['notes'])}

![every game's evaluation over the sequence]({picture.name})
"""
    write_section(Path(args.doc), f"continual-{name}", body, note=args.note)
    print(body)
    return 0


def penalty(args) -> int:
    import torch

    import pathzero
    from benchmarks.bench import machine, write_section
    from pathzero.envs import UsageError

    if args.frames < 1000 or args.workers < 1:
        raise UsageError("--frames must be >= 1000 and --workers >= 1")
    root = Path(args.logdir or tempfile.mkdtemp(prefix="pathzero-bench-penalty-"))
    common = dict(game=args.game, total_frames=args.frames, workers=args.workers, evolve=False, eval_every=0,
                  replay_episodes=0, progress=False, verbose=False)
    source = pathzero.train(agent="pathnet", logdir=str(root / "source"), **common)
    fps = {}
    for method in ("finetune", "ewc", "wpl"):
        run = pathzero.train(agent="pathnet", logdir=str(root / method), transfer_from=str(source.dir),
                             freeze_source=False, penalty="none" if method == "finetune" else method, **common)
        fps[method] = torch.load(run.dir / "checkpoint.pt", weights_only=True)["state"]["fps"]
        print(f"{method}: {fps[method]:,.0f} frames/s", flush=True)
    rows = [f"| {m} | {v:,.0f} | {v / fps['finetune']:.3f} |" for m, v in fps.items()]
    slowest = min(fps["ewc"], fps["wpl"]) / fps["finetune"]
    body = f"""## The cost of EWC and WPL in frames/s

Measured {dt.date.today().isoformat()} on {machine()}; `python -m benchmarks penalty --game {args.game} --frames {args.frames}
--workers {args.workers}`: one source run, then fine-tuning, EWC and WPL from it, the same settings, one after another
(frames/s after start-up, {args.workers} workers; the Fisher estimate before training is not counted).

| method | frames/s | / fine-tuning |
|---|---:|---:|
{chr(10).join(rows)}

Slowest penalty at {slowest:.3f} of fine-tuning's speed (goal >= 0.9): **{'met' if slowest >= 0.9 else 'not met'}**.
"""
    write_section(Path(args.doc), "penalty-speed", body, note=args.note)
    print(body)
    return 0


def add_parsers(sub) -> dict:
    co = sub.add_parser("continual", help="a finished pathzero continual folder into docs/BENCHMARKS.md")
    co.add_argument("folder", metavar="DIR", help="the folder written by pathzero continual")
    co.add_argument("--name", default=None, help="name of the section and pictures (default: the folder's name)")
    co.add_argument("--flags", default="", help="other flags the sequence ran with, for the command line shown")
    co.add_argument("--note", default="", help="a remark to add under the numbers")
    co.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    pe = sub.add_parser("penalty", help="frames/s of EWC and WPL against plain fine-tuning")
    pe.add_argument("--game", default="MinAtar/Breakout", help="game (default: MinAtar/Breakout)")
    pe.add_argument("--frames", type=int, default=300_000, help="frames of each run (default: 300000)")
    pe.add_argument("--workers", type=int, default=2, help="workers of each run (default: 2)")
    pe.add_argument("--logdir", default=None, help="where the runs go (default: a temporary folder)")
    pe.add_argument("--note", default="", help="a remark to add under the numbers")
    pe.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    return {"continual": continual, "penalty": penalty}
