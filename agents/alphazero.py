"""AlphaZero-style self-play on board games with the same DualNet as the A3C agents.

The loop reads as a story: play games with MCTS guided by the latest network -> store
(planes, search policy, outcome) with the board's symmetries -> train the network on
(z - v)^2 - pi . log p (+ L2 through weight decay) -> repeat.

The serial core (self-play, replay buffer, training step) runs in the calling process;
`SelfPlayWorkers` plays the same games in worker processes (the main process trains), and
`train_alphazero` adds run folders, checkpoints and evaluation.
"""
from __future__ import annotations

import copy
import json
import multiprocessing as mp
import queue
import shutil
import signal
import time
import traceback
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from pathzero.agents.common.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from pathzero.agents.common.registry import AgentEntry, register
from pathzero.agents.common.runlog import RunLog, new_run_dir, truncate_jsonl, write_config
from pathzero.agents.common.spawn import WorkerStartError, refuse_training_at_import, start_workers
from pathzero.agents.common.threads import one_torch_thread
from pathzero.agents.common.trained import refuse_options
from pathzero.agents.mcts import MCTS, MCTSConfig, NetworkEvaluator, run_searches
from pathzero.agents.players import (OPPONENTS, MatchResult, NetworkPlayer, elo_difference, make_opponent, play_match,
                            random_openings, search_batch)
from pathzero.envs.boards import Game, make_board_game
from pathzero.errors import UsageError
from pathzero.nets import DualNet, NetConfig


@dataclass(frozen=True)
class SelfPlayConfig:
    """Sizes of a self-play run; defaults suit tic-tac-toe on a CPU."""

    simulations: int = 32
    """MCTS simulations per move."""
    mcts_batch: int = 0
    """Leaves of one search evaluated together (virtual loss); 0: agents.players.search_batch(simulations)."""
    parallel_games: int = 16
    """Self-play games played side by side, their leaves sharing each network call."""
    games_per_iteration: int = 16
    """Self-play games between two training phases."""
    temperature_moves: int = 2
    """Moves sampled in proportion to visit counts before play turns greedy."""
    opening_moves: int = 0
    """A game starts with k uniformly random legal moves, k drawn from 0..opening_moves, which are not
    learned from (their outcome would not be the position's value): positions after every kind of
    opening, the ones a varied opponent plays, are in the training data."""
    decisive_moves: bool = True
    """Searches know wins at once, the threats to block and proven wins and losses (an MCTS-solver:
    agents.mcts.MCTSConfig.decisive_moves)."""
    dirichlet_alpha: float = 1.0
    """Root noise concentration (about 10 / legal moves)."""
    dirichlet_fraction: float = 0.25
    """Share of noise in the root priors during self-play."""
    buffer_size: int = 20_000
    """Training examples kept (with symmetries)."""
    train_steps: int = 32
    """Minibatch updates per iteration."""
    batch_size: int = 128
    """Training minibatch size."""
    lr: float = 2e-3
    """Adam learning rate."""
    weight_decay: float = 1e-4
    """The L2 term c of AlphaZero's loss."""


class Example(NamedTuple):
    planes: np.ndarray  # [C, rows, cols] from the mover's view
    policy: np.ndarray  # [A] search visit distribution
    outcome: float  # the game's result for the mover: -1, 0 or 1


class LossTerms(NamedTuple):
    total: torch.Tensor
    value: torch.Tensor
    policy: torch.Tensor


def board_net(game: Game, cfg: NetConfig | None = None) -> DualNet:
    """The DualNet for a board game: batch norm and a tanh value head, as in AlphaGo Zero."""
    cfg = cfg or NetConfig(channels=32, blocks=2, hidden=64, norm="batch", value_hidden=32, value_tanh=True)
    return DualNet((2, game.rows, game.cols), game.num_actions, cfg)


def alphazero_loss(out, policy: torch.Tensor, outcome: torch.Tensor) -> LossTerms:
    """(z - v)^2 - pi . log p, averaged over the batch; policy [B, A], outcome [B]."""
    value = F.mse_loss(out.value, outcome)
    cross_entropy = -(policy * F.log_softmax(out.logits, dim=-1)).sum(-1).mean()
    return LossTerms(value + cross_entropy, value, cross_entropy)


