"""Board-game benchmarks for `python -m benchmarks`:

    python -m benchmarks search                 # MCTS simulations/s on Connect Four: pathzero vs OpenSpiel
    python -m benchmarks tictactoe              # `pathzero selfplay` defaults: wall time, then strength
    python -m benchmarks connect-four           # a 2-hour self-play run, then 50 games vs OpenSpiel MCTS-1000

Both write a section of docs/BENCHMARKS.md with the machine, the date and the command.
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Callable

DEFAULT_DOC = "docs/BENCHMARKS.md"

# Connect Four positions searched besides the empty board: OpenSpiel action lists (columns 0-6)
MIDGAME_POSITIONS = ((3, 3, 2, 4), (3, 2, 4, 4, 2, 3, 5, 1), (3, 3, 3, 2, 4, 4, 2, 5, 1, 5, 6, 0))


def simulations_per_second(search: Callable[[list[int], int], int], positions: list[list[int]],
                           searches: int) -> list[float]:
    """`search(moves, seed) -> simulations run` timed `searches` times from each position (a fresh
    tree each time); returns simulations/s per position, the last entry over all positions."""
    search(positions[0], searches)  # warm-up, untimed: first calls pay for allocation and lazy set-up
    rates, total_sims, total_secs = [], 0, 0.0
    for moves in positions:
        sims, secs = 0, 0.0
        for seed in range(searches):
            start = time.perf_counter()
            sims += search(moves, seed)
            secs += time.perf_counter() - start
        rates.append(sims / secs)
        total_sims, total_secs = total_sims + sims, total_secs + secs
    return rates + [total_sims / total_secs]


def pathzero_search(batch_size: int, simulations: int, side_by_side: int = 1) -> Callable[[list[int], int], int]:
    """pathzero MCTS with an (untrained) board_net evaluator, `batch_size` leaves per search and
    forward pass; with `side_by_side` > 1, that many searches (as in self-play's parallel games)
    run in lockstep, each network call evaluating the leaves of all of them."""
    import torch

    from pathzero.agents.alphazero import AlphaZeroConfig, board_net
    from pathzero.agents.mcts import MCTS, MCTSConfig, NetworkEvaluator, run_searches
    from pathzero.envs.boards import ConnectFour, replay

    game = ConnectFour()
    torch.manual_seed(0)
    evaluator = NetworkEvaluator(game, board_net(game, AlphaZeroConfig().net).eval())
    cfg = MCTSConfig(simulations=simulations, batch_size=batch_size)

    def run(moves: list[int], seed: int) -> int:
        searches = [MCTS(game, evaluator, cfg, seed=seed * side_by_side + i) for i in range(side_by_side)]
        for search in searches:
            search.reset(replay(game, moves))
        return int(sum(c.sum() for c in run_searches([s.searching() for s in searches], evaluator)))
    return run


def openspiel_search(kind: str, simulations: int, uct_c: float = 2.0) -> Callable[[list[int], int], int]:
    """OpenSpiel's MCTS bot with one random rollout per leaf: `kind` "python" (MCTSBot in
    open_spiel.python.algorithms.mcts) or "c++" (pyspiel.MCTSBot); not solving, so every search
    spends its whole budget."""
    import numpy as np
    import pyspiel

    game = pyspiel.load_game("connect_four")

    def bot(seed: int):
        seed = seed % (2**31)
        if kind == "python":
            from open_spiel.python.algorithms import mcts
            evaluator = mcts.RandomRolloutEvaluator(1, np.random.RandomState(seed))
            return mcts.MCTSBot(game, uct_c, simulations, evaluator, solve=False,
                                random_state=np.random.RandomState(seed))
        return pyspiel.MCTSBot(game, pyspiel.RandomRolloutEvaluator(1, seed), uct_c, simulations, 1000, False,
                               seed, False)

    def run(moves: list[int], seed: int) -> int:
        state = game.new_initial_state()
        for action in moves:
            state.apply_action(action)
        bot(seed).step(state)
        return simulations
    return run


def search(args) -> int:
    import torch

    from benchmarks.bench import machine, write_section
    from pathzero.agents.alphazero import AlphaZeroConfig
    from pathzero.envs import UsageError

    net = AlphaZeroConfig()
    try:
        batch_sizes = [int(b) for b in str(args.batch_sizes).split(",") if b.strip()]
    except ValueError:
        raise UsageError(f"--batch-sizes takes comma-separated integers such as 8,16, got {args.batch_sizes!r}") from None
    if min([args.simulations, args.searches, args.threads, args.side_by_side, args.side_batch] + batch_sizes) < 1 \
            or not batch_sizes:
        raise UsageError("--simulations, --searches, --threads, --side-by-side, --side-batch and every --batch-sizes "
                         "entry must be >= 1")
    positions = [[]] + [list(p) for p in MIDGAME_POSITIONS]
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        rows = []  # (what, rates per position + overall)
        pathzero_batches = [1] + [b for b in batch_sizes if b != 1]
        variants = [(b, 1) for b in pathzero_batches]  # (batch, searches side by side)
        if args.side_by_side > 1:
            variants.append((args.side_batch, args.side_by_side))
        for b, together in variants:
            if together > 1:
                label = f"pathzero MCTS, {together} searches side by side, batch {b} each"
            else:
                label = f"pathzero MCTS, network evaluator, batch {b}" + (" (unbatched)" if b == 1 else "")
            rows.append((label, simulations_per_second(pathzero_search(b, args.simulations, together), positions,
                                                       args.searches)))
            print(f"{label}: {rows[-1][1][-1]:,.0f} simulations/s")
        try:
            for kind, label in (("python", "OpenSpiel Python MCTSBot, 1 random rollout"),
                                ("c++", "OpenSpiel C++ pyspiel.MCTSBot, 1 random rollout")):
                rows.append((label, simulations_per_second(openspiel_search(kind, args.simulations), positions,
                                                           args.searches)))
                print(f"{label}: {rows[-1][1][-1]:,.0f} simulations/s")
            openspiel_note = ""
        except ImportError:
            openspiel_note = "\nOpenSpiel is not installed here (pip install open_spiel): its rows are missing.\n"
    finally:
        torch.set_num_threads(threads)
    unbatched = rows[0][1][-1]
    header = "| search | empty | " + " | ".join(f"mid-game {i + 1}" for i in range(len(MIDGAME_POSITIONS))) + \
        " | all | / pathzero unbatched |"
    lines = [header, "|---" + "|---:" * (len(positions) + 2) + "|"]
    for label, rates in rows:
        lines.append(f"| {label} | " + " | ".join(f"{r:,.0f}" for r in rates) + f" | {rates[-1] / unbatched:.2f} |")
    best = max(rows[1:len(pathzero_batches)] or rows[:1], key=lambda r: r[1][-1])
    side = rows[len(pathzero_batches)] if args.side_by_side > 1 else None
    command = (f"python -m benchmarks search --simulations {args.simulations} --batch-sizes {args.batch_sizes} "
               f"--searches {args.searches} --threads {args.threads} --side-by-side {args.side_by_side}"
               f" --side-batch {args.side_batch}")
    positions_text = "; ".join(" ".join(map(str, p)) for p in MIDGAME_POSITIONS)
    body = f"""## Search speed: Connect Four MCTS

