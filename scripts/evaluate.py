"""`pathzero evaluate`: a self-play network (with MCTS) against a reference opponent, both colours.

    pathzero evaluate --checkpoint runs/tictactoe__alphazero__1__... --opponent perfect --games 20
    pathzero evaluate --game connect_four --checkpoint runs/connect_four__alphazero__1__... \\
        --opponent openspiel-mcts --opponent-simulations 1000 --games 10 --simulations 200

Prints wins, draws and losses (overall and by colour) and writes every game as one JSON line
(game, moves, player_seat, result and the match's settings), which `pathzero watch` replays.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from pathzero.errors import UsageError
from pathzero.scripts.common import ArgumentParser, add_config_flags, field_docs, given, run_command


@dataclass(frozen=True)
class EvaluateConfig:
    """One evaluation match."""

    checkpoint: str
    """A checkpoint written by pathzero selfplay, or its run folder."""
    game: str | None = None
    """Board game the checkpoint must be for, tictactoe (tic_tac_toe) or connect_four; None: the checkpoint's game."""
    opponent: str = "random"
    """Reference opponent: random, perfect (minimax; tic-tac-toe only) or openspiel-mcts (OpenSpiel's MCTS
    bot with random rollouts)."""
    opponent_simulations: int = 1000
    """MCTS simulations per move of the openspiel-mcts opponent."""
    games: int = 20
    """Games to play; the agent moves first in every other game."""
    simulations: int = 64
    """MCTS simulations per move of the agent."""
    seed: int = 0
    """Seed of the opponent's random choices."""
    records: str | None = None
    """JSON-lines file for the games, overwritten; None: evaluate_<opponent>.jsonl in the checkpoint's run folder."""

    def __post_init__(self) -> None:
        for name in ("opponent_simulations", "games", "simulations"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")

    @property
    def records_path(self) -> Path:
        if self.records is not None:
            return Path(self.records)
        folder = Path(self.checkpoint) if Path(self.checkpoint).is_dir() else Path(self.checkpoint).parent
        return folder / f"evaluate_{self.opponent}.jsonl"


def build_parser(prog: str = "pathzero evaluate") -> ArgumentParser:
    from pathzero.agents.players import OPPONENTS

    parser = ArgumentParser(prog=prog, description="Play a self-play network against a reference opponent, "
                                                   "both colours, and record every game.")
    parser.add_argument("--checkpoint", required=True, help=field_docs(EvaluateConfig)["checkpoint"])
    add_config_flags(parser, EvaluateConfig, skip=("checkpoint",), choices={"opponent": OPPONENTS})
    return parser


def main(argv: list[str] | None = None, prog: str = "pathzero evaluate") -> None:
    args = build_parser(prog).parse_args(argv)

    def body() -> int:
        from pathzero.agents.alphazero import load_player
        from pathzero.agents.api import BoardAgent

        cfg = EvaluateConfig(**given(args, EvaluateConfig))
        agent = BoardAgent(load_player(cfg.checkpoint, simulations=cfg.simulations, game=cfg.game))
        game = agent.game
        print(f"{game.name}: agent ({cfg.simulations} simulations) vs {cfg.opponent}, {cfg.games} games")
        result = agent.match(cfg.games, opponent=cfg.opponent, seed=cfg.seed,
                             opponent_simulations=cfg.opponent_simulations)
        settings = {k: v for k, v in asdict(cfg).items() if k not in ("game", "records")}
        path = cfg.records_path
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w") as f:
            for record in result.records:
                f.write(json.dumps({**record, **settings}) + "\n")
        for seat, colour in ((0, "x, moving first"), (1, "o, moving second")):
            scores = [r["result"] for r in result.records if r["player_seat"] == seat]
            print(f"  as {colour}: {_tally(scores)}")
        print(f"total: {_tally([r['result'] for r in result.records])}")
        print(f"records: {path}")
        return 0

    run_command(prog, body)


def _tally(results: list[float]) -> str:
    wins, draws, losses = (sum(r > 0 for r in results), sum(r == 0 for r in results), sum(r < 0 for r in results))
    return f"{wins} wins, {draws} draws, {losses} losses"


if __name__ == "__main__":
    main()
