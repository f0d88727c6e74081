"""Figures people would rather look at than read: PathNet's module grid, transfer heatmaps and
learning curves. All return matplotlib figures (Agg backend, no display needed)."""
from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from pathzero.nets.pathnet import PathNet, layer_modules  # noqa: E402


def draw_grid(model: PathNet, title: str = "", pathways: dict[str, np.ndarray] | None = None,
              probabilities: np.ndarray | None = None) -> plt.Figure:
    """The module grid as in the paper's figure 1: layers left to right, modules top to bottom; each
    task's best pathway drawn as coloured lines through its modules; frozen modules shaded.
    `probabilities` [L, M] (a Gumbel search's expected choices of each module, 0..N) tint each
    module blue in proportion and print the value beside it."""
    pathways = dict(model.best if pathways is None else pathways)
    cfg = model.cfg
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * cfg.layers, 1.0 + 0.45 * cfg.modules))
    colours = plt.get_cmap("tab10")
    for layer in range(cfg.layers):
        for m in range(cfg.modules):
            frozen = (layer, m) in model.frozen
            ax.add_patch(Rectangle((layer - 0.18, m - 0.3), 0.36, 0.6, facecolor="0.55" if frozen else "white",
                                   edgecolor="0.3", hatch="//" if frozen else None, zorder=1))
            if probabilities is not None:
                share = float(np.clip(probabilities[layer, m] / cfg.active, 0.0, 1.0))
                ax.add_patch(Rectangle((layer - 0.18, m - 0.3), 0.36, 0.6, facecolor="tab:blue", alpha=0.6 * share,
                                       edgecolor="none", zorder=1.5))
                ax.text(layer + 0.22, m + 0.3, f"{probabilities[layer, m]:.2f}", fontsize=6, color="0.25", zorder=4)
    for k, (task, pathway) in enumerate(pathways.items()):
        colour = colours(k % 10)
        offset = (k - (len(pathways) - 1) / 2) * 0.06
        rows = layer_modules(pathway)
        for layer in range(cfg.layers - 1):
            for a in rows[layer]:
                for b in rows[layer + 1]:
                    ax.plot([layer + 0.18, layer + 1 - 0.18], [a + offset, b + offset], color=colour, lw=1.6,
                            alpha=0.8, zorder=2)
        for layer, row in enumerate(rows):
            ax.scatter([layer] * len(row), np.asarray(row) + offset, color=colour, s=40, zorder=3,
                       label=task if layer == 0 else None)
    ax.set_xlim(-0.6, cfg.layers - 0.4)
    ax.set_ylim(cfg.modules - 0.5, -0.5)
    ax.set_xticks(range(cfg.layers), [f"layer {i + 1}" for i in range(cfg.layers)])
    ax.set_yticks(range(cfg.modules), [f"m{i}" for i in range(cfg.modules)])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    if pathways:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.04), ncol=min(len(pathways), 3), frameon=False)
    ax.set_title(title + ("\n(shaded: frozen)" if model.frozen else ""), fontsize=10)
    fig.tight_layout()
    return fig


def transfer_heatmap(games: Sequence[str], cells: dict[tuple[str, str], dict], title: str) -> plt.Figure:
    """Source (rows) x target (columns) transfer scores: green above 1, blue below; each cell prints its
    score and 95% interval, in bold where the interval excludes 1, and says so where the score is
    undefined (the control did not beat random play). `cells[(source, target)]` is a matrix cell."""
    n = len(games)
    grid = np.full((n, n), np.nan)
    for (source, target), cell in cells.items():
        if cell["score"] is not None:
            grid[games.index(source), games.index(target)] = cell["score"]
    finite = grid[np.isfinite(grid)]
    spread = max(float(np.abs(finite - 1).max()) if finite.size else 0.5, 0.05)
    fig, ax = plt.subplots(figsize=(3.4 + 1.7 * n, 2.0 + 1.2 * n))
    image = ax.imshow(grid, cmap=_blue_green(), norm=TwoSlopeNorm(vcenter=1.0, vmin=1 - spread, vmax=1 + spread))
    for (source, target), cell in cells.items():
        i, j = games.index(source), games.index(target)
        if cell["score"] is None:
            ax.text(j, i, "undefined:\ncontrol not\nabove random", ha="center", va="center", fontsize=8,
                    color="#b2182b")
            continue
        text = f"{cell['score']:.2f}"
        if cell["ci_low"] is not None:
            text += f"\n[{cell['ci_low']:.2f}, {cell['ci_high']:.2f}]"
        ax.text(j, i, text, ha="center", va="center", fontsize=9,
                fontweight="bold" if cell["excludes_one"] else "normal")
    ax.set_xticks(range(n), games, rotation=30, ha="right")
    ax.set_yticks(range(n), games)
    ax.set_xlabel("target")
    ax.set_ylabel("source")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.8, label="score (1 = control)")
    fig.tight_layout()
    return fig