Measured {dt.date.today().isoformat()} on {machine()}. Command: `{command}`.

Simulations per second of one search of {args.simulations} simulations from a fresh tree, {args.searches} searches
per position, one process, torch with {args.threads} thread(s). Positions: the empty board and three mid-game
positions reached by the columns {positions_text}. pathzero's evaluator is the untrained `board_net` of
`pathzero selfplay`'s defaults ({net.blocks} residual blocks x {net.channels} channels): with batch size b, MCTS collects b leaves with
virtual loss and evaluates them in one forward pass. OpenSpiel's bots evaluate a leaf with one random
rollout instead, so their simulations are cheaper and weaker: compare those rows for speed only.

{chr(10).join(lines)}

Batched / unbatched pathzero, one search: **{best[1][-1] / unbatched:.2f}x** at its best
({best[0].split(', ')[-1]}; goal >= 5x).
{side_note(side, unbatched)}{openspiel_note}"""
    write_section(Path(args.doc), "search-connect-four", body, note=args.note)
    print(f"batched / unbatched: {best[1][-1] / unbatched:.2f}x; written to {args.doc}")
    return 0


def side_note(side, unbatched: float) -> str:
    if side is None:
        return ""
    return (f"Searches side by side, as self-play plays its parallel games (`--parallel-games`): "
            f"**{side[1][-1] / unbatched:.2f}x** the unbatched search ({side[0].split(', ', 1)[1]}). Their "
            "simulations/s count all searches together; each search alone runs at the speed of one round.\n")


def tictactoe(args) -> int:
    """`pathzero selfplay --game tictactoe` with its defaults, trained once per seed, then each network
    against perfect and random play at the simulations it was trained with; with `--compare-decisive`
    every seed is trained again with --no-decisive-moves (plain PUCT), the baseline of the same run."""
    from dataclasses import replace

    from benchmarks.bench import machine, write_section
    from pathzero.agents.alphazero import AlphaZeroConfig, load_player, train_alphazero
    from pathzero.agents.players import PerfectPlayer, RandomPlayer, play_match
    from pathzero.envs import UsageError
    from pathzero.envs.boards import make_board_game

    cfg = AlphaZeroConfig(game="tictactoe", logdir=args.logdir, workers=args.workers, progress=False)
    if args.iterations is not None:
        cfg = replace(cfg, iterations=args.iterations)
    simulations = cfg.simulations if args.simulations is None else args.simulations
    if args.games < 1 or simulations < 1 or args.train_seeds < 1:
        raise UsageError("--games, --simulations and --train-seeds must be >= 1")
    game = make_board_game("tictactoe")
    arms = [("decisive moves (default)", True)] + ([("plain PUCT (--no-decisive-moves)", False)]
                                                   if args.compare_decisive else [])
    rows, losses, walls = [], {}, []
    for label, decisive in arms:
        for seed in range(1, args.train_seeds + 1):
            start = time.perf_counter()
            run_dir = train_alphazero(replace(cfg, seed=seed, decisive_moves=decisive))
            wall = time.perf_counter() - start
            walls.append(wall)
            player = load_player(run_dir, simulations=simulations, game="tictactoe", decisive_moves=decisive)
            perfect = play_match(game, player, PerfectPlayer(game, seed=args.seed), args.games)
            randomly = play_match(game, player, RandomPlayer(game, seed=args.seed), args.games)
            losses.setdefault(label, []).append(perfect.losses)
            rows.append(f"| {label} | {seed} | {wall:.0f} | {perfect.wins} / {perfect.draws} / {perfect.losses} | "
                        f"{randomly.wins} / {randomly.draws} / {randomly.losses} |")
            print(rows[-1])
    selfplay = "pathzero selfplay --game tictactoe --seed K" + \
        (f" --workers {args.workers}" if args.workers != 1 else "") + \
        (f" --iterations {args.iterations}" if args.iterations is not None else "")
    command = (f"python -m benchmarks tictactoe --train-seeds {args.train_seeds} --games {args.games} "
               f"--simulations {simulations} --seed {args.seed}"
               + (" --compare-decisive" if args.compare_decisive else "")
               + (f" --workers {args.workers}" if args.workers != 1 else "")
               + (f" --iterations {args.iterations}" if args.iterations is not None else ""))
    verdict = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    default = losses[arms[0][0]]
    totals = "; ".join(f"{label}: {sum(v)} losses in {len(v) * args.games} games ({', '.join(map(str, v))} per seed)"
                       for label, v in losses.items())
    body = f"""## Strength: tic-tac-toe self-play

