"""PathNet benchmarks for `pathzero bench`:

    pathzero bench digits --seeds 10                 # the paper's binary experiment on digits
    pathzero bench transfer runs/transfer            # a finished transfer matrix -> docs/

Both write a section of docs/BENCHMARKS.md with the machine, the date and the command.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np

DEFAULT_DOC = "docs/BENCHMARKS.md"


def bootstrap_interval(values: np.ndarray, stat=np.mean, n: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """95% percentile-bootstrap interval of `stat` over the seeds."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(n, len(values)))
    stats = np.array([stat(values[p]) for p in picks])
    return float(np.percentile(stats, 2.5)), float(np.percentile(stats, 97.5))


def digits(args) -> int:
    import torch
    from tqdm import tqdm

    from agents.pathnet import DIGIT_METHODS, SupervisedConfig, digits_trial
    from agents.pictures import plt
    from scripts.bench import machine, write_section

    torch.set_num_threads(1)  # a tiny MLP: more threads only contend with whatever else runs
    cfg = SupervisedConfig(threshold=args.threshold, generations=args.generations, lr=args.lr)
    source, target = tuple(args.source), tuple(args.target)
    results = {m: [] for m in DIGIT_METHODS}
    for seed in tqdm(range(args.seeds), desc="digits seeds", unit="seed"):
        trial = digits_trial(cfg, seed, source, target, args.source_generations)
        for m in DIGIT_METHODS:
            results[m].append(trial[m])
    # a run that never reached the threshold counts as the budget: its mean is then a lower bound
    gens = {m: np.array([g if g is not None else cfg.generations for g in v], dtype=float) for m, v in results.items()}
    rows = []
    for m in DIGIT_METHODS:
        lo, hi = bootstrap_interval(gens[m])
        reached = sum(g is not None for g in results[m])
        rows.append(f"| {m} | {gens[m].mean():.1f} | [{lo:.1f}, {hi:.1f}] | {np.median(gens[m]):.0f} | "
                    f"{reached}/{args.seeds} |")
    ratio = lambda a, b: (gens[a].mean() / gens[b].mean())  # noqa: E731
    both = np.stack([gens["pathnet"], gens["pathnet_transfer"]])
    r_lo, r_hi = bootstrap_interval(np.arange(args.seeds), stat=lambda idx: both[0, idx].mean() / both[1, idx].mean())
    out = Path(args.doc).parent / "pathnet_digits.png"
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for k, m in enumerate(DIGIT_METHODS):
        jitter = np.random.default_rng(k).uniform(-0.12, 0.12, size=args.seeds)
        ax.scatter(np.full(args.seeds, k) + jitter, gens[m], alpha=0.6, s=18)
        ax.plot([k - 0.25, k + 0.25], [gens[m].mean()] * 2, color="black", lw=2)
    ax.set_xticks(range(len(DIGIT_METHODS)), DIGIT_METHODS)
    ax.set_yscale("log")
    ax.set_ylabel("generations to threshold")
    ax.set_title(f"digits {target[0]} vs {target[1]} after {source[0]} vs {source[1]}: held-out accuracy "
                 f">= {cfg.threshold:.0%} ({args.seeds} seeds; bar = mean)", fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    command = (f"pathzero bench digits --seeds {args.seeds} --threshold {args.threshold} --lr {args.lr} "
               f"--generations {args.generations} --source {source[0]} {source[1]} --target {target[0]} {target[1]} "
               f"--source-generations {args.source_generations}")
    body = f"""## PathNet: binary digits (the paper's supervised experiment)

Measured {dt.date.today().isoformat()} on {machine()}. Command: `{command}`.

Task A (source) is {source[0]} vs {source[1]}, task B (target) is {target[0]} vs {target[1]}, from scikit-learn's 8x8
digits (30% held out). Grid L, M, N = {cfg.layers}, {cfg.modules}, {cfg.active}; {cfg.width} units per module;
population {cfg.population}; a fitness evaluation is {cfg.batches} SGD minibatches of {cfg.batch_size} (lr {cfg.lr}).
A generation is one binary tournament: two pathways trained and compared; the controls train their
fixed pathway for the same number of minibatches per generation. Sources train {args.source_generations} generations.
The measure is the first generation whose winning pathway reaches **{cfg.threshold:.0%} held-out accuracy**
on B (budget {cfg.generations}; a run that never reaches it counts as {cfg.generations}, so its mean is a lower bound).

| method | mean generations | 95% bootstrap interval | median | reached |
|---|---:|---:|---:|---:|
{chr(10).join(rows)}

**PathNet transfer vs PathNet from scratch: {ratio('pathnet', 'pathnet_transfer'):.2f}x fewer generations**
(95% interval {r_lo:.2f}-{r_hi:.2f}; goal 2x; published MNIST versions report 1.7-2x).
Against the independent learner: {ratio('independent', 'pathnet_transfer'):.2f}x; against fine-tuning: \
{ratio('finetune', 'pathnet_transfer'):.2f}x.

![generations per method]({out.name})
"""
    write_section(Path(args.doc), "pathnet-digits", body, note=args.note)
    print(body)
    return 0


def transfer(args) -> int:
    from agents.transfer import summary_table
    from envs import UsageError
    from scripts.bench import machine, write_section

    root = Path(args.matrix)
    if not (root / "matrix.json").is_file():
        raise UsageError(f"{root} holds no matrix.json; give a folder written by pathzero transfer")
    data = json.loads((root / "matrix.json").read_text())
    settings = json.loads((root / "transfer.json").read_text())
    docs = Path(args.doc).parent
    name = args.name or root.name
    images = []
    for method in data["methods"]:
        src = root / f"heatmap_{method}.png"
        if src.exists():
            dst = docs / f"{name}_heatmap_{method}.png"
            shutil.copyfile(src, dst)
            images.append(f"![{method}]({dst.name})")
    curves = sorted((root / "curves").glob("*.png"))
    if curves:
        dst = docs / f"{name}_curves_{curves[0].name}"
        shutil.copyfile(curves[0], dst)
        images.append(f"![learning curves, {curves[0].stem.replace('__', ' -> ')}]({dst.name})")
    summary = data["summary"]
    lines = []
    for method, s in summary.items():
        if method == "scratch":
            continue
        forget = s["mean_forgetting"]
        lines.append(f"| {method} | {s['mean_score']:.3f} | "
                     f"{'' if forget is None else f'{forget:+.2f}'} | "
                     f"{'' if s['source_identical'] is None else ('yes' if s['source_identical'] else 'no')} |")
    base = settings["base"]
    command = (f"pathzero transfer --games {' '.join(data['games'])} --frames {data['frames']} --seeds {data['seeds']} "
               f"--logdir {root}" + (f" {args.flags}" if args.flags else ""))
    body = f"""## PathNet: transfer matrix ({name})

Measured {dt.date.today().isoformat()} on {machine()}. Command: `{command}`;
then `pathzero bench transfer {root} --name {name}`.

{len(data['games'])} games, {data['frames']:,} frames per run, {data['seeds']} seed(s); grid L, M, N =
{base['layers']}, {base['modules']}, {base['active']}, population {base['population']}, {base['eval_episodes']} episodes
per fitness evaluation. Score = area under the target learning curve / scratch's (same target, seed, budget).
Forgetting = source score before - after target training ({settings['score_episodes']} episodes, same seeds).

| method | mean transfer score | mean forgetting of the source | source weights bit-identical |
|---|---:|---:|---|
{chr(10).join(lines)}

```
{summary_table(summary, tuple(data['games']))}
```

{chr(10).join(images)}
"""
    write_section(Path(args.doc), f"pathnet-transfer-{name}", body, note=args.note)
    print(body)
    return 0


def add_parsers(sub) -> dict:
    dg = sub.add_parser("digits", help="PathNet's binary digits experiment: generations to a held-out threshold")
    dg.add_argument("--seeds", type=int, default=10, help="seeds (default: 10)")
    dg.add_argument("--threshold", type=float, default=0.99, help="held-out accuracy threshold (default: 0.99)")
    dg.add_argument("--lr", type=float, default=0.005, help="SGD learning rate (default: 0.005)")
    dg.add_argument("--generations", type=int, default=300, help="budget in generations (default: 300)")
    dg.add_argument("--source", type=int, nargs=2, default=[1, 7], help="source task digits (default: 1 7)")
    dg.add_argument("--target", type=int, nargs=2, default=[3, 8], help="target task digits (default: 3 8)")
    dg.add_argument("--source-generations", type=int, default=100,
                    help="generations the source task trains before transfer (default: 100)")
    dg.add_argument("--note", default="", help="a remark to add under the numbers")
    dg.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    tr = sub.add_parser("transfer", help="write a finished transfer matrix (pathzero transfer) into the docs")
    tr.add_argument("matrix", metavar="MATRIX_DIR", help="the --logdir of a finished pathzero transfer")
    tr.add_argument("--name", default=None, help="section and image name (default: the folder's name)")
    tr.add_argument("--flags", default="", help="the run options given to pathzero transfer, to quote in the command")
    tr.add_argument("--note", default="", help="a remark to add under the numbers")
    tr.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    return {"digits": digits, "transfer": transfer}
