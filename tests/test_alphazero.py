"""AlphaZero self-play core: the loss, the examples a game yields, and that self-play learns."""
import math

import numpy as np
import pytest
import torch

from pathzero.agents.alphazero import SelfPlayConfig, alphazero_loss, board_net, play_game, self_play
from pathzero.agents.players import NetworkPlayer, RandomPlayer, play_match
from pathzero.envs.boards import TicTacToe
from pathzero.nets import DualOutput, NetConfig


def test_loss_by_hand():
    out = DualOutput(torch.tensor([[0.0, math.log(3.0)]]), torch.tensor([0.5]))  # p = [.25, .75]
    terms = alphazero_loss(out, policy=torch.tensor([[0.5, 0.5]]), outcome=torch.tensor([1.0]))
    assert terms.value.item() == pytest.approx(0.25)
    assert terms.policy.item() == pytest.approx(-(0.5 * math.log(0.25) + 0.5 * math.log(0.75)))
    assert terms.total.item() == pytest.approx(terms.value.item() + terms.policy.item())


def test_a_self_play_game_yields_symmetric_examples_with_signed_outcomes():
    game = TicTacToe()
    torch.manual_seed(0)
    examples = play_game(game, board_net(game), SelfPlayConfig(simulations=8), np.random.default_rng(0))
    assert len(examples) % 8 == 0  # eight symmetries per position
    positions = len(examples) // 8
    assert 5 <= positions <= 9
    for e in examples:
        assert e.planes.shape == (2, 3, 3) and e.policy.sum() == pytest.approx(1.0)
        assert e.policy[(e.planes.sum(0) > 0).reshape(-1)].sum() == 0  # no visits to occupied cells
    first, second = examples[0].outcome, examples[8].outcome  # consecutive moves: opposite players
    assert first == -second


def _match_against_random(game, model, games=100, seed=0, simulations=16):
    """Losses of 100 games; plain PUCT, so that what is measured is the network (decisive moves alone
    already save most of the untrained network's games)."""
    player = NetworkPlayer(game, model, simulations=simulations, decisive_moves=False)
    return play_match(game, player, RandomPlayer(game, seed=seed), games).losses


def test_short_self_play_almost_never_loses_to_random_tictactoe():
    game = TicTacToe()
    torch.manual_seed(0)
    untrained = _match_against_random(game, board_net(game).eval())
    assert untrained > 5  # the untrained net does lose
    model = self_play(game, iterations=10, seed=0)  # 160 games: a budget in games
    # A margin, not "exactly 0": seeds 0-3 lost 0 or 1 of 100 games after this budget (11-15 untrained),
    # and floating point differs between machines (seed 0 loses 1 game on one machine and none on another).
    assert _match_against_random(game, model) <= 3 < untrained / 3