Measured {dt.date.today().isoformat()} on {machine()}. Command: `{command}`.

Training is `{selfplay}` for K = 1..{args.train_seeds}, every other setting at its default ({cfg.iterations}
iterations x {cfg.games_per_iteration} games, {cfg.simulations} simulations per move, {cfg.train_steps} updates
of {cfg.batch_size}). Each final network then plays with {simulations} MCTS simulations per move (the most
visited move) {args.games} games against perfect play (minimax, a random choice among its best moves) and
{args.games} against random play, taking the first move in half of them. Decisive moves with proven values
(the default): when a node is expanded each move is played out one more move by the rules, so a win at once
and a move that lets the opponent win at once are known before any visit, and proofs climb the tree (an
MCTS-solver): a search never spends visits on a proven loss and sees a fork one move before the opponent can
make it (Teytaud & Teytaud 2010; Winands et al. 2008). Plain PUCT counts an unvisited move as a draw and may
never search a move the network gives a 1% prior.

| search | seed | training s | vs perfect (W / D / L) | vs random (W / D / L) |
|---|---:|---:|---:|---:|
{chr(10).join(rows)}

Losses to perfect play: {totals}. Goals: training within 10 minutes here: {verdict(max(walls) <= 600)}; never
losing to perfect play at the simulations it was trained with, over {args.train_seeds} seeds:
{verdict(sum(default) == 0)}.
"""
    write_section(Path(args.doc), "strength-tictactoe", body, note=args.note)
    print(f"losses to perfect play: {totals}; written to {args.doc}")
    return 0


# The Connect Four self-play recipe of `bench connect-four` (AlphaZeroConfig fields; see the README).
# Small network and few simulations: on 2 CPU cores, games per hour is what the run is short of.
CONNECT_FOUR_RECIPE = dict(
    game="connect_four", simulations=64, games_per_iteration=64, parallel_games=32, mcts_batch=4, train_steps=48,
    batch_size=256, buffer_size=80_000, blocks=3, channels=32, temperature_moves=6, workers=2,
    eval_opponents="openspiel-mcts", eval_games=20, eval_every=40, eval_simulations=200, opponent_simulations=1000)
SCORE_TAG, WIN_TAG = "eval/score_vs_openspiel-mcts", "eval/win_rate_vs_openspiel-mcts"


def plot_connect_four_curve(run_dir: Path, out: Path, final: tuple[int, float] | None = None) -> list:
    """PNG of the win rate and score against OpenSpiel MCTS during a run (iterations below, minutes
    on top), with the final match's win rate as a separate point; returns [(iteration, win rate)]."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from pathzero.agents.common.runlog import read_config, read_scalars

    scalars = read_scalars(run_dir, [WIN_TAG, SCORE_TAG, "charts/minutes"])
    wins, points, minutes = scalars[WIN_TAG], scalars[SCORE_TAG], scalars["charts/minutes"]
    config = read_config(run_dir)
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    during = (f"{config.get('eval_games')} games, {config.get('eval_simulations') or config.get('simulations')} "
              "simulations")
    if wins:
        ax.plot([p[0] for p in wins], [p[1] for p in wins], "o-", label=f"win rate ({during})")
    if points:
        ax.plot([p[0] for p in points], [p[1] for p in points], ".--", alpha=0.6, label="score (draw = 1/2)")
    if final is not None:
        ax.plot([final[0]], [final[1]], "*", ms=14, color="tab:red", label="final match: win rate")
    ax.axhline(0.9, color="grey", ls="--", lw=1, label="goal: 90%")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("self-play iterations")
    ax.set_ylabel("against OpenSpiel MCTS")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    last = max([p[0] for p in wins + points + minutes] + ([final[0]] if final else []) + [1])
    ax.set_xlim(0, last * 1.03)  # the minutes axis on top is not extrapolated past the run
    if len(minutes) > 1:
        steps, mins = np.array([m[0] for m in minutes]), np.array([m[1] for m in minutes])
        top = ax.secondary_xaxis("top", functions=(lambda x: np.interp(x, steps, mins),
                                                   lambda m: np.interp(m, mins, steps)))
        top.set_xticks(np.arange(0, mins[-1] + 1e-9, 20 if mins[-1] > 60 else 5))
        top.set_xlabel("wall-clock minutes (self-play, training and evaluation)")
    ax.set_title(f"pathzero AlphaZero on Connect Four vs OpenSpiel MCTS-{config.get('opponent_simulations')}", pad=28)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return wins


