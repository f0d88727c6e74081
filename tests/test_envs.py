"""make_env: names, observation formats, unclipped scores, and clear errors."""
import numpy as np
import pytest

from pathzero.envs import UsageError, make_env, resolve_game


@pytest.mark.parametrize("name", ["Pong", "pong", "ALE/Pong-v5", "PONG"])
def test_pong_names(name):
    assert resolve_game(name).env_id == "ALE/Pong-v5"


@pytest.mark.parametrize("name", ["space_invaders", "SpaceInvaders", "ALE/SpaceInvaders-v5"])
def test_space_invaders_names(name):
    spec = resolve_game(name)
    assert spec.env_id == "ALE/SpaceInvaders-v5" and spec.kind == "ale" and spec.frames_per_step == 4


def test_ale_observation_and_protocol():
    env = make_env("Pong")
    obs, info = env.reset(seed=3)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    inner = env.unwrapped
    assert inner.spec.kwargs["frameskip"] == 1  # frame skipping is AtariPreprocessing's
    assert inner.ale.getFloat("repeat_action_probability") == pytest.approx(0.25)
    assert inner.spec.kwargs["max_num_frames_per_episode"] == 108_000
    obs, reward, terminated, truncated, info = env.step(0)
    assert obs.shape == (4, 84, 84)
    env.close()


def _play(env, seed, steps=3000):
    env.reset(seed=seed)
    env.action_space.seed(seed)
    rewards = []
    for _ in range(steps):
        _, r, term, trunc, info = env.step(env.action_space.sample())
        rewards.append(r)
        if term or trunc:
            return rewards, info["episode"]["r"]
    pytest.fail("episode did not end")


def test_clipped_training_reward_but_unclipped_score():
    clipped, score_clipped_env = _play(make_env("SpaceInvaders", clip_rewards=True), seed=5)
    raw, score_raw_env = _play(make_env("SpaceInvaders"), seed=5)
    assert max(clipped) <= 1.0 and sum(clipped) < sum(raw)  # invaders are worth 5 to 30 points
    assert score_clipped_env == pytest.approx(sum(raw)) == pytest.approx(score_raw_env)


def test_minatar_through_make_env():
    spec = resolve_game("MinAtar/Breakout")
    assert spec.kind == "minatar" and spec.frames_per_step == 1
    env = make_env(spec)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 10, 10) and obs.dtype == np.bool_ and obs.any()
    obs, *_ = env.step(0)
    assert obs.shape == (4, 10, 10)
    assert resolve_game("minatar/space_invaders").env_id == "MinAtar/SpaceInvaders-v1"


def test_cartpole_through_make_env():
    spec = resolve_game("CartPole-v1")
    assert spec.kind == "gym"
    obs, _ = make_env(spec).reset(seed=0)
    assert obs.shape == (4,)


def test_unknown_game_lists_close_names():
    with pytest.raises(UsageError, match=r"unknown game 'Pongg'; did you mean Pong") as err:
        resolve_game("Pongg")
    assert "\n" not in str(err.value)
    with pytest.raises(UsageError, match="CartPole-v1"):
        resolve_game("Cartpole")
    with pytest.raises(UsageError, match="MinAtar/Breakout"):
        resolve_game("MinAtar/Brekout")


def test_continuous_action_space_is_refused():
    with pytest.raises(UsageError, match="Discrete"):
        make_env("Pendulum-v1")


def test_old_ale_ids_are_refused_with_the_v5_name():
    with pytest.raises(UsageError, match=r"Pong-v4 is an old ALE id.*use Pong or ALE/Pong-v5"):
        resolve_game("Pong-v4")
    with pytest.raises(UsageError, match="ALE/Breakout-v5"):
        resolve_game("BreakoutNoFrameskip-v4")


@pytest.mark.parametrize("game", ["Pong", "CartPole-v1"])
def test_make_env_passes_gymnasiums_env_checker(game):
    # (MinAtar's own env fails the checker's seeding check upstream: its reset skips super().reset)
    import warnings

    from gymnasium.utils.env_checker import check_env
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the checker warns that it is handed a wrapped env: ours is
        check_env(make_env(game), skip_render_check=True)


# -- variants: a game's modes, settings and observation transforms as games of their own ---------------

def _observations(game: str, steps: int = 30, seed: int = 5) -> list[np.ndarray]:
    env = make_env(game)
    obs, _ = env.reset(seed=seed)
    seen = [np.asarray(obs)]
    for t in range(steps):
        obs, _, terminated, truncated, _ = env.step(t % env.action_space.n)
        seen.append(np.asarray(obs))
        if terminated or truncated:
            break
    env.close()
    return seen


