"""PathNet benchmarks for `python -m benchmarks` (the supervised digits experiment: benchmarks/digits.py):

    python -m benchmarks transfer runs/transfer            # a finished transfer matrix -> docs/
    python -m benchmarks search-cost runs/transfer         # PathNet against the Gumbel search, timed in one run

Each writes a section of docs/BENCHMARKS.md with the machine, the date and the command.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from pathzero.agents.common.runlog import file_name

DEFAULT_DOC = "docs/BENCHMARKS.md"


def _fmt(est: dict | None) -> str:
    if not est:
        return "—"
    if est["ci_low"] is None:
        return f"{est['value']:.2f}"
    return f"{est['value']:.2f} [{est['ci_low']:.2f}, {est['ci_high']:.2f}]"


def _num(value, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def _goal(text: str) -> str | float:
    """A --goal word: a method name, or its score as a number."""
    try:
        return float(text)
    except ValueError:
        return text


def goal_lines(summary: dict, goals: dict[str, float] | None = None) -> list[str]:
    """The goals, checked against a matrix summary: per method, its mean off-diagonal transfer against the
    independent learner at least the goal with its interval above 1 (default: PathNet >= 1.16); the
    diagonal >= 1.3 for fine-tuning and PathNet (against the independent learner)."""
    lines = []
    for method, goal in (goals or {"pathnet": 1.16}).items():
        off = (summary.get(f"{method} vs independent") or {}).get("off_diagonal")
        if off:
            mean = off["mean"]
            met = mean["value"] >= goal and mean["ci_low"] is not None and mean["ci_low"] > 1
            lines.append(f"- {method}, mean off-diagonal transfer vs the independent learner: {_fmt(mean)} "
                         f"(goal >= {goal:g} with the interval above 1): **{'met' if met else 'not met'}**.")
    for method in ("finetune", "pathnet"):
        diagonal = (summary.get(f"{method} vs independent") or {}).get("diagonal")
        if diagonal:
            mean = diagonal["mean"]
            met = mean["value"] >= 1.3
            lines.append(f"- {method}, mean diagonal (game -> itself) vs the independent learner: {_fmt(mean)} "
                         f"(goal >= 1.3): **{'met' if met else 'not met'}**.")
    return lines


def _scaled(est: dict | None, scale: float, spec: str) -> str:
    if not est:
        return "—"
    text = format(est["value"] / scale, spec)
    return text if est["ci_low"] is None else f"{text} [{format(est['ci_low'] / scale, spec)}, {format(est['ci_high'] / scale, spec)}]"


def cost_table(costs: dict) -> str:
    """Per method: the pathways its runs end with and what a run costs, means over its runs [95% intervals]."""
    rows = [f"| {method} | {c['runs']} | {_scaled(c['pathway_modules'], 1, '.1f')} | "
            f"{_scaled(c['pathway_flops'], 1e6, '.2f')} | {_scaled(c['pathway_params'], 1e3, '.1f')} | "
            f"{_scaled(c['wall_seconds'], 1, '.0f')} | {_scaled(c['fps'], 1, ',.0f')} | "
            f"{_fmt(c.get('pathway_flops_vs_pathnet'))} | {_fmt(c.get('wall_seconds_vs_pathnet'))} |"
            for method, c in costs.items()]
    head = ("| method | runs | modules on the final pathway | MFLOPs per observation | parameters (thousands) | "
            "wall seconds per run | frames/s after start-up | FLOPs / PathNet's | wall time / PathNet's |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    return head + "\n" + "\n".join(rows)


def task_parameters_line(params: dict[str, dict[str, int]]) -> str:
    """How much of the network a target task owns (never shared) against the largest pathway in the grid."""
    parts = [f"{game} {p['own'] / 1e3:.1f}k (stem {p['stem'] / 1e3:.1f}k, fc layer {p['fc'] / 1e3:.1f}k, heads "
             f"{p['heads'] / 1e3:.1f}k)" for game, p in params.items()]
    largest = {p["largest_pathway"] for p in params.values()}
    return ("Parameters each target task owns and never shares (a fresh input stem, fc layer and heads; a `_stem` "
            "method copies the stem and fc layer, then trains them): " + "; ".join(parts)
            + f". The largest pathway (N modules in each of the L layers) holds {'/'.join(f'{n / 1e3:.1f}k' for n in sorted(largest))}: "
            "the share of the network that transfer through the grid can carry.")


def gumbel_goal_lines(summary: dict, costs: dict) -> list[str]:
    """The goal of the Gumbel search against evolution on the same matrix: transfer within PathNet's
    interval, with >= 30% fewer FLOPs on the pathways it settles on; and the wall time of each."""
    gumbel = (summary.get("gumbel vs independent") or {}).get("off_diagonal")
    pathnet = (summary.get("pathnet vs independent") or {}).get("off_diagonal")
    if "gumbel" not in costs:
        return []
    lines = []
    if gumbel and pathnet:  # both have defined off-diagonal scores (their controls beat random play)
        g, p = gumbel["mean"], pathnet["mean"]
        low = p["value"] if p["ci_low"] is None else p["ci_low"]
        where = "above" if p["ci_high"] is not None and g["value"] > p["ci_high"] else "within"
        lines.append(f"- Gumbel, mean off-diagonal transfer vs the independent learner: {_fmt(g)}, PathNet's {_fmt(p)} "
                     f"(goal: within PathNet's interval, or above it): "
                     f"**{f'met ({where})' if g['value'] >= low else 'not met'}**.")
    flops = costs["gumbel"].get("pathway_flops_vs_pathnet")
    if flops:
        met = flops["value"] <= 0.7
        sure = flops["ci_high"] is not None and flops["ci_high"] <= 0.7
        lines.append(f"- Gumbel's pathways use {_fmt(flops)} of PathNet's FLOPs per observation (paired by pair and "
                     f"seed; goal <= 0.70, i.e. >= 30% fewer): **{'met' if met else 'not met'}**"
                     f"{' (interval too)' if met and sure else ''}.")
    wall = costs["gumbel"].get("wall_seconds_vs_pathnet")
    if wall:
        medians = [costs[m].get("wall_seconds_median") for m in ("gumbel", "pathnet")]
        median = "" if None in medians else f"; medians {medians[0]:.0f} s and {medians[1]:.0f} s"
        lines.append(f"- Wall time per run: Gumbel {_scaled(costs['gumbel']['wall_seconds'], 1, '.0f')} s, PathNet "
                     f"{_scaled(costs['pathnet']['wall_seconds'], 1, '.0f')} s, ratio {_fmt(wall)}{median} (as the "
                     "matrix's runs were made, across sessions and loads; `python -m benchmarks search-cost` times both under "
                     "one load).")
    return lines


def run_dates(root: Path) -> str:
    """When a matrix's runs started, from the time stamps in its cells' run folders: "2026-12-05" or
    "2026-12-05 to 2026-12-07"; today's date where no cell names one. A section regenerated later keeps the
    date of its measurements."""
    days = set()
    for path in (root / "cells").glob("*.json"):
        stamp = re.search(r"__(\d{4})(\d{2})(\d{2})-\d{6}$", json.loads(path.read_text()).get("run_dir") or "")
        if stamp:
            days.add("-".join(stamp.groups()))
    if not days:
        return dt.date.today().isoformat()
    return min(days) if len(days) == 1 else f"{min(days)} to {max(days)}"


def transfer(args) -> int:
    from benchmarks.bench import machine, read_output, write_section
    from pathzero.agents.transfer import TransferMatrix, matrix_methods, summary_table, task_parameters
    from pathzero.envs import UsageError

    root = Path(args.matrix)
    data = read_output(root, "matrix.json", "transfer")
    if "cells" not in data:
        raise UsageError(f"{root}/matrix.json has an older format (no cells); rerun pathzero transfer on it")
    settings = json.loads((root / "transfer.json").read_text())
    docs = Path(args.doc).parent
    name = args.name or root.name
    images = []
    for src in sorted(root.glob("heatmap_*_vs_*.png")):
        dst = docs / f"{name}_{src.name}"
        shutil.copyfile(src, dst)
        images.append(f"![{src.stem}]({dst.name})")
    curves = sorted((root / "curves").glob("*.png"))
    for curve in curves[:2]:
        dst = docs / f"{name}_curves_{curve.name}"
        shutil.copyfile(curve, dst)
        images.append(f"![learning curves, {curve.stem.replace('__', ' -> ')}]({dst.name})")
    summary, cells = data["summary"], data["cells"]
    def part(s: dict, name: str, stat: str) -> dict | None:
        return (s.get(name) or {}).get(stat)

    # PathNet from scratch is scored per target ("targets"): it shows in the off-diagonal columns
    summary_rows = [f"| {key} | {_fmt(part(s, 'off_diagonal', 'iqm') or part(s, 'targets', 'iqm'))} | "
                    f"{_fmt(part(s, 'off_diagonal', 'mean') or part(s, 'targets', 'mean'))} | "
                    f"{_fmt(part(s, 'diagonal', 'mean'))} | {_num(s['mean_forgetting'], '+.2f')} | "
                    f"{'' if s['source_identical'] is None else ('yes' if s['source_identical'] else 'no')} |"
                    for key, s in summary.items()]
    cell_rows = [f"| {c['source'] or '—'} | {c['target']} | {c['method']} | {c['control']} | "
                 f"{_fmt(None if c['score'] is None else {'value': c['score'], 'ci_low': c['ci_low'], 'ci_high': c['ci_high']})}"
                 f"{' *' if c['excludes_one'] else ''} | {c['auc']:.2f} | {c['auc_control']:.2f} | {c['auc_random']:.2f} | "
                 f"{_num(c['forgetting'], '+.2f')} | {'yes' if c.get('copy_stem') else ''} | {c['note'] or ''} |"
                 for c in cells]
    random_rows = [f"| {game} | {r['mean']:.2f} [{r['interval'][0]:.2f}, {r['interval'][1]:.2f}] | {r['episodes']} |"
                   for game, r in data["random"].items()]
    base = settings["base"]
    cost_section = ("" if not data.get("costs") else "\nWhat each method's runs cost, mean over its runs [95% bootstrap "
                    "interval]; the last two columns pair each run with PathNet's on the same pair and seed.\n\n"
                    + cost_table(data["costs"]) + "\n")
    params = data.get("task_parameters") or task_parameters(
        list(dict.fromkeys(c["target"] for c in cells)), TransferMatrix.from_folder(root).cfg.base)
    cost_section += "\n" + task_parameters_line(params) + "\n"
    command = (f"pathzero transfer --games {' '.join(data['games'])} --frames {data['frames']} --seeds {data['seeds']} "
               f"--logdir {root}" + ("" if data.get("diagonal", True) else " --no-diagonal")
               + "".join(f" --pair {a} {b}" for a, b in settings.get("pairs") or ())
               + ("" if tuple(settings["methods"]) == matrix_methods() else f" --methods {' '.join(settings['methods'])}")
               + (f" {args.flags}" if args.flags else ""))
    body = f"""## PathNet: transfer matrix ({name})