def connect_four(args) -> int:
    from dataclasses import replace

    from benchmarks.bench import machine, write_section
    from pathzero.agents.alphazero import AlphaZeroConfig, load_alphazero_checkpoint, load_player, train_alphazero
    from pathzero.agents.common.runlog import read_config
    from pathzero.agents.common.threads import one_torch_thread
    from pathzero.agents.players import OpenSpielMCTSPlayer, play_match
    from pathzero.envs import UsageError
    from pathzero.envs.boards import make_board_game

    if min(args.games, args.simulations, args.opponent_simulations, args.eval_simulations) < 1 or \
            args.eval_games < 0 or args.iterations < 0 or not args.minutes > 0:
        raise UsageError("--games and the --*simulations flags must be >= 1, --eval-games and --iterations >= 0, "
                         "and --minutes > 0")
    if args.run is None:
        cfg = replace(AlphaZeroConfig(**CONNECT_FOUR_RECIPE), logdir=args.logdir, max_minutes=args.minutes,
                      iterations=args.iterations or 1_000_000, seed=args.seed, eval_games=args.eval_games,
                      eval_simulations=args.eval_simulations, opponent_simulations=args.opponent_simulations)
        run_dir = train_alphazero(cfg)
    else:
        run_dir = Path(args.run)
        if not (run_dir / "config.json").is_file():
            raise UsageError(f"{run_dir} is not a run folder (no config.json); give a folder made by pathzero selfplay")
    config = read_config(run_dir)
    ckpt, _ = load_alphazero_checkpoint(run_dir)
    game = make_board_game("connect_four")
    player = load_player(run_dir, simulations=args.simulations, game="connect_four")
    opponent = OpenSpielMCTSPlayer(game, simulations=args.opponent_simulations, seed=args.seed)
    with one_torch_thread():
        match = play_match(game, player, opponent, args.games)
    win_rate = match.wins / match.games
    iterations, minutes = int(ckpt["iteration"]), float(ckpt.get("minutes", float("nan")))
    games = iterations * int(config["games_per_iteration"])
    plot = Path(args.plot)
    points = plot_connect_four_curve(run_dir, plot, final=(iterations, win_rate))
    selfplay = "pathzero selfplay " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in config.items()
        if k in CONNECT_FOUR_RECIPE or k in ("max_minutes", "seed"))
    command = (f"python -m benchmarks connect-four --minutes {args.minutes:g} --games {args.games} --simulations "
               f"{args.simulations} --opponent-simulations {args.opponent_simulations} --seed {args.seed}"
               + (f" --iterations {args.iterations}" if args.iterations else "")
               + (f" --run {run_dir}" if args.run else f" --eval-games {args.eval_games} --eval-simulations "
                  f"{args.eval_simulations}"))
    curve = ", ".join(f"{step}: {value:.2f}" for step, value in points) or "none logged"
    eval_minutes = ckpt.get("eval_minutes")  # runs before this was recorded do not have it
    training = "not recorded by this run" if eval_minutes is None else f"{minutes - float(eval_minutes):.1f} min"
    strong = win_rate >= 0.9 and match.games >= 50
    body = f"""## Strength: Connect Four self-play vs OpenSpiel MCTS

Measured {dt.date.today().isoformat()} on {machine()}. Command: `{command}`.

Training: `{selfplay}` ({iterations} iterations, {games:,} self-play
games in {minutes:.1f} minutes of wall time, evaluation games included; the time limit stops the run after
the iteration that passes it). Then the final network, searching
{args.simulations} MCTS simulations per move and playing its most visited move, meets OpenSpiel's C++
`MCTSBot` with {args.opponent_simulations} random-rollout simulations per move (UCT c = 2, solving terminal
positions) for {args.games} games, taking the first move in half of them.

| | result |
|---|---:|
| wall time of the run | {minutes:.1f} min |
| of which self-play and training (not evaluation games) | {training} |
| self-play games | {games:,} |
| final match (W / D / L) | {match.wins} / {match.draws} / {match.losses} |
| win rate | {win_rate:.0%} |
| score (draw = 1/2) | {match.score:.0%} |

Win rate during training ({config.get('eval_games')} games per point, iteration: win rate): {curve}.

![Connect Four training curve]({plot.name if plot.parent == Path(args.doc).parent else plot})

Goal, >= 90% wins in >= 50 games: {"met" if strong else "**not met**"}; after at most 2 hours of self-play:
{minutes:.1f} min of wall time, self-play and training {training}.
Run folder: `{run_dir}`.
"""
    write_section(Path(args.doc), "strength-connect-four", body, note=args.note)
    print(f"{minutes:.1f} min run ({iterations} iterations); vs OpenSpiel MCTS-{args.opponent_simulations}: "
          f"{match.wins}/{match.draws}/{match.losses} (W/D/L); written to {args.doc} and {plot}")
    return 0