def play_game(game: Game, model: DualNet, cfg: SelfPlayConfig, rng: np.random.Generator) -> list[Example]:
    """One self-play game; returns its examples, augmented with the board's symmetries."""
    return play_games(game, model, cfg, [rng])[0]


def play_games(game: Game, model: DualNet, cfg: SelfPlayConfig, rngs: list[np.random.Generator]) -> list[list[Example]]:
    """One self-play game per generator, played side by side: at every move the searches of all
    unfinished games run in lockstep, so each network call evaluates the leaves of all of them
    (on a CPU a batch of ~100 costs far less per position than a batch of 8). Game i draws its
    randomness from rngs[i] only, in the order a lone game would."""
    evaluator = NetworkEvaluator(game, model)
    mcts_cfg = MCTSConfig(simulations=cfg.simulations, batch_size=cfg.mcts_batch or search_batch(cfg.simulations),
                          decisive_moves=cfg.decisive_moves,
                          dirichlet_alpha=cfg.dirichlet_alpha, dirichlet_fraction=cfg.dirichlet_fraction)
    searches = [MCTS(game, evaluator, mcts_cfg, seed=int(rng.integers(2**31))) for rng in rngs]
    for search, rng in zip(searches, rngs):
        for _ in range(int(rng.integers(cfg.opening_moves + 1)) if cfg.opening_moves else 0):
            legal = game.legal_actions(search.root.state)
            if game.is_terminal(search.root.state) or not legal:
                break
            search.advance(int(legal[rng.integers(len(legal))]))
    histories: list[list[tuple[np.ndarray, np.ndarray, int]]] = [[] for _ in rngs]
    playing = [i for i, search in enumerate(searches) if not search.root.terminal]
    while playing:
        all_counts = run_searches([searches[i].searching() for i in playing], evaluator)
        for i, counts in zip(playing, all_counts):
            state, rng = searches[i].root.state, rngs[i]
            policy = counts / counts.sum()
            if len(histories[i]) < cfg.temperature_moves:  # the first searched moves (after any random opening)
                action = int(rng.choice(len(policy), p=policy))
            else:
                action = int(np.argmax(counts))
            histories[i].append((game.planes(state), policy.astype(np.float32), game.to_play(state)))
            searches[i].advance(action)
        playing = [i for i in playing if not searches[i].root.terminal]
    games = []
    for search, history in zip(searches, histories):
        returns = game.returns(search.root.state)
        games.append([Example(p, pi, returns[player]) for planes, policy, player in history
                      for p, pi in game.symmetries(planes, policy)])
    return games


def play_seeded_games(game: Game, model: DualNet, cfg: SelfPlayConfig, seeds: list[int]) -> list[Example]:
    """The games of `seeds`, `cfg.parallel_games` at a time, each with `np.random.default_rng(seed)`;
    their examples in the order of `seeds`."""
    examples = []
    for start in range(0, len(seeds), cfg.parallel_games):
        chunk = seeds[start:start + cfg.parallel_games]
        for played in play_games(game, model, cfg, [np.random.default_rng(s) for s in chunk]):
            examples.extend(played)
    return examples


def train_step(model: DualNet, optimizer: torch.optim.Optimizer, batch: list[Example]) -> LossTerms:
    planes = torch.from_numpy(np.stack([e.planes for e in batch]))
    policy = torch.from_numpy(np.stack([e.policy for e in batch]))
    outcome = torch.tensor([e.outcome for e in batch], dtype=torch.float32)
    model.train()
    loss = alphazero_loss(model(planes), policy, outcome)
    optimizer.zero_grad()
    loss.total.backward()
    optimizer.step()
    return loss


