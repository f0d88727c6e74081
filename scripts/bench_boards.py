"""Board-game benchmarks for `pathzero bench`:

    pathzero bench search                 # MCTS simulations/s on Connect Four: pathzero vs OpenSpiel
    pathzero bench tictactoe              # `pathzero selfplay` defaults: wall time, then strength

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


def pathzero_search(batch_size: int, simulations: int) -> Callable[[list[int], int], int]:
    """pathzero MCTS with an (untrained) board_net evaluator, `batch_size` leaves per forward pass."""
    import torch

    from agents.alphazero import AlphaZeroConfig, board_net
    from agents.mcts import MCTS, MCTSConfig, NetworkEvaluator
    from envs.boards import ConnectFour, replay

    game = ConnectFour()
    torch.manual_seed(0)
    evaluator = NetworkEvaluator(game, board_net(game, AlphaZeroConfig().net).eval())
    cfg = MCTSConfig(simulations=simulations, batch_size=batch_size)

    def run(moves: list[int], seed: int) -> int:
        search = MCTS(game, evaluator, cfg, seed=seed)
        search.reset(replay(game, moves))
        return int(search.search().sum())
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

    from agents.alphazero import AlphaZeroConfig
    from envs import UsageError
    from scripts.bench import machine, write_section

    net = AlphaZeroConfig()
    try:
        batch_sizes = [int(b) for b in str(args.batch_sizes).split(",") if b.strip()]
    except ValueError:
        raise UsageError(f"--batch-sizes takes comma-separated integers such as 8,16, got {args.batch_sizes!r}") from None
    if args.simulations < 1 or args.searches < 1 or args.threads < 1 or not batch_sizes or min(batch_sizes) < 1:
        raise UsageError("--simulations, --searches, --threads and every --batch-sizes entry must be >= 1")
    positions = [[]] + [list(p) for p in MIDGAME_POSITIONS]
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        rows = []  # (what, rates per position + overall)
        pathzero_batches = [1] + [b for b in batch_sizes if b != 1]
        for b in pathzero_batches:
            label = f"pathzero MCTS, network evaluator, batch {b}" + (" (unbatched)" if b == 1 else "")
            rows.append((label, simulations_per_second(pathzero_search(b, args.simulations), positions, args.searches)))
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
    command = (f"pathzero bench search --simulations {args.simulations} --batch-sizes {args.batch_sizes} "
               f"--searches {args.searches} --threads {args.threads}")
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

Batched / unbatched pathzero: **{best[1][-1] / unbatched:.2f}x** at its best ({best[0].split(', ')[-1]}; goal >= 5x).
{openspiel_note}"""
    if args.note:
        body += "\n" + args.note.strip() + "\n"
    write_section(Path(args.doc), "search-connect-four", body)
    print(f"batched / unbatched: {best[1][-1] / unbatched:.2f}x; written to {args.doc}")
    return 0


