"""A self-play checkpoint as a player, and the board-game commands: evaluate, play, watch on records."""
import json
import subprocess
import sys

import pytest
import torch
from PIL import Image, ImageSequence

from pathzero.agents.alphazero import AlphaZeroConfig, load_player, train_alphazero
from pathzero.envs.boards import make_board_game, replay
from pathzero.errors import UsageError
from pathzero.scripts import evaluate, watch

TINY = dict(iterations=1, simulations=2, games_per_iteration=1, train_steps=1, batch_size=8, channels=8, blocks=1,
            eval_games=0, progress=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A run folder per game, each after one tiny self-play iteration (one game, one update)."""
    logdir = tmp_path_factory.mktemp("runs")
    return {game: train_alphazero(AlphaZeroConfig(game=game, logdir=str(logdir / game), **TINY))
            for game in ("tictactoe", "connect_four")}


def run_main(module, *args):
    """A command's main() in this process -> its exit code (output: capsys)."""
    with pytest.raises(SystemExit) as stop:
        module.main([str(a) for a in args])
    return stop.value.code


def one_line_error(capsys, *fragments):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    for fragment in fragments:
        assert fragment in err[0], err[0]


def test_load_player_takes_a_run_folder_or_its_checkpoint_and_finds_a_win(runs):
    run = runs["tictactoe"]
    for path in (run, run / "checkpoint.pt"):
        player = load_player(path, simulations=64, game="tic_tac_toe")
        assert player.game.name == "tictactoe"
        assert player.select_move([0, 3, 1, 4]) == 2  # x completes the top row: search sees the win
    assert load_player(runs["connect_four"], simulations=4).select_move([3]) in range(7)


def test_load_player_refuses_bad_paths_foreign_files_and_other_games(runs, tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_player(tmp_path / "nope.pt")
    foreign = tmp_path / "foreign.pt"
    torch.save({"format": "pathzero-a3c", "weights": torch.zeros(2)}, foreign)
    with pytest.raises(UsageError, match="not a pathzero-alphazero checkpoint"):
        load_player(foreign)
    with pytest.raises(UsageError, match="holds a tictactoe network, not connect_four"):
        load_player(runs["tictactoe"], game="connect4")
    with pytest.raises(UsageError, match="simulations must be >= 1"):
        load_player(runs["tictactoe"], simulations=0)


def test_evaluate_prints_the_score_and_records_every_game(runs):
    run = runs["tictactoe"]
    result = subprocess.run([sys.executable, "-m", "pathzero.scripts.evaluate", "--checkpoint", run, "--games", "4",
                             "--simulations", "4", "--seed", "3"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (run / "evaluate_random.jsonl").read_text().splitlines()]
    assert [r["player_seat"] for r in records] == [0, 1, 0, 1]  # both colours
    game = make_board_game("tictactoe")
    for r in records:
        assert (r["game"], r["opponent"], r["simulations"], r["seed"]) == ("tictactoe", "random", 4, 3)
        final = replay(game, r["moves"])
        assert game.is_terminal(final) and game.returns(final)[r["player_seat"]] == r["result"]
    wins, draws, losses = (sum(r["result"] > 0 for r in records), sum(r["result"] == 0 for r in records),
                           sum(r["result"] < 0 for r in records))
    assert f"total: {wins} wins, {draws} draws, {losses} losses" in result.stdout


def test_evaluate_against_perfect_play_and_openspiel_mcts(runs, tmp_path, capsys):
    records = tmp_path / "perfect.jsonl"
    assert run_main(evaluate, "--checkpoint", runs["tictactoe"], "--game", "tictactoe", "--opponent", "perfect",
                    "--games", 2, "--simulations", 4, "--records", records) == 0
    assert "0 wins" in capsys.readouterr().out.splitlines()[-2]  # a tiny network never beats perfect play
    assert len(records.read_text().splitlines()) == 2
    records = tmp_path / "mcts.jsonl"
    assert run_main(evaluate, "--checkpoint", runs["connect_four"], "--opponent", "openspiel-mcts",
                    "--opponent-simulations", 20, "--games", 2, "--simulations", 2, "--records", records) == 0
    (first, second) = [json.loads(line) for line in records.read_text().splitlines()]
    assert first["game"] == "connect_four" and first["opponent_simulations"] == 20 and second["player_seat"] == 1


def test_evaluate_bad_input_is_one_line_and_exit_code_2(runs, capsys):
    ttt, c4 = runs["tictactoe"], runs["connect_four"]
    cases = [(("--checkpoint", ttt, "--game", "chess"), "unknown board game 'chess'"),
             (("--checkpoint", ttt, "--game", "connect_four"), "holds a tictactoe network, not connect_four"),
             (("--checkpoint", ttt, "--simulations", 0), "--simulations must be >= 1"),
             (("--checkpoint", ttt, "--opponent-simulations", 0), "--opponent-simulations must be >= 1"),
             (("--checkpoint", c4, "--opponent", "perfect"), "perfect play is only available for tic-tac-toe"),
             (("--checkpoint", ttt, "--opponent", "stockfish"), "invalid choice: 'stockfish'"),
             (("--games", 2,), "required: --checkpoint")]
    for args, fragment in cases:
        assert run_main(evaluate, *args) == 2, args
        one_line_error(capsys, fragment)


def play(*args, stdin):
    return subprocess.run([sys.executable, "-m", "pathzero.scripts.play", *map(str, args)], input=stdin,
                          capture_output=True, text=True, timeout=600)


def test_play_explains_bad_moves_and_stops_at_end_of_input(runs):
    result = play("--checkpoint", runs["tictactoe"], "--simulations", 4, stdin="abc\n4\n4\n")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    out = result.stdout
    assert "'abc' is not a move" in out
    assert "4 is not a legal move now" in out  # the second 4: the cell is taken
    assert "agent plays" in out and "\n...\n.x.\n...\n" in out
    assert out.count("your move:") == 4 and out.rstrip().endswith("game abandoned")


def test_play_a_whole_game_with_the_agent_moving_first(runs):
    # trying every cell in order always finishes: a taken cell is refused and the next one tried
    result = play("--checkpoint", runs["tictactoe"], "--first", "agent", "--simulations", 4,
                  stdin="".join(f"{cell}\n" for cell in range(9)))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "you play o" in out and out.index("agent plays") < out.index("your move:")
    assert result.stdout.rstrip().splitlines()[-1] in ("you win", "draw", "the agent wins")
    assert play("--checkpoint", runs["tictactoe"], "--game", "connect_four", stdin="").returncode == 2


def test_watch_replays_a_record_and_draws_its_video(tmp_path, capsys):
    records = tmp_path / "games.jsonl"
    records.write_text(json.dumps({"game": "tictactoe", "moves": [0, 3, 1, 4, 2], "player_seat": 0}) + "\n"
                       + json.dumps({"game": "connect_four", "moves": [3, 3, 2]}) + "\n")
    video = tmp_path / "c4.gif"
    assert run_main(watch, records, "--game-index", 1, "--video", video) == 0
    out = capsys.readouterr().out
    assert out.count("0123456") == 4  # the empty board and one per move
    assert "move 3: x plays 2" in out and "the record ends before the game does" in out
    frames = [f.convert("RGB") for f in ImageSequence.Iterator(Image.open(video))]
    assert len(frames) == 4 and frames[0].size == (7 * 40, 6 * 40)
    assert frames[-1].getpixel((2 * 40 + 20, 5 * 40 + 20))[0] > 200  # x's disc at the bottom of column 2

    assert run_main(watch, records) == 0
    out = capsys.readouterr().out
    assert "player_seat 0" in out and out.rstrip().endswith("xxx\noo.\n...\nx wins")


def test_watch_refuses_bad_records_with_one_line(tmp_path, capsys):
    records = tmp_path / "bad.jsonl"
    records.write_text(json.dumps({"game": "tictactoe", "moves": [4, 4]}) + "\n" + "not json\n")
    cases = [((records,), "move 2 of the record: illegal tic-tac-toe move 4"),
             ((records, "--game-index", 1), "line 2 of"),
             ((records, "--game-index", 2), "out of range", "holds 2 game records"),
             ((tmp_path / "none.jsonl",), "does not exist")]
    for args, *fragments in cases:
        assert run_main(watch, *args) == 2, args
        one_line_error(capsys, *fragments)