def self_play(game: Game, iterations: int, cfg: SelfPlayConfig = SelfPlayConfig(), seed: int = 0,
              model: DualNet | None = None) -> DualNet:
    """Serial self-play training for `iterations` iterations; returns the trained network."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = model or board_net(game)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    buffer: deque[Example] = deque(maxlen=cfg.buffer_size)
    for _ in range(iterations):
        run_iteration(game, model, optimizer, buffer, cfg, rng)
    return model.eval()


def run_iteration(game: Game, model: DualNet, optimizer: torch.optim.Optimizer, buffer: deque,
                  cfg: SelfPlayConfig, rng: np.random.Generator) -> list[LossTerms]:
    """One iteration: self-play games into the buffer, then minibatch training steps."""
    buffer.extend(play_seeded_games(game, model, cfg, game_seeds(rng, cfg.games_per_iteration)))
    return train_on_buffer(model, optimizer, buffer, cfg, rng)


def game_seeds(rng: np.random.Generator, games: int) -> list[int]:
    """One seed per self-play game, so that a game plays the same wherever it is played."""
    return [int(s) for s in rng.integers(2**31, size=games)]


def train_on_buffer(model: DualNet, optimizer: torch.optim.Optimizer, buffer: deque, cfg: SelfPlayConfig,
                    rng: np.random.Generator) -> list[LossTerms]:
    """`cfg.train_steps` minibatch updates on examples drawn uniformly from the buffer."""
    losses = []
    for _ in range(cfg.train_steps):
        idx = rng.integers(len(buffer), size=min(cfg.batch_size, len(buffer)))
        losses.append(train_step(model, optimizer, [buffer[i] for i in idx]))
    return losses


class GateResult(NamedTuple):
    score: float  # the candidate's (wins + draws / 2) / games
    accepted: bool
    match: MatchResult  # from the candidate's side


GATE_OPENING_PLIES = 2


def gate(game: Game, candidate: DualNet, best: DualNet, games: int, threshold: float,
         simulations: int, seed: int = 0) -> GateResult:
    """AlphaGo Zero's arena: `candidate` plays `games` games against `best`, taking the first move
    in half of them, each side searching `simulations` MCTS simulations per move with no root
    noise and playing its most visited move. The candidate's score counts a draw as half a win,
    (wins + draws / 2) / games, and it is accepted when score >= threshold (AlphaGo Zero: 0.55).

    Both sides are deterministic, so games from the empty board would repeat: each pair of games
    instead starts after GATE_OPENING_PLIES random moves (`random_openings` from `seed`), played
    once from each side."""
    openings = random_openings(game, (games + 1) // 2, GATE_OPENING_PLIES, seed)
    result = play_match(game, NetworkPlayer(game, candidate, simulations=simulations),
                        NetworkPlayer(game, best, simulations=simulations), games, openings=openings)
    return GateResult(result.score, result.score >= threshold, result)


# ----------------------------------------------------------------------------------------------
# Self-play in worker processes: the main process trains, `workers` processes play.

class SelfPlayError(RuntimeError):
    """A self-play worker process failed or died; the message says which and why."""


def _parent_gone() -> bool:
    """True in a worker process whose main process was killed: nobody listens, so stop."""
    parent = mp.parent_process()
    return parent is not None and not parent.is_alive()


def _selfplay_process(worker: int, game_name: str, description: dict, cfg: SelfPlayConfig, tasks, results) -> None:
    """A worker: one torch thread, Ctrl-C left to the main process. Each task is (weights, seeds):
    load the weights, play one game per seed with `np.random.default_rng(seed)`, send the examples."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    try:
        game = make_board_game(game_name)
        model = DualNet.from_description(description)
        while not _parent_gone():
            try:
                task = tasks.get(timeout=1.0)
            except queue.Empty:
                continue
            if task is None:
                return
            weights, seeds = task
            model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
            examples = play_seeded_games(game, model, cfg, seeds)
            results.put((worker, "ok", examples))
    except BaseException as exc:  # report why, then die
        last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" at {Path(last.filename).name}:{last.lineno}" if last else ""
        results.put((worker, "error", f"{type(exc).__name__}: {exc}{where}"))
        raise SystemExit(1)