def test_selfplay_command_writes_a_run_and_resumes(tmp_path):
    import json
    import subprocess
    import sys

    def pathzero(*args):
        return subprocess.run([sys.executable, "-m", "pathzero.scripts.cli", "selfplay", *map(str, args)],
                              capture_output=True, text=True, timeout=600)

    tiny = ["--games-per-iteration", 2, "--train-steps", 2, "--simulations", 8, "--eval-games", 2,
            "--logdir", tmp_path, "--no-progress"]
    result = pathzero("--game", "tic_tac_toe", "--iterations", 2, *tiny)
    assert result.returncode == 0, result.stderr
    (run_dir,) = tmp_path.iterdir()
    assert run_dir.name.startswith("tictactoe__alphazero__1__")
    ckpt = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert ckpt["format"] == "pathzero-alphazero" and ckpt["iteration"] == 2 and ckpt["buffer"]["outcome"].numel() > 0
    records = [json.loads(line) for line in (run_dir / "evaluation_games.jsonl").read_text().splitlines()]
    assert len(records) == 2 * 2 * 2  # iterations x opponents (random, perfect) x games
    assert {r["opponent"] for r in records} == {"random", "perfect"}
    resumed = pathzero("--resume", run_dir, "--iterations", 3, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["iteration"] == 3
    bad = pathzero("--game", "chess")
    assert bad.returncode == 2 and "unknown board game 'chess'" in bad.stderr and len(bad.stderr.splitlines()) == 1
    bad = pathzero("--simulations", 0)
    assert bad.returncode == 2 and "--simulations must be >= 1" in bad.stderr


TINY_RUN = dict(iterations=1, simulations=4, games_per_iteration=3, train_steps=1, batch_size=8, channels=8, blocks=1,
                eval_games=0, progress=False)


def test_worker_processes_play_the_serial_games_and_report_failures():
    from pathzero.agents.alphazero import SelfPlayError, SelfPlayWorkers

    game, cfg = TicTacToe(), SelfPlayConfig(simulations=4)
    torch.manual_seed(0)
    model = board_net(game)
    seeds = [11, 12, 13]
    serial = [e for s in seeds for e in play_game(game, model, cfg, np.random.default_rng(s))]
    with SelfPlayWorkers(game, model, cfg, workers=2) as workers:
        examples = workers.play(model, seeds)
        assert len(examples) == len(serial)
        for got, want in zip(examples, serial):
            assert np.array_equal(got.planes, want.planes) and np.allclose(got.policy, want.policy)
            assert got.outcome == want.outcome
        foreign = board_net(game, NetConfig(channels=4, blocks=1, hidden=8, norm="batch", value_tanh=True))
        with pytest.raises(SelfPlayError, match=r"worker \d failed: RuntimeError"):
            workers.play(foreign, seeds)  # weights of another shape
    with SelfPlayWorkers(game, model, cfg, workers=1) as workers:
        workers.procs[0].kill()
        with pytest.raises(SelfPlayError, match=r"worker 0 died \(exit code -9\)"):
            workers.play(model, seeds)


def test_a_run_with_two_workers_stores_every_game_and_a_checkpoint(tmp_path):
    from pathzero.agents.alphazero import AlphaZeroConfig, train_alphazero

    cfg = AlphaZeroConfig(workers=2, logdir=str(tmp_path), **{**TINY_RUN, "eval_games": 2})
    run_dir = train_alphazero(cfg)
    game = TicTacToe()
    torch.manual_seed(cfg.seed)
    model = board_net(game, cfg.net)  # the run's first network: the one its games were played with
    seeds = np.random.default_rng([cfg.seed, 0]).integers(2**31, size=cfg.games_per_iteration)
    expected = sum(len(play_game(game, model, cfg.selfplay, np.random.default_rng(int(s)))) for s in seeds)
    ckpt = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert ckpt["iteration"] == 1 and ckpt["config"]["workers"] == 2
    assert ckpt["buffer"]["outcome"].numel() == expected and expected >= 3 * 5 * 8
    # the Elo logged is the one the evaluation games against random give
    import json
    from pathzero.agents.players import elo_difference
    results = [json.loads(line)["result"] for line in (run_dir / "evaluation_games.jsonl").read_text().splitlines()
               if json.loads(line)["opponent"] == "random"]
    counts = [sum(r > 0 for r in results), sum(r == 0 for r in results), sum(r < 0 for r in results)]
    assert _scalars(run_dir, "eval/elo") == [pytest.approx(elo_difference(*counts), abs=1e-3)]


def test_elo_difference_by_hand():
    from pathzero.agents.players import elo_difference

    assert elo_difference(1, 0, 1) == 0 and elo_difference(0, 4, 0) == 0  # an even score: equal ratings
    assert elo_difference(3, 0, 1) == pytest.approx(400 * math.log10(3))  # 75%: 190.85
    assert elo_difference(6, 2, 2) == pytest.approx(147.19, abs=0.01)  # (6 + 1) / 10 = 70%: 400 log10(7 / 3)
    assert elo_difference(10, 0, 0) == pytest.approx(511.5, abs=0.1)  # clipped to 95%: 400 log10(19)
    assert elo_difference(0, 0, 10) == pytest.approx(-511.5, abs=0.1)
    assert elo_difference(100, 0, 0) == pytest.approx(400 * math.log10(199))  # 99.5%: the bound grows with games
    assert elo_difference(2, 3, 5) == pytest.approx(-elo_difference(5, 3, 2))  # the opponent's view
    expected_score = 1 / (1 + 10 ** (-elo_difference(6, 2, 2) / 400))
    assert expected_score == pytest.approx(0.7)  # the inverse of the logistic model
    with pytest.raises(ValueError):
        elo_difference(0, 0, 0)


def _scalars(run_dir, tag):
    from pathzero.agents.common.runlog import read_scalars

    return [value for _, value in read_scalars(run_dir, [tag])[tag]]


@pytest.mark.parametrize("threshold,accepted", [(0.0, True), (1.5, False)])
def test_the_gate_replaces_the_best_network_only_at_its_threshold(tmp_path, threshold, accepted):
    from pathzero.agents.alphazero import AlphaZeroConfig, load_alphazero_checkpoint, train_alphazero

    cfg = AlphaZeroConfig(gate_games=2, gate_threshold=threshold, logdir=str(tmp_path), **TINY_RUN)
    run_dir = train_alphazero(cfg)
    ckpt = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    torch.manual_seed(cfg.seed)
    first = board_net(TicTacToe(), cfg.net).state_dict()  # the run's first network
    assert not all(torch.equal(ckpt["model"][k], first[k]) for k in first)  # it trained
    kept = ckpt["model"] if accepted else first
    assert all(torch.equal(ckpt["best"][k], kept[k]) for k in kept)  # bit for bit
    _, loaded = load_alphazero_checkpoint(run_dir)  # players get the best network
    assert all(torch.equal(loaded.state_dict()[k], kept[k]) for k in kept)
    (score,) = _scalars(run_dir, "gate/win_rate")
    assert score in (0, 0.25, 0.5, 0.75, 1)  # two games, a draw counting half
    assert _scalars(run_dir, "gate/accepted") == [float(accepted)]
    if not accepted:  # a resumed run restores both networks: the best is still the first
        from dataclasses import replace
        train_alphazero(replace(cfg, iterations=2), resume=run_dir)
        ckpt = torch.load(run_dir / "checkpoint.pt", weights_only=True)
        assert ckpt["iteration"] == 2 and all(torch.equal(ckpt["best"][k], first[k]) for k in first)


def test_the_gate_arena_plays_distinct_games_from_random_openings():
    from pathzero.agents.alphazero import GATE_OPENING_PLIES, gate

    game = TicTacToe()
    torch.manual_seed(0)
    a, b = board_net(game), board_net(game)
    arena = gate(game, a, b, games=8, threshold=0.55, simulations=4, seed=0)
    games = [tuple(r["moves"]) for r in arena.match.records]
    assert len(set(games)) >= 5  # deterministic players from the empty board give only 2
    assert len({g[:GATE_OPENING_PLIES] for g in games}) == 4  # four openings, each played twice
    assert arena.score == (arena.match.wins + arena.match.draws / 2) / 8


def test_a_time_limit_stops_after_the_iteration_that_passes_it_and_evaluates_it(tmp_path):
    from pathzero.agents.alphazero import AlphaZeroConfig, train_alphazero

    # a limit every iteration passes: the run stops after its first, evaluated though eval_every is 3
    cfg = AlphaZeroConfig(logdir=str(tmp_path), max_minutes=1e-9, eval_every=3,
                          **{**TINY_RUN, "iterations": 5, "eval_games": 2})
    run_dir = train_alphazero(cfg)
    ckpt = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert ckpt["iteration"] == 1 and ckpt["minutes"] > ckpt["eval_minutes"] > 0
    assert len(_scalars(run_dir, "eval/win_rate_vs_random")) == 1
    assert _scalars(run_dir, "charts/games") == [cfg.games_per_iteration]


def test_evaluation_opponents_are_checked_where_they_enter():
    from pathzero.agents.alphazero import AlphaZeroConfig
    from pathzero.envs import UsageError

    assert AlphaZeroConfig().opponent_names == ["random", "perfect"]
    assert AlphaZeroConfig(game="connect_four").opponent_names == ["random"]
    assert AlphaZeroConfig(game="connect_four", eval_opponents="openspiel-mcts, random").opponent_names == [
        "openspiel-mcts", "random"]
    for game, names, message in [("tictactoe", "random,bogus", "unknown evaluation opponent 'bogus'"),
                                 ("tictactoe", "random,random", "names an opponent twice"),
                                 ("connect_four", "perfect", "only available for tic-tac-toe")]:
        with pytest.raises(UsageError, match=message):
            AlphaZeroConfig(game=game, eval_opponents=names)