def add_parsers(sub) -> dict:
    se = sub.add_parser("search", help="MCTS simulations/s on Connect Four: pathzero batched vs unbatched vs OpenSpiel")
    se.add_argument("--simulations", type=int, default=800, help="simulations per search (default: 800)")
    se.add_argument("--batch-sizes", default="8,16,32",
                    help="pathzero leaf batch sizes to compare with batch 1, comma-separated (default: 8,16,32)")
    se.add_argument("--searches", type=int, default=3, help="searches per position (default: 3)")
    se.add_argument("--side-by-side", type=int, default=32,
                    help="also time this many searches run in lockstep, sharing network calls, as self-play's "
                         "parallel games do (default: 32; 1: skip)")
    se.add_argument("--side-batch", type=int, default=4,
                    help="leaves per search per round in the side-by-side row (default: 4)")
    se.add_argument("--threads", type=int, default=1, help="torch threads (default: 1, like OpenSpiel's one core)")
    se.add_argument("--note", default="", help="a remark to add under the numbers")
    se.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    tt = sub.add_parser("tictactoe", help="pathzero selfplay --game tictactoe with its defaults over training seeds: "
                                          "time, then strength against perfect and random play")
    tt.add_argument("--train-seeds", type=int, default=5, help="training seeds 1..K (default: 5)")
    tt.add_argument("--compare-decisive", action="store_true",
                    help="train every seed again with --no-decisive-moves, the baseline in the same run")
    tt.add_argument("--logdir", default="runs/bench", help="where the self-play run goes (default: runs/bench)")
    tt.add_argument("--games", type=int, default=100, help="games against each opponent (default: 100)")
    tt.add_argument("--simulations", type=int, default=None,
                    help="MCTS simulations per move when evaluating (default: the self-play run's, the ones "
                         "it was trained with)")
    tt.add_argument("--seed", type=int, default=0, help="seed of the opponents' random choices (default: 0)")
    tt.add_argument("--workers", type=int, default=1, help="self-play processes (default: 1, the selfplay default)")
    tt.add_argument("--iterations", type=int, default=None,
                    help="self-play iterations (default: the selfplay default; fewer only for a quick check)")
    tt.add_argument("--note", default="", help="a remark to add under the numbers")
    tt.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    c4 = sub.add_parser("connect-four", help="Connect Four self-play for --minutes, then a match against "
                                             "OpenSpiel's MCTS bot; curve PNG")
    c4.add_argument("--minutes", type=float, default=120.0,
                    help="wall-time budget of the self-play run (default: 120, the goal's 2 hours)")
    c4.add_argument("--iterations", type=int, default=0,
                    help="stop after this many iterations if sooner (default: 0, only --minutes)")
    c4.add_argument("--run", default=None, help="skip training: evaluate this existing run folder")
    c4.add_argument("--logdir", default="runs/bench", help="where the self-play run goes (default: runs/bench)")
    c4.add_argument("--games", type=int, default=50, help="games of the final match (default: 50)")
    c4.add_argument("--simulations", type=int, default=400,
                    help="MCTS simulations per move of the network in the final match (default: 400)")
    c4.add_argument("--opponent-simulations", type=int, default=1000,
                    help="simulations per move of OpenSpiel's MCTS bot (default: 1000)")
    c4.add_argument("--eval-games", type=int, default=CONNECT_FOUR_RECIPE["eval_games"],
                    help="games per evaluation during training, every "
                         f"{CONNECT_FOUR_RECIPE['eval_every']} iterations (default: %(default)s)")
    c4.add_argument("--eval-simulations", type=int, default=CONNECT_FOUR_RECIPE["eval_simulations"],
                    help="the network's simulations per move in those games (default: %(default)s)")
    c4.add_argument("--seed", type=int, default=1, help="seed of the run and of the opponent (default: 1)")
    c4.add_argument("--plot", default="docs/connect_four_curve.png", help="where the curve PNG goes")
    c4.add_argument("--note", default="", help="a remark to add under the numbers")
    c4.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    return {"search": search, "tictactoe": tictactoe, "connect-four": connect_four}