class SelfPlayWorkers:
    """`workers` spawn-context processes, each with its own copy of the network, playing self-play
    games with the weights they are sent; started once per run, closed with `close()` (or `with`).

    `play(model, seeds)` plays one game per seed, game i as
    `play_game(game, model, cfg, np.random.default_rng(seeds[i]))` would in this process (each
    worker plays its share `cfg.parallel_games` at a time, see `play_seeded_games`), and returns
    the examples in the order of `seeds`. A worker that raises or dies makes `play` raise
    SelfPlayError naming it and the reason, and stops the others.
    """

    def __init__(self, game: Game, model: DualNet, cfg: SelfPlayConfig, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        ctx = mp.get_context("spawn")
        self.closed = False
        self.results = ctx.Queue()
        self.tasks = [ctx.Queue() for _ in range(workers)]
        self.procs = start_workers(_selfplay_process, [(w, game.name, model.describe(), cfg, self.tasks[w], self.results)
                                                       for w in range(workers)],
                                   [f"self-play worker {w}" for w in range(workers)])

    def play(self, model: DualNet, seeds: list[int]) -> list[Example]:
        # numpy arrays, not tensors: plain pickles, nothing shared that could outlive this call
        weights = {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}
        shares = np.array_split(np.asarray(seeds, dtype=np.int64), len(self.procs))
        pending = set()
        for w, share in enumerate(shares):
            if len(share):
                self.tasks[w].put((weights, [int(s) for s in share]))
                pending.add(w)
        done: dict[int, list[Example]] = {}
        while pending:
            try:
                worker, status, payload = self.results.get(timeout=0.5)
            except queue.Empty:
                dead = [w for w in sorted(pending) if self.procs[w].exitcode is not None]
                if not dead:
                    continue
                try:  # what it said before dying comes first
                    worker, status, payload = self.results.get(timeout=1.0)
                except queue.Empty:
                    self.close()
                    raise SelfPlayError(f"self-play worker {dead[0]} died (exit code "
                                        f"{self.procs[dead[0]].exitcode})") from None
            if status != "ok":
                self.close()
                raise SelfPlayError(f"self-play worker {worker} failed: {payload}")
            done[worker] = payload
            pending.discard(worker)
        return [e for w in sorted(done) for e in done[w]]

    def close(self) -> None:
        """Asks the workers to stop, then ends those that do not within a few seconds; idempotent."""
        if self.closed:
            return
        self.closed = True
        for p, tasks in zip(self.procs, self.tasks):
            if p.is_alive():
                tasks.put(None)
        deadline = time.monotonic() + 10
        for p in self.procs:
            p.join(timeout=max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.terminate()
                p.join()
        for q in (*self.tasks, self.results):
            # weights sent to a worker that died are never read; do not wait at exit to deliver them
            q.cancel_join_thread()
            q.close()

    def __enter__(self) -> "SelfPlayWorkers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ----------------------------------------------------------------------------------------------
# Runs: a run folder, checkpoints, evaluation, resume.

CHECKPOINT_FORMAT = "pathzero-alphazero"


@dataclass(frozen=True)
class AlphaZeroConfig:
    """A self-play run; stored as config.json in the run folder."""

    game: str = "tictactoe"
    """Board game: tictactoe (tic_tac_toe) or connect_four."""
    iterations: int = 20
    """Iterations of (self-play games, then training)."""
    simulations: int = 32
    """MCTS simulations per move in self-play."""
    seed: int = 1
    """Random seed."""
    logdir: str = "runs"
    """Folder under which <game>__alphazero__<seed>__<time>/ is created."""
    games_per_iteration: int = 16
    """Self-play games per iteration."""
    train_steps: int = 32
    """Minibatch updates per iteration."""
    batch_size: int = 128
    """Training minibatch size."""
    lr: float = 2e-3
    """Adam learning rate."""
    channels: int = 32
    """Channels of the residual tower."""
    blocks: int = 2
    """Residual blocks."""
    temperature_moves: int = 2
    """Opening moves of a self-play game sampled in proportion to visit counts; later moves are greedy."""
    opening_moves: int = 0
    """A self-play game starts with k uniformly random moves, k drawn from 0..opening_moves, not learned
    from: the network meets the positions after every opening a varied opponent may play."""
    decisive_moves: bool = True
    """Self-play and evaluation searches play out each move one more move by the rules when they expand
    a node, so they know every win at once and every threat to block, however small the network's prior
    for that move, and prove wins and losses up the tree (a fork is seen one move before the opponent can
    make it; Teytaud & Teytaud 2010, Winands et al. 2008); --no-decisive-moves: plain PUCT, as AlphaZero's
    pseudocode."""
    dirichlet_alpha: float = 1.0
    """Root noise concentration in self-play (about 10 / typical number of legal moves)."""
    buffer_size: int = 20_000
    """Training examples kept in the replay buffer (symmetries included); saved with the checkpoint."""
    eval_games: int = 20
    """Evaluation games against each reference opponent (0: none), both colours; eval/elo is the
network's Elo with the random player anchored at 0 (agents.players.elo_difference)."""
    eval_every: int = 1
    """Evaluate every this many iterations (and after the last one)."""
    eval_opponents: str = "default"
    """Comma-separated reference opponents: random, perfect (tic-tac-toe), openspiel-mcts; default:
random, and perfect for tic-tac-toe."""
    eval_simulations: int = 0
    """MCTS simulations per move of the network in evaluation games (0: --simulations)."""
    opponent_simulations: int = 1000
    """Simulations per move of the openspiel-mcts opponent."""
    max_minutes: float = 0.0
    """Stop after the first iteration that ends past this much wall time, counted from this start or
resume (0: no limit; --iterations still bounds the run)."""
    gate_games: int = 0
    """Arena games of each newly trained network against the best one (both colours of random 2-move
openings, no noise, most visited move); it replaces the best only if it scores >= --gate-threshold.
Self-play uses the best network. 0: no gate, self-play uses the latest network (AlphaZero)."""
    gate_threshold: float = 0.55
    """Score the new network needs in the arena, a draw counting as half a win: (wins + draws / 2) /
games (AlphaGo Zero: 0.55). 0 always accepts; above 1 never does (the first network stays best)."""
    parallel_games: int = 16
    """Self-play games each process plays side by side, their search leaves sharing each network call."""
    mcts_batch: int = 0
    """Leaves one search collects with virtual loss before they are evaluated (0: at most 8, and few
enough for >= 16 rounds per search: agents.players.search_batch)."""
    workers: int = 1
    """Self-play processes (one torch thread each) that play each iteration's games with the latest
weights, after which this process trains; 1 plays them in this process."""
    progress: bool = True
    """Show a progress bar."""

    def __post_init__(self) -> None:
        make_board_game(self.game)
        for name in ("iterations", "simulations", "games_per_iteration", "train_steps", "batch_size",
                     "channels", "workers", "parallel_games"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.eval_games < 0 or self.blocks < 0 or self.lr <= 0:
            raise UsageError("--eval-games and --blocks must be >= 0 and --lr > 0")
        for name in ("mcts_batch", "temperature_moves", "opening_moves", "eval_simulations", "max_minutes"):
            if not getattr(self, name) >= 0:
                raise UsageError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(self, name)}")
        for name in ("buffer_size", "eval_every", "opponent_simulations"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if not self.dirichlet_alpha > 0:
            raise UsageError(f"--dirichlet-alpha must be > 0, got {self.dirichlet_alpha}")
        self.opponent_names  # checks the names
        if self.gate_games < 0 or not self.gate_threshold >= 0:
            raise UsageError(f"--gate-games and --gate-threshold must be >= 0, got {self.gate_games} and "
                             f"{self.gate_threshold}")

    @property
    def selfplay(self) -> SelfPlayConfig:
        return SelfPlayConfig(simulations=self.simulations, games_per_iteration=self.games_per_iteration,
                              parallel_games=self.parallel_games, mcts_batch=self.mcts_batch,
                              temperature_moves=self.temperature_moves, opening_moves=self.opening_moves,
                              decisive_moves=self.decisive_moves,
                              dirichlet_alpha=self.dirichlet_alpha,
                              buffer_size=self.buffer_size,
                              train_steps=self.train_steps, batch_size=self.batch_size, lr=self.lr)

    @property
    def opponent_names(self) -> list[str]:
        """The evaluation opponents, checked: UsageError for an unknown name or a duplicate."""
        if self.eval_opponents.strip() == "default":
            return ["random", "perfect"] if make_board_game(self.game).name == "tictactoe" else ["random"]
        names = [n.strip() for n in self.eval_opponents.split(",") if n.strip()]
        for name in names:
            if name not in OPPONENTS:
                raise UsageError(f"unknown evaluation opponent {name!r}; choose from {', '.join(OPPONENTS)} "
                                 "(comma-separated), or default")
        if len(set(names)) != len(names):
            raise UsageError(f"--eval-opponents names an opponent twice: {self.eval_opponents!r}")
        if "perfect" in names and make_board_game(self.game).name != "tictactoe":
            raise UsageError("the perfect opponent is only available for tic-tac-toe")
        return names

    @property
    def net(self) -> NetConfig:
        return NetConfig(channels=self.channels, blocks=self.blocks, hidden=64, norm="batch", value_hidden=32,
                         value_tanh=True)


def _buffer_tensors(buffer) -> dict:
    if not buffer:
        return {"planes": torch.zeros(0), "policy": torch.zeros(0), "outcome": torch.zeros(0)}
    return {"planes": torch.from_numpy(np.stack([e.planes for e in buffer])),
            "policy": torch.from_numpy(np.stack([e.policy for e in buffer])),
            "outcome": torch.tensor([e.outcome for e in buffer], dtype=torch.float32)}


def _buffer_examples(saved: dict) -> list[Example]:
    if saved["outcome"].numel() == 0:
        return []
    return [Example(p.numpy(), q.numpy(), float(z))
            for p, q, z in zip(saved["planes"], saved["policy"], saved["outcome"])]


def load_alphazero_checkpoint(path) -> tuple[dict, DualNet]:
    """A checkpoint file or run folder -> (checkpoint dict, DualNet with the run's best weights:
    the network that passed the last gate, or with no gate the latest)."""
    ckpt = load_checkpoint(path, CHECKPOINT_FORMAT)
    try:
        model = DualNet.from_description(ckpt)
        model.load_state_dict(ckpt.get("best", ckpt["model"]))
    except (KeyError, TypeError, RuntimeError, ValueError) as exc:
        raise UsageError(f"{path} holds a damaged or foreign network ({type(exc).__name__}); "
                         "use a checkpoint written by pathzero selfplay") from None
    return ckpt, model.eval()


def load_player(checkpoint, simulations: int = 64, game: str | None = None,
                batch_size: int | None = None, decisive_moves: bool = True) -> NetworkPlayer:
    """The network in `checkpoint` (a file or run folder written by `pathzero selfplay`) guiding
    MCTS with `simulations` per move, as a player: `select_move(history) -> action` on
    OpenSpiel-compatible actions; `.game` is its board game. With `game`, a checkpoint of another
    game is refused (UsageError), as are missing or foreign files."""
    wanted = make_board_game(game) if game is not None else None
    ckpt, model = load_alphazero_checkpoint(checkpoint)
    board = make_board_game(str(ckpt.get("game", "")))
    if wanted is not None and wanted.name != board.name:
        raise UsageError(f"{checkpoint} holds a {board.name} network, not {wanted.name}; "
                         f"give a checkpoint trained on {wanted.name}, or --game {board.name}")
    return NetworkPlayer(board, model, simulations=simulations, batch_size=batch_size, decisive_moves=decisive_moves)


def evaluate_against(game: Game, model: DualNet, opponents: dict, cfg: AlphaZeroConfig, run_dir: Path,
                     iteration: int) -> dict[str, float]:
    """`cfg.eval_games` games of `model` against each opponent, both colours; appends them to the
    run's evaluation_games.jsonl and returns the eval/* scalars."""
    scalars = {}
    player = NetworkPlayer(game, model, simulations=cfg.eval_simulations or cfg.simulations,
                           decisive_moves=cfg.decisive_moves)
    with (run_dir / "evaluation_games.jsonl").open("a") as f:
        for name, opponent in opponents.items():
            result = play_match(game, player, opponent, cfg.eval_games)
            scalars[f"eval/win_rate_vs_{name}"] = result.wins / result.games
            scalars[f"eval/score_vs_{name}"] = result.score
            scalars[f"eval/loss_rate_vs_{name}"] = result.losses / result.games
            if name == "random":  # Elo with the random player anchored at 0
                scalars["eval/elo"] = elo_difference(result.wins, result.draws, result.losses)
            for record in result.records:
                f.write(json.dumps({**record, "iteration": iteration, "opponent": name}) + "\n")
    return scalars


def train_alphazero(cfg: AlphaZeroConfig, resume=None):
    """Self-play training as `cfg` says, or the continuation of the run in `resume`; returns
    the run folder. Each iteration ends with a checkpoint, so Ctrl-C loses at most one.

    Two networks: `model`, the latest, which trains, and `best`, which plays the self-play games
    and the evaluations. Without a gate they are one network; with one, `best` is replaced by
    `model` when it passes the arena. The checkpoint holds both ("model" and "best")."""
    refuse_training_at_import()
    game = make_board_game(cfg.game)
    torch.manual_seed(cfg.seed)
    model = board_net(game, cfg.net)
    best = copy.deepcopy(model) if cfg.gate_games else model
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=SelfPlayConfig().weight_decay)
    buffer: deque[Example] = deque(maxlen=cfg.buffer_size)
    iteration = 0
    if resume is not None:
        run_dir = Path(resume)
        if not run_dir.is_dir():
            raise UsageError(f"run folder {run_dir} does not exist; give a folder made by pathzero selfplay")
        ckpt = load_checkpoint(run_dir, CHECKPOINT_FORMAT)
        if ckpt["game"] != game.name or ckpt["net"] != asdict(cfg.net):
            raise UsageError(f"{run_dir} holds a {ckpt['game']} network of another shape or game; "
                             "resume it with its own settings")
        model.load_state_dict(ckpt["model"])
        if best is not model:
            best.load_state_dict(ckpt.get("best", ckpt["model"]))
        optimizer.load_state_dict(ckpt["optimizer"])
        buffer.extend(_buffer_examples(ckpt["buffer"]))
        iteration = ckpt["iteration"]
        if iteration >= cfg.iterations:
            raise UsageError(f"{run_dir} has done {iteration} of {cfg.iterations} iterations; raise --iterations")
        games = run_dir / "evaluation_games.jsonl"
        if games.exists():  # games of an iteration after the checkpoint are played again
            truncate_jsonl(games, "iteration", iteration)
    else:
        run_dir = new_run_dir(cfg.logdir, game.name, "alphazero", cfg.seed)
    write_config(run_dir, cfg, agent="alphazero")
    rng = np.random.default_rng([cfg.seed, iteration])
    log = RunLog(run_dir, purge_step=iteration if resume is not None else None, episodes=False)
    opponents = {name: make_opponent(name, game, seed=cfg.seed, simulations=cfg.opponent_simulations)
                 for name in cfg.opponent_names}
    started = time.monotonic()
    minutes_before = 0.0 if resume is None else float(ckpt.get("minutes", 0.0))
    eval_minutes = 0.0 if resume is None else float(ckpt.get("eval_minutes", 0.0))  # spent in evaluation games

    def minutes() -> float:  # of this run, resumes included
        return minutes_before + (time.monotonic() - started) / 60

    def out_of_time() -> bool:
        return bool(cfg.max_minutes) and minutes() - minutes_before >= cfg.max_minutes
    bar = tqdm(total=cfg.iterations, initial=iteration, unit="iter", disable=not cfg.progress,
               desc=f"alphazero {game.name}")
    try:
        workers = SelfPlayWorkers(game, model, cfg.selfplay, cfg.workers) if cfg.workers > 1 else None
    except (WorkerStartError, KeyboardInterrupt):
        bar.close()
        log.close()
        if resume is None:  # the run never began: nothing to keep
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    try:
        while iteration < cfg.iterations:
            seeds = game_seeds(rng, cfg.games_per_iteration)
            if workers is None:  # without a gate, exactly run_iteration
                with one_torch_thread():
                    buffer.extend(play_seeded_games(game, best, cfg.selfplay, seeds))
            else:
                try:
                    buffer.extend(workers.play(best, seeds))
                except SelfPlayError as exc:
                    kept = (f"the checkpoint of iteration {iteration} is kept; resume with `pathzero selfplay "
                            f"--resume {run_dir}`" if iteration else "no iteration was saved")
                    raise SelfPlayError(f"{exc} — {kept}") from None
            losses = train_on_buffer(model, optimizer, buffer, cfg.selfplay, rng)
            iteration += 1
            scalars = {"losses/value": float(np.mean([l.value.item() for l in losses])),
                       "losses/policy": float(np.mean([l.policy.item() for l in losses])),
                       "charts/buffer_size": len(buffer), "charts/games": iteration * cfg.games_per_iteration,
                       "charts/minutes": minutes()}
            if cfg.gate_games:
                with one_torch_thread():
                    arena = gate(game, model, best, cfg.gate_games, cfg.gate_threshold, cfg.simulations,
                                 seed=int(rng.integers(2**31)))
                scalars["gate/win_rate"] = arena.score
                scalars["gate/accepted"] = float(arena.accepted)
                if arena.accepted:
                    best.load_state_dict(model.state_dict())
            if cfg.eval_games and (iteration % cfg.eval_every == 0 or iteration == cfg.iterations or out_of_time()):
                eval_start = time.monotonic()
                with one_torch_thread():
                    scalars.update(evaluate_against(game, best, opponents, cfg, run_dir, iteration))
                eval_minutes += (time.monotonic() - eval_start) / 60
                scalars["charts/eval_minutes"] = eval_minutes
            log.scalars(scalars, iteration)
            log.flush()
            save_checkpoint(run_dir / CHECKPOINT_NAME, {
                "format": CHECKPOINT_FORMAT, "version": 1, "game": game.name, "config": asdict(cfg),
                **model.describe(), "model": model.state_dict(), "best": best.state_dict(),
                "optimizer": optimizer.state_dict(),
                "buffer": _buffer_tensors(buffer), "iteration": iteration, "minutes": minutes(),
                "eval_minutes": eval_minutes})
            bar.update(1)
            bar.set_postfix({k.split("/")[1]: round(v, 2) for k, v in scalars.items() if k.startswith("eval/")})
            if out_of_time():
                break
    finally:
        if workers is not None:
            workers.close()
        bar.close()
        log.close()
    return run_dir


class BoardAgent:
    """A self-play network guiding MCTS on its board game."""

    def __init__(self, player, frames_or_iteration: int = 0) -> None:
        self.player, self.game, self.iteration = player, player.game, frames_or_iteration

    def __repr__(self) -> str:
        return f"<pathzero alphazero agent on {self.game.name}, iteration {self.iteration}>"

    def act(self, history: list[int]) -> int:
        """The move to play after `history` (the OpenSpiel action numbers played so far)."""
        return self.player.select_move(list(history))

    def match(self, episodes: int = 10, *, opponent: str = "random", seed: int = 0,
              opponent_simulations: int = 1000):
        """A match of `episodes` games, both colours: wins, draws, losses and every game's record."""
        from pathzero.agents.players import make_opponent, play_match

        if episodes < 1:
            raise UsageError(f"episodes must be >= 1, got {episodes}")
        rival = make_opponent(opponent, self.game, seed=seed, simulations=opponent_simulations)
        return play_match(self.game, self.player, rival, episodes)

    def evaluate(self, episodes: int = 10, *, opponent: str = "random", seed: int = 0,
                 opponent_simulations: int = 1000) -> list[float]:
        """Each game's result for the agent (+1 win, 0 draw, -1 loss), moving first in every other game."""
        result = self.match(episodes, opponent=opponent, seed=seed, opponent_simulations=opponent_simulations)
        return [float(r["result"]) for r in result.records]


def load_agent(path: str | Path, *, task: str | None = None, greedy: bool = False, seed: int = 0,
               game: str | None = None, simulations: int | None = None) -> BoardAgent:
    """A self-play checkpoint's network guiding MCTS (`simulations` per move, default 64); with `game`, a
    checkpoint of another board game is refused."""
    refuse_options("alphazero", task=task)
    return BoardAgent(load_player(path, simulations=64 if simulations is None else simulations, game=game))


register(AgentEntry(name="alphazero", config=AlphaZeroConfig, train=train_alphazero, load=load_agent,
                    checkpoint_format=CHECKPOINT_FORMAT, command="selfplay",
                    description="AlphaZero-style self-play with MCTS on tic-tac-toe or Connect Four",
                    resumable=frozenset({"iterations", "progress", "eval_games", "workers", "parallel_games",
                                         "max_minutes", "eval_every", "eval_opponents", "eval_simulations",
                                         "opponent_simulations"}),
                    legacy_keys=frozenset({"iterations", "simulations"})))