def _blue_green():
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("blue_white_green", ["#2166ac", "#f7f7f7", "#1a9850"])


def learning_curves(curves: dict[str, list[tuple[np.ndarray, np.ndarray]]], title: str,
                    xlabel: str = "frames", baseline: tuple[str, float] | None = None) -> plt.Figure:
    """One line per method (the mean over seeds, each seed faint): curves[method] = [(x, y), ...];
    `baseline` (label, value) is drawn as a dashed line (the random policy's mean return)."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    colours = plt.get_cmap("tab10")
    for k, (method, runs) in enumerate(curves.items()):
        colour = colours(k % 10)
        for x, y in runs:
            ax.plot(x, y, color=colour, alpha=0.25, lw=1)
        if runs:
            x = runs[0][0]
            stacked = np.stack([y for _, y in runs])
            mean = np.full(stacked.shape[1], np.nan)
            seen = np.isfinite(stacked).any(0)  # no episode has ended yet in a bin: leave it empty
            mean[seen] = np.nanmean(stacked[:, seen], axis=0)
            ax.plot(x, mean, color=colour, lw=2, label=method)
    if baseline is not None:
        ax.axhline(baseline[1], color="grey", ls="--", lw=1, label=baseline[0])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mean return")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def run_curve(run_dir, agent: str = "", window: int = 20) -> tuple[plt.Figure, dict]:
    """A run's learning curve, against emulator frames (left) and wall-clock hours (right): every training
    episode's unclipped return faint, their moving mean over `window` episodes, and the evaluations (mean
    with its 95% interval as a band) where the run made any. Returns the figure and a summary of the run."""
    from pathlib import Path

    from pathzero.agents.common.evaluation import read_evals
    from pathzero.agents.common.runlog import read_config, read_episodes
    from pathzero.envs import UsageError

    run_dir = Path(run_dir)
    episodes, evals = read_episodes(run_dir), read_evals(run_dir)
    if not episodes and not evals:
        raise UsageError(f"{run_dir} has no episodes.csv rows or evaluations yet; give a run folder that has trained")
    config = read_config(run_dir)
    order = np.argsort([e["frames"] for e in episodes], kind="stable")  # workers may log a little out of order
    frames = np.array([episodes[i]["frames"] for i in order], dtype=float)
    hours = np.array([episodes[i]["wall_seconds"] for i in order], dtype=float) / 3600
    returns = np.array([episodes[i]["return"] for i in order], dtype=float)
    k = max(1, min(window, len(returns)))
    smooth = np.convolve(returns, np.ones(k) / k, mode="valid") if len(returns) else returns
    sessions = 1 + max((e.get("session", 0) for e in episodes), default=0)
    workers = "serial (one process)" if config.get("serial") else f"{config.get('workers')} workers"
    if config.get("envs_per_worker"):
        workers += f" x {config['envs_per_worker']} envs"
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    latest = max([*hours, *(e["wall_seconds"] / 3600 for e in evals)], default=0.0)
    scale, unit = (1.0, "hours") if latest >= 1 else (60.0, "minutes")  # a short run in minutes
    for ax, x, ex, label in ((axes[0], frames / 1e6, [e["frames"] / 1e6 for e in evals], "emulator frames (millions)"),
                             (axes[1], hours * scale, [e["wall_seconds"] / 3600 * scale for e in evals],
                              f"wall-clock {unit}")):
        if len(returns):
            ax.plot(x, returns, ".", color="tab:blue", alpha=0.2, ms=3, label="training episode (unclipped)")
            ax.plot(x[k - 1:], smooth, color="tab:blue", lw=2, label=f"mean of the last {k} episodes")
        if evals:
            ax.fill_between(ex, [e["ci_low"] for e in evals], [e["ci_high"] for e in evals], color="tab:orange",
                            alpha=0.25, lw=0)
            ax.plot(ex, [e["mean_return"] for e in evals], "o-", color="tab:orange", ms=4, lw=1.5,
                    label="evaluation: mean and 95% interval")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("game score")
    axes[0].legend(fontsize=8, frameon=False)
    resumed = f", {sessions - 1} resume(s)" if sessions > 1 else ""
    fig.suptitle(f"{agent or 'pathzero'} on {config.get('game')}: {workers}{resumed}", fontsize=11)
    fig.tight_layout()
    summary = {"episodes": len(returns), "frames": int(frames.max()) if len(frames) else 0,
               "hours": float(hours.max()) if len(hours) else 0.0, "window": k,
               "final_mean": float(smooth[-1]) if len(smooth) else float("nan"),
               "best_mean": float(smooth.max()) if len(smooth) else float("nan"), "sessions": sessions,
               "evaluations": len(evals), "config": config}
    return fig, summary