Measured {run_dates(root)} (the runs' start dates) on {machine()}. Command: `{command}`;
then `python -m benchmarks transfer {root} --name {name}`.

{len(data['games'])} games, {data['frames']:,} frames per run, {data['seeds']} seed(s) per cell; grid L, M, N =
{base['layers']}, {base['modules']}, {base['active']}, population {base['population']}, {base['eval_episodes']} episodes
per fitness evaluation. Score = (AUC_method - AUC_random) / (AUC_control - AUC_random), AUC = mean return
over training; the control is the independent learner (a fixed maximal pathway trained on the target only) or
PathNet from scratch (evolution on the target only); random = a uniform random policy. Each cell: the ratio of
the mean AUCs over seeds, with a 95% Fieller interval (paired by seed, Student's t; * : the interval excludes 1);
a cell is undefined where its control's margin over random has a t-interval reaching 0. The summary: the
interquartile mean and the mean over cells of the cells' scores, with 95% jackknife-t intervals that leave out
one seed of the whole matrix at a time, controls included. Both intervals cover >= 93% at 3, 5 and 10 seeds in
tests/test_stats.py's simulation. Every target task starts with a fresh input stem and fc layer unless the
method's name ends in _stem; "stem copied" marks cells whose runs copied the source task's.
Forgetting = (source score before - after target training) / (source score before - random), {settings['score_episodes']} episodes.

Random policy (the floor of every score):

| game | mean return [95% interval] | episodes |
|---|---:|---:|
{chr(10).join(random_rows)}

| method vs control | off-diagonal IQM | off-diagonal mean | diagonal mean | forgetting | source weights bit-identical |
|---|---:|---:|---:|---:|---|
{chr(10).join(summary_rows)}

{chr(10).join(goal_lines(summary, dict(args.goal) if args.goal else None) + gumbel_goal_lines(summary, data.get("costs") or {}))}
{cost_section}
<details><summary>Every cell</summary>

| source | target | method | control | score [95% interval] | AUC | AUC control | AUC random | forgetting | stem copied | note |
|---|---|---|---|---:|---:|---:|---:|---:|---|---|
{chr(10).join(cell_rows)}

</details>

```
{summary_table(summary, cells, tuple(data['games']))}
```

{chr(10).join(images)}
"""
    write_section(Path(args.doc), f"pathnet-transfer-{name}", body, note=args.note)
    print(body)
    return 0


def matrix_from_folder(root: Path, workers: int):
    """The TransferMatrix a `pathzero transfer` folder was made with (transfer.json), its runs on `workers` workers."""
    from pathzero.agents.transfer import TransferMatrix

    return TransferMatrix.from_folder(root, workers)


def search_cost(args) -> int:
    """Wall time of PathNet's evolution against the Gumbel search, measured in one run: a matrix's
    PathNet and Gumbel transfer runs for one pair and seed, trained again here (same settings, same
    source run) one after the other, `--repeats` times each, the order swapped every other repeat.
    Resumable: finished timings are kept, with their date and machine, in
    MATRIX/runs/timing/results.json and skipped."""
    import time

    from benchmarks.bench import machine, read_results, save_results, write_section
    from pathzero.agents.common.checkpoint import CHECKPOINT_NAME
    from pathzero.agents.experiment import method, train_or_resume
    from pathzero.agents.transfer import Cell, pathway_size
    from pathzero.envs import UsageError

    root = Path(args.matrix)
    matrix = matrix_from_folder(root, args.workers)
    source, target = args.pair or matrix.cfg.ordered_pairs[0]
    if (source, target) not in matrix.cfg.ordered_pairs:
        raise UsageError(f"{source} -> {target} is not a pair of {root}; its pairs: "
                         + ", ".join(f"{a} -> {b}" for a, b in matrix.cfg.ordered_pairs))
    if args.repeats < 1 or args.workers < 1 or args.frames is not None and args.frames < 1000:
        raise UsageError("--repeats and --workers must be >= 1 and --frames >= 1000")
    frames = args.frames or matrix.cfg.frames
    for kind in ("pathnet", "gumbel"):
        if kind not in matrix.cfg.methods:
            raise UsageError(f"{root} is a matrix without the {kind} method; give one made with --methods ... pathnet gumbel")
    source_cell = Cell("evolved", source, args.seed)
    # the source run itself must be here: training it again would rewrite the matrix's committed cell
    if not source_cell.path(root).is_file() or not (
            root / json.loads(source_cell.path(root).read_text())["run_dir"] / CHECKPOINT_NAME).is_file():
        raise UsageError(f"{root} lacks the source run {source_cell.key} (its cell or its run folder); run "
                         "pathzero transfer on it first")
    folder = root / "runs" / "timing"
    tag = file_name(f"{source}->{target}__seed{args.seed}__{frames}__w{args.workers}")
    done = read_results(folder) or {}
    for repeat in range(1, args.repeats + 1):
        for kind in ("pathnet", "gumbel") if repeat % 2 else ("gumbel", "pathnet"):
            key = f"{kind}__{tag}__r{repeat}"
            if key in done:
                continue
            run_folder = folder / key
            shutil.rmtree(run_folder, ignore_errors=True)  # a timing cut short starts again: a resume would not time it
            cfg = replace(matrix.run_config(Cell(kind, target, args.seed, source)), logdir=str(run_folder),
                          total_frames=frames)
            start = time.perf_counter()
            run_dir = train_or_resume(cfg, method(kind).agent)
            wall = time.perf_counter() - start
            size = pathway_size(run_dir)
            done[key] = {"kind": kind, "repeat": repeat, "wall_seconds": wall, "fps_with_startup": frames / wall,
                         "modules": size["modules"], "flops": size["flops"], "date": dt.date.today().isoformat(),
                         "machine": machine()}
            save_results(folder, done)
            print(f"{kind} run {repeat}: {wall:.0f} s, {frames / wall:,.0f} frames/s with start-up, "
                  f"{size['modules']} modules on its pathway")
    mine = [done[f"{kind}__{tag}__r{r}"] for r in range(1, args.repeats + 1) for kind in ("pathnet", "gumbel")]
    def mean(field: str, kind: str) -> float:
        return float(np.mean([v[field] for v in mine if v["kind"] == kind]))

    rows = "\n".join(f"| {v['kind']} | {v['repeat']} | {v['wall_seconds']:.0f} | {v['fps_with_startup']:,.0f} | "
                      f"{v['modules']} | {v['flops'] / 1e6:.2f} | {v['date']} |" for v in mine)
    where = sorted({v["machine"] for v in mine})
    cheaper = ("its final pathway is the cheaper one to play" if mean("flops", "gumbel") < mean("flops", "pathnet") else
               "here its final pathway is not cheaper to play than PathNet's")
    flag = "" if args.frames is None else f" --frames {frames}"
    body = f"""## PathNet evolution against the Gumbel search: wall time ({args.name})

Measured on {'; '.join(where)}. Command: `python -m benchmarks search-cost {root} --pair {source} {target} --seed {args.seed} --repeats {args.repeats} --workers {args.workers}{flag}`.
The matrix's PathNet and Gumbel transfer runs for {source} -> {target}, seed {args.seed}, trained again one after the
other on this machine ({frames:,} frames each, {args.workers} workers, the matrix's settings, the same frozen source
run), so that both are timed under the same load. Wall time includes start-up.

| method | repeat | wall seconds | frames/s with start-up | modules on the final pathway | MFLOPs per observation | date |
|---|---:|---:|---:|---:|---:|---|
{rows}

Gumbel's wall time is **{mean('wall_seconds', 'gumbel') / mean('wall_seconds', 'pathnet'):.2f}x** PathNet's (means over {args.repeats} run(s) each). The
search runs every module of a layer, weighted by its relaxed choice, in every forward and backward pass (M =
{matrix.cfg.base.modules} modules per layer), where a PathNet pathway runs at most N = {matrix.cfg.base.active}; {cheaper}.
"""
    write_section(Path(args.doc), f"search-cost-{args.name}", body, note=args.note)
    print(body)
    return 0


def add_parsers(sub) -> dict:
    tr = sub.add_parser("transfer", help="write a finished transfer matrix (pathzero transfer) into the docs")
    tr.add_argument("matrix", metavar="MATRIX_DIR", help="the --logdir of a finished pathzero transfer")
    tr.add_argument("--name", default=None, help="section and image name (default: the folder's name)")
    tr.add_argument("--flags", default="", help="the run options given to pathzero transfer, to quote in the command")
    tr.add_argument("--goal", nargs=2, action="append", metavar=("METHOD", "SCORE"), type=_goal,
                    help="a goal to check: METHOD's mean off-diagonal transfer vs the independent learner >= SCORE "
                         "with its interval above 1 (repeatable; default: pathnet 1.16)")
    tr.add_argument("--note", default="", help="a remark to add under the numbers")
    tr.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    sc = sub.add_parser("search-cost", help="wall time of PathNet's evolution against the Gumbel search on one cell "
                                            "of a transfer matrix, both trained again here, one after the other")
    sc.add_argument("matrix", metavar="MATRIX_DIR", help="the --logdir of a pathzero transfer with pathnet and gumbel")
    sc.add_argument("--pair", nargs=2, metavar=("SOURCE", "TARGET"), default=None,
                    help="the cell's source and target games (default: the matrix's first pair)")
    sc.add_argument("--seed", type=int, default=1, help="the cell's seed, whose source run is reused (default: 1)")
    sc.add_argument("--repeats", type=int, default=1, help="runs of each method, alternating (default: 1)")
    sc.add_argument("--workers", type=int, default=2, help="A3C workers of each run (default: 2)")
    sc.add_argument("--frames", type=int, default=None, help="frames of each run (default: the matrix's)")
    sc.add_argument("--name", default="minatar", help="section name (default: minatar)")
    sc.add_argument("--note", default="", help="a remark to add under the numbers")
    sc.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    return {"transfer": transfer, "search-cost": search_cost}