@pytest.mark.parametrize("game", ["MinAtar/Breakout", "Breakout"])
def test_a_transformed_observation_is_the_transformed_original(game):
    plain = _observations(game)
    flipped, upside, inverted = (_observations(f"{game}+{t}") for t in ("hflip", "vflip", "invert"))
    assert len(plain) == len(flipped) == len(upside) == len(inverted) > 5
    for o, h, v, i in zip(plain, flipped, upside, inverted):
        np.testing.assert_array_equal(h, o[..., ::-1])
        np.testing.assert_array_equal(v, o[..., ::-1, :])
        np.testing.assert_array_equal(i, ~o if o.dtype == np.bool_ else 255 - o)
    assert any((o != o[..., ::-1]).any() for o in plain)  # the flip is not the identity on these frames


def test_noise_is_what_it_says_and_seeded():
    plain = _observations("MinAtar/Breakout")
    noisy = _observations("MinAtar/Breakout+noise=0.1")
    changed = np.mean([(p != n).mean() for p, n in zip(plain, noisy)])
    assert 0.07 < changed < 0.13  # each cell flipped with probability 0.1
    again = _observations("MinAtar/Breakout+noise=0.1")
    assert all((a == b).all() for a, b in zip(noisy, again))  # the same seed, the same noise
    pixels = np.stack(_observations("Pong+noise=0.05", steps=5)).astype(float) - np.stack(_observations("Pong", steps=5))
    assert 0.03 * 255 < pixels.std() < 0.06 * 255


def test_zoom_shrinks_the_frame_onto_black():
    plain, zoomed = _observations("Pong", steps=3)[-1], _observations("Pong+zoom", steps=3)[-1]
    assert (zoomed[:, :10, :] == 0).all() and (zoomed[:, :, 73:] == 0).all()
    assert abs(float(zoomed[:, 10:73, 10:73].mean()) - float(plain.mean())) < 10


def test_a_mode_really_changes_the_emulators_mode():
    def ram(game):
        env = make_env(game)
        env.reset(seed=3)
        return env.unwrapped.ale.getRAM().copy()
    assert (ram("Breakout") != ram("Breakout+mode=4")).any()
    assert (ram("Breakout") == ram("Breakout+mode=0")).all()
    spec = resolve_game("breakout+difficulty=1+mode=4")
    assert spec.env_id == "ALE/Breakout-v5+mode=4+difficulty=1" and spec.name == "Breakout+mode=4+difficulty=1"
    assert resolve_game(spec.env_id) == spec  # an id read back from a checkpoint resolves to the same variant


def test_minatar_settings_reach_the_game():
    env = make_env("MinAtar/SpaceInvaders+sticky=0+ramping=0")
    game = env.unwrapped.game
    assert game.sticky_action_prob == 0 and game.env.ramping is False


@pytest.mark.parametrize("name, says", [
    ("MinAtar/Breakout+zoom", "unknown variant 'zoom' for MinAtar/Breakout-v1; it offers sticky=P, ramping=0|1"),
    ("Breakout+mode=5", "ALE/Breakout-v5 has no mode '5'; its modes: 0, 4, 8"),
    ("MinAtar/Breakout+noise", "'noise' should be written noise=VALUE"),
    ("MinAtar/Breakout+sticky=1.5", "give a probability between 0 and 1"),
    ("CartPole-v1+hflip", "variants ('+...') exist for ALE and MinAtar games only"),
    ("Pong+hflip+hflip", "given twice"),
])
def test_unknown_variants_are_refused_with_what_the_game_offers(name, says):
    with pytest.raises(UsageError) as info:
        resolve_game(name)
    assert says in str(info.value)


def test_minatar_frames_are_drawn_as_minatar_draws_them_without_importing_seaborn():
    import subprocess
    import sys

    code = ("import sys; from pathzero.envs import make_env; e = make_env('MinAtar/SpaceInvaders'); e.reset(seed=0); "
            "e.step(0); print('seaborn' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.split() == ["False", "False"], out.stderr  # a worker's imports
    import seaborn as sns

    env = make_env("MinAtar/SpaceInvaders", render=True)
    env.reset(seed=1)
    for _ in range(20):
        env.step(env.action_space.sample())
    state = env.unwrapped.game.state()
    palette = np.stack([(0.0, 0.0, 0.0)] + list(sns.color_palette("cubehelix", state.shape[-1])))
    expected = palette[np.amax(state * np.arange(1, state.shape[-1] + 1), axis=2)]
    np.testing.assert_allclose(env.render(), expected)
    assert (env.render().reshape(-1, 3).max(1) > 0).any()  # something is drawn