def tictactoe(args) -> int:
    from dataclasses import replace

    from agents.alphazero import AlphaZeroConfig, load_player, train_alphazero
    from agents.players import PerfectPlayer, RandomPlayer, elo_difference, play_match
    from envs import UsageError
    from envs.boards import make_board_game
    from scripts.bench import machine, write_section

    cfg = AlphaZeroConfig(game="tictactoe", logdir=args.logdir, workers=args.workers)
    if args.iterations is not None:
        cfg = replace(cfg, iterations=args.iterations)
    simulations = cfg.simulations if args.simulations is None else args.simulations
    if args.games < 1 or simulations < 1:
        raise UsageError("--games and --simulations must be >= 1")
    start = time.perf_counter()
    run_dir = train_alphazero(cfg)
    wall = time.perf_counter() - start
    game = make_board_game("tictactoe")
    player = load_player(run_dir, simulations=simulations, game="tictactoe")
    perfect = play_match(game, player, PerfectPlayer(game, seed=args.seed), args.games)
    randomly = play_match(game, player, RandomPlayer(game, seed=args.seed), args.games)
    selfplay = "pathzero selfplay --game tictactoe" + (f" --workers {args.workers}" if args.workers != 1 else "") + \
        (f" --iterations {args.iterations}" if args.iterations is not None else "")
    command = (f"pathzero bench tictactoe --games {args.games} --simulations {simulations} --seed {args.seed}"
               + (f" --workers {args.workers}" if args.workers != 1 else "")
               + (f" --iterations {args.iterations}" if args.iterations is not None else ""))
    verdict = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    body = f"""## Strength: tic-tac-toe self-play

Measured {dt.date.today().isoformat()} on {machine()}. Command: `{command}`.

Training is `{selfplay}` with every other setting at its default ({cfg.iterations} iterations x
{cfg.games_per_iteration} games, {cfg.simulations} simulations per move, {cfg.train_steps} updates of
{cfg.batch_size}; evaluation during training included). The final network then plays with {simulations}
MCTS simulations per move, the most visited move, {args.games} games per opponent taking the first move in
half of them.

| | result |
|---|---:|
| training wall time | {wall / 60:.1f} min ({wall:.0f} s) |
| vs perfect play (W / D / L) | {perfect.wins} / {perfect.draws} / {perfect.losses} |
| vs random play (W / D / L) | {randomly.wins} / {randomly.draws} / {randomly.losses} |
| Elo vs random (anchored at 0) | {elo_difference(randomly.wins, randomly.draws, randomly.losses):.0f} |

Goals: training within 10 minutes here: {verdict(wall <= 600)}; never losing to perfect play:
{verdict(perfect.losses == 0)}. Run folder: `{run_dir}`.
"""
    if args.note:
        body += "\n" + args.note.strip() + "\n"
    write_section(Path(args.doc), "strength-tictactoe", body)
    print(f"trained in {wall:.0f} s; vs perfect {perfect.wins}/{perfect.draws}/{perfect.losses}, vs random "
          f"{randomly.wins}/{randomly.draws}/{randomly.losses} (W/D/L); written to {args.doc}")
    return 0


def add_parsers(sub) -> dict:
    se = sub.add_parser("search", help="MCTS simulations/s on Connect Four: pathzero batched vs unbatched vs OpenSpiel")
    se.add_argument("--simulations", type=int, default=800, help="simulations per search (default: 800)")
    se.add_argument("--batch-sizes", default="8,16",
                    help="pathzero leaf batch sizes to compare with batch 1, comma-separated (default: 8,16)")
    se.add_argument("--searches", type=int, default=3, help="searches per position (default: 3)")
    se.add_argument("--threads", type=int, default=1, help="torch threads (default: 1, like OpenSpiel's one core)")
    se.add_argument("--note", default="", help="a remark to add under the numbers")
    se.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    tt = sub.add_parser("tictactoe", help="pathzero selfplay --game tictactoe with its defaults: time, then strength")
    tt.add_argument("--logdir", default="runs/bench", help="where the self-play run goes (default: runs/bench)")
    tt.add_argument("--games", type=int, default=100, help="games against each opponent (default: 100)")
    tt.add_argument("--simulations", type=int, default=None,
                    help="MCTS simulations per move when evaluating (default: the self-play run's)")
    tt.add_argument("--seed", type=int, default=0, help="seed of the opponents' random choices (default: 0)")
    tt.add_argument("--workers", type=int, default=1, help="self-play processes (default: 1, the selfplay default)")
    tt.add_argument("--iterations", type=int, default=None,
                    help="self-play iterations (default: the selfplay default; fewer only for a quick check)")
    tt.add_argument("--note", default="", help="a remark to add under the numbers")
    tt.add_argument("--doc", default=DEFAULT_DOC, help="markdown file to update (default: docs/BENCHMARKS.md)")
    return {"search": search, "tictactoe": tictactoe}
