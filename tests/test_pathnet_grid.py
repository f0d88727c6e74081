"""PathNet's module grid and its evolution: gradients only along the pathway, freezing that holds,
mutation within bounds at its stated rate, tournaments, the shared population table, and the
supervised binary digits experiment (benchmarks/digits.py) on that grid."""
import math
import multiprocessing as mp

import numpy as np
import pytest
import torch

from benchmarks.digits import SupervisedConfig, digit_task, evolve_supervised, held_out_accuracy
from pathzero.agents.common.optim import make_shared_optimizer
from pathzero.agents.pathnet import Population, mutate, mutation_rate, tournament
from pathzero.nets.pathnet import GridConfig, PathNet, check_pathway, fixed_pathway, layer_modules, pathway_modules

PATHWAY = np.array([[0, 1, 1, 5], [2, 3, 4, 9], [7, 7, 7, 7], [0, 1, 2, 3]])


def grid(kind: str = "conv", fc_in_grid: bool = False) -> tuple[PathNet, tuple]:
    net = PathNet(kind, GridConfig(fc_in_grid=fc_in_grid))
    shape = (4, 10, 10) if kind == "conv" else (6,)
    net.add_task("a", shape, 3)
    return net, shape


@pytest.mark.parametrize("kind,fc_in_grid", [("conv", False), ("mlp", False), ("conv", True), ("mlp", True)])
def test_only_the_pathway_modules_receive_gradient(kind, fc_in_grid):
    net, shape = grid(kind, fc_in_grid)
    out = net(torch.rand(5, *shape), PATHWAY, "a")
    (out.logits.sum() + out.value.sum()).backward()
    used = pathway_modules(PATHWAY)
    assert len(used) == 3 + 4 + 1 + 4
    for layer, row in enumerate(net.grid):
        for m, module in enumerate(row):
            grads = [p.grad for p in module.parameters()]
            if (layer, m) in used:
                assert all(g is not None and g.abs().sum() > 0 for g in grads), (layer, m)
            else:
                assert all(g is None for g in grads), (layer, m)


@pytest.mark.parametrize("kind", ["conv", "mlp"])
def test_batched_branches_equal_the_naive_sum_of_modules(kind):
    torch.manual_seed(0)
    net, shape = grid(kind)
    h = net.heads["a"].embed(torch.rand(3, *shape))
    for layer, active in zip(net.grid, layer_modules(PATHWAY)):
        fast = net.branch_sum([layer[m] for m in active], h)
        naive = sum(layer[m].branch(h) for m in active)
        # The same sum in another order: oneDNN's convolution kernels differ between CPUs (an AMD EPYC
        # measured 1.8e-5 apart at values near 1), while weights placed against the wrong module are off by ~2.
        torch.testing.assert_close(fast, naive, rtol=1e-5, atol=1e-4)
        h = torch.relu(h + naive)


def test_a_pathway_is_checked_where_it_enters():
    cfg = GridConfig()
    with pytest.raises(ValueError, match="shape"):
        check_pathway(np.zeros((3, 4), dtype=int), cfg)
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        check_pathway(np.full((4, 4), 10), cfg)
    assert layer_modules(PATHWAY)[2] == [7]  # repeats: at most N modules


@pytest.mark.parametrize("fc_in_grid", [False, True])
def test_frozen_modules_leave_every_optimizer_and_survive_reinitialisation(fc_in_grid):
    net, shape = grid(fc_in_grid=fc_in_grid)
    net.freeze(PATHWAY, "a")
    frozen_ids = {id(p) for p in net.frozen_parameters()}
    assert frozen_ids and not frozen_ids & {id(p) for p in net.trainable_parameters()}
    optimizer = make_shared_optimizer("rmsprop", net.trainable_parameters(), 1e-3)
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert not held & frozen_ids
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.reinit_unfrozen()
    after = net.state_dict()
    for key, value in after.items():
        layer_module = key.split(".")[1:3] if key.startswith("grid.") else None
        if layer_module and (int(layer_module[0]), int(layer_module[1])) in net.frozen:
            assert torch.equal(value, before[key]), key
        elif key.startswith("heads.a."):
            assert torch.equal(value, before[key]), key
        elif key.startswith("grid.") and key.endswith("weight"):
            assert not torch.equal(value, before[key]), key


def test_training_another_task_leaves_frozen_modules_bit_identical():
    cfg = SupervisedConfig(population=8, batches=5, generations=6, threshold=1.1)
    net = PathNet("mlp", cfg.grid)
    first = evolve_supervised(net, digit_task(1, 7), cfg, seed=0)
    net.freeze(first.best, "1v7")
    net.reinit_unfrozen()
    snapshot = [p.detach().clone() for p in net.frozen_parameters()]
    evolve_supervised(net, digit_task(3, 8), cfg, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(net.frozen_parameters(), snapshot))
    assert net.best["1v7"].tolist() == first.best.tolist()


@pytest.mark.parametrize("fc_in_grid", [False, True])
def test_description_round_trip_keeps_tasks_frozen_set_and_best_pathways(fc_in_grid):
    net, _ = grid(fc_in_grid=fc_in_grid)
    net.freeze(PATHWAY, "a")
    net.add_task("b", (7, 10, 10), 5)
    copy = PathNet.from_description(net.describe())
    copy.load_state_dict(net.state_dict())
    assert copy.frozen == net.frozen and copy.frozen_tasks == {"a"} and list(copy.heads) == ["a", "b"]
    assert copy.best["a"].tolist() == PATHWAY.tolist()
    assert len(copy.trainable_parameters()) == len(net.trainable_parameters())
    x = torch.rand(2, 7, 10, 10)
    torch.testing.assert_close(copy(x, fixed_pathway(net.cfg), "b").logits, net(x, fixed_pathway(net.cfg), "b").logits)


@pytest.mark.parametrize("kind", ["conv", "mlp"])
def test_a_new_task_starts_with_fresh_heads_even_with_the_same_observations(kind):
    net, shape = grid(kind)
    net.add_task("b", shape, 5)
    for mine, theirs in ((net.heads["b"].stem, net.heads["a"].stem), (net.heads["b"].fc, net.heads["a"].fc)):
        assert not any(torch.equal(p, q) for p, q in zip(mine.parameters(), theirs.parameters()) if p.dim() > 1)


@pytest.mark.parametrize("kind", ["conv", "mlp"])
def test_copy_from_starts_the_stem_and_fc_as_copies_of_that_task(kind):
    net, shape = grid(kind)
    assert net.same_shape_task(shape) == "a"
    net.add_task("b", shape, 5, copy_from=net.same_shape_task(shape))
    for mine, theirs in ((net.heads["b"].stem, net.heads["a"].stem), (net.heads["b"].fc, net.heads["a"].fc)):
        pairs = list(zip(mine.parameters(), theirs.parameters()))
        assert pairs and all(torch.equal(p, q) and p is not q for p, q in pairs)
    with pytest.raises(ValueError, match="cannot copy the stem"):
        net.add_task("c", (7, 10, 10) if kind == "conv" else (9,), 5, copy_from="a")


def test_what_a_task_owns_is_counted_against_the_largest_pathway():
    """Hand-counted for MinAtar-shaped input (4 x 10 x 10), 8 channels, fc 32, 3 actions, L = N = 2: the stem is
    one 3x3 conv 4 -> 8 (288 + 8), the fc layer 800 -> 32 (25,600 + 32), the heads policy 32 -> 3 and value
    32 -> 1 (99 + 33); a module is two 3x3 convs 8 -> 8 with biases (2 x 584), four of them on the largest pathway."""
    net = PathNet("conv", GridConfig(layers=2, modules=3, active=2, channels=8, hidden=32))
    net.add_task("a", (4, 10, 10), 3)
    assert net.task_params("a") == {"stem": 296, "fc": 25_632, "heads": 132, "own": 26_060, "largest_pathway": 4_672}
    assert net.task_params("a")["own"] == sum(p.numel() for p in net.heads["a"].parameters())  # nothing left out
    net.add_task("digits", (4, 10, 10), 2, kind="classifier")
    assert net.task_params("digits")["heads"] == 32 * 2 + 2


@pytest.mark.parametrize("kind", ["conv", "mlp"])
def test_with_the_fc_layer_in_the_grid_a_pathway_is_the_papers_network(kind):
    """fc_in_grid: L - 1 residual layers, then M fully connected modules of `hidden` units on the flattened
    features (each a linear map and a ReLU, summed over the pathway's), and heads that read them directly."""
    torch.manual_seed(0)
    net, shape = grid(kind, fc_in_grid=True)
    heads, top = net.heads["a"], net.grid[-1]
    assert len(net.grid) == 4 and len(top) == 10 and isinstance(heads.fc, torch.nn.Identity)
    assert top[0].fc.in_features == heads.n_flat and top[0].fc.out_features == net.cfg.hidden
    x = torch.rand(3, *shape)
    h = heads.embed(x)
    for layer, active in zip(list(net.grid)[:-1], layer_modules(PATHWAY)[:-1]):
        h = torch.relu(h + sum(layer[m].branch(h) for m in active))
    naive = sum(torch.relu(top[m].fc(h.flatten(1))) for m in layer_modules(PATHWAY)[-1])
    torch.testing.assert_close(net.features(x, PATHWAY, "a"), naive, rtol=1e-5, atol=1e-4)
    out = net(x, PATHWAY, "a")
    torch.testing.assert_close(out.logits, heads.policy(naive), rtol=1e-5, atol=1e-4)
    # the relaxed network with one-hot weights on the pathway's modules is that pathway
    weights = torch.zeros(4, 10)
    for layer, active in enumerate(layer_modules(PATHWAY)):
        weights[layer, active] = 1.0
    torch.testing.assert_close(net.soft_features(x, weights, "a"), naive, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("fc_in_grid", [False, True])
def test_combine_mean_divides_each_layer_by_its_module_count_and_the_relaxed_one_by_its_weight(fc_in_grid):
    torch.manual_seed(0)
    net = PathNet("conv", GridConfig(fc_in_grid=fc_in_grid, combine="mean"))
    net.add_task("a", (4, 10, 10), 3)
    heads, x = net.heads["a"], torch.rand(3, 4, 10, 10)
    h = heads.embed(x)
    for index, (layer, active) in enumerate(zip(net.grid, layer_modules(PATHWAY))):
        if fc_in_grid and index == 3:
            naive = sum(torch.relu(layer[m].fc(h.flatten(1))) for m in active) / len(active)
            break
        h = torch.relu(h + sum(layer[m].branch(h) for m in active) / len(active))
    else:
        naive = torch.relu(heads.fc(h.flatten(1)))
    torch.testing.assert_close(net.features(x, PATHWAY, "a"), naive, rtol=1e-5, atol=1e-4)
    # relaxed weights twice the one-hot ones: the mean divides by the weight, so the features are the same
    weights = torch.zeros(4, 10)
    for layer, active in enumerate(layer_modules(PATHWAY)):
        weights[layer, active] = 2.0
    torch.testing.assert_close(net.soft_features(x, weights, "a"), naive, rtol=1e-5, atol=1e-4)


def test_a_task_whose_features_do_not_fit_the_grids_fc_layer_is_refused():
    net = PathNet("conv", GridConfig(fc_in_grid=True))
    net.add_task("a", (4, 10, 10), 3)
    net.add_task("b", (7, 10, 10), 3)  # other planes, same stem output: fits
    with pytest.raises(ValueError, match="takes 800 features; observations of shape .4, 84, 84. give 648"):
        net.add_task("c", (4, 84, 84), 3)


def test_the_fc_layer_in_the_grid_is_counted_in_the_pathway_not_in_the_task():
    """Hand-counted, MinAtar-shaped input, 8 channels, hidden 32, L = N = 2: one residual layer (a module:
    2 x 584 parameters, 2 x 2 x 9 x 8 x 8 x 100 FLOPs) and the fc layer (800 -> 32: 25,632 parameters,
    2 x 800 x 32 FLOPs per module); the task keeps its stem (296) and heads (132) only."""
    net = PathNet("conv", GridConfig(layers=2, modules=3, active=2, channels=8, hidden=32, fc_in_grid=True))
    net.add_task("a", (4, 10, 10), 3)
    assert net.task_params("a") == {"stem": 296, "fc": 0, "heads": 132, "own": 428,
                                    "largest_pathway": 2 * 1_168 + 2 * 25_632}
    pathway = np.array([[0, 0], [1, 2]])  # one residual module, two fc modules
    assert net.pathway_costs(pathway, (4, 10, 10)) == {"modules": 3, "flops": 230_400 + 2 * 51_200,
                                                        "params": 1_168 + 2 * 25_632}


def test_the_gumbel_cost_weighs_each_layer_by_its_flops():
    """Expected FLOPs over the largest pathway's: with every module chosen for sure in a layer of FLOPs 1 and
    none but the first choice's in a layer of FLOPs 3, (N x 1 + 1 x 3) / (N x (1 + 3))."""
    from pathzero.nets.pathnet import GumbelPolicy

    net = PathNet("mlp", GridConfig(layers=2, modules=4, active=2))
    net.add_task("t", (6,), 2)
    net.add_search("t")
    with torch.no_grad():
        net.search["t"].fill_(-1e9)
        net.search["t"][0, 0, 0] = net.search["t"][0, 1, 1] = 0.0  # layer 0: modules 0 and 1
        net.search["t"][1, 0, 2] = 0.0
        net.search["t"][1, 1, 4] = 0.0  # layer 1: module 2, then "none"
    policy = GumbelPolicy(net, "t", [1.0, 3.0])
    policy.resample(1e-3)
    policy.noise.zero_()
    assert float(policy.cost().detach()) == pytest.approx((2 * 1 + 1 * 3) / (2 * 4))
    assert float(GumbelPolicy(net, "t").cost().detach()) == pytest.approx(3 / 4)  # equal FLOPs: modules over the most


def test_mutation_stays_in_bounds_and_hits_each_gene_at_rate_one_over_nl():
    cfg = GridConfig()  # N*L = 16
    rng = np.random.default_rng(0)
    middle = np.full((cfg.layers, cfg.active), 5)
    edge = np.zeros((cfg.layers, cfg.active), dtype=int)
    changed = 0
    trials = 20_000
    for _ in range(trials):
        child = mutate(middle, cfg, rng)
        assert child.min() >= 3 and child.max() <= 7  # a shift of at most 2
        changed += int((child != middle).sum())
        low = mutate(edge, cfg, rng)
        assert low.min() >= 0 and low.max() <= 2  # clipped at 0
    genes = trials * middle.size
    expected = mutation_rate(cfg) * 4 / 5  # a hit gene shifts by one of -2..2; 0 leaves it unchanged
    sd = math.sqrt(expected * (1 - expected) / genes)
    assert abs(changed / genes - expected) < 4 * sd
    assert abs(mutation_rate(cfg) - 1 / 16) < 1e-12


def test_the_tournament_copies_the_winner_over_the_loser():
    cfg = GridConfig(modules=10)
    rng = np.random.default_rng(1)
    genotypes = np.stack([np.full((4, 4), 1), np.full((4, 4), 8)])
    winner, loser = tournament(genotypes, np.array([0.2, 0.9]), 0, 1, cfg, rng)
    assert (winner, loser) == (1, 0)
    assert (genotypes[1] == 8).all()  # the winner is untouched
    assert np.abs(genotypes[0] - 8).max() <= 2 and (genotypes[0] != 1).all()  # the loser is a mutated copy
    assert (genotypes[0] == 8).mean() > 0.5


def _hammer(population: Population, stale: torch.Tensor, seed: int, rounds: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        if not population.compete(population.claim(), float(rng.random()), rng).recorded:
            with population.lock:
                stale += 1


def test_the_population_table_stays_consistent_under_several_processes():
    cfg = GridConfig()
    ctx = mp.get_context("spawn")
    population = Population(6, cfg, ctx.Lock())
    stale = torch.zeros(1, dtype=torch.int64).share_memory_()
    rounds, procs = 300, 3
    workers = [ctx.Process(target=_hammer, args=(population, stale, seed, rounds)) for seed in range(procs)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    # every result was either recorded against the genotype that earned it, or dropped as stale
    assert int(population.evaluations.sum()) + int(stale) == rounds * procs
    assert not population.busy.any()  # every claimed slot was given back
    genotypes = population.genotypes.numpy()
    assert genotypes.min() >= 0 and genotypes.max() < cfg.modules
    fitness = population.fitness.numpy()
    assert np.all(np.isnan(fitness) | ((fitness >= 0) & (fitness < 1)))
    # selection copied winners around: the last tournament left its loser a mutated copy of its winner, so some
    # pair differs in a few genes (Binomial(16, 0.05): P(> 6) ~ 1e-5), where two independent random genotypes
    # would share at most a few of 16 genes. (Asking for two identical genotypes failed now and then: each copy
    # stays unmutated only with probability 0.95 ** 16 = 0.44, and later mutations part copies.)
    flat = genotypes.reshape(len(genotypes), -1)
    differing = (flat[:, None, :] != flat[None, :, :]).sum(-1)
    np.fill_diagonal(differing, flat.shape[1])
    assert differing.min() <= 6


def test_a_genotype_overwritten_by_a_tournament_is_not_evaluated_and_gets_a_new_version():
    population = Population(2, GridConfig(), mp.get_context("spawn").Lock())
    rng = np.random.default_rng(0)
    first, second = population.claim(), population.claim()
    assert (first.slot, second.slot) == (0, 1)
    assert population.compete(first, 5.0, rng) == (True, -1, False)  # nobody else evaluated yet
    outcome = population.compete(second, 1.0, rng)  # loses to slot 0
    assert outcome == (True, 0, True)
    assert math.isnan(float(population.fitness[1])) and int(population.versions[1]) == 1
    assert population.best()[0] == 0 and population.best()[2] == 5.0  # the mutant carries no score


def test_a_fitness_earned_by_an_overwritten_genotype_is_dropped():
    population = Population(3, GridConfig(), mp.get_context("spawn").Lock())
    rng = np.random.default_rng(0)
    a, b, c = population.claim(), population.claim(), population.claim()
    population.compete(a, 10.0, rng)
    population.compete(b, 0.0, rng)  # b loses to a: slot 1 now holds a mutant of a's genotype
    population.compete(c, 20.0, rng)  # c meets a or the (unevaluated) b: only a is eligible
    assert int(population.versions[0]) == 1  # a lost to c and was overwritten ...
    again = population.claim()
    assert again.slot == 0 and again.version == 1
    # ... while a worker still held the old version of slot 0: its result must not be recorded
    stale = population.record(a, 99.0)
    assert not stale.recorded and int(population.evaluations[0]) == 1
    assert not population.compete(a, 99.0, rng).recorded
    assert math.isnan(float(population.fitness[0]))


@pytest.mark.parametrize("size,workers", [(16, 1), (16, 2), (6, 4), (3, 5)])
def test_workers_taking_slots_in_turn_visit_every_slot(size, workers):
    population = Population(size, GridConfig(), mp.get_context("spawn").Lock())
    held = [population.claim() for _ in range(workers)]
    seen = {t.slot for t in held}
    for _ in range(3 * size):  # each worker in turn finishes its trial and claims the next slot
        trial = held.pop(0)
        population.release(trial)
        held.append(population.claim())
        seen.add(held[-1].slot)
        busy = [t.slot for t in held]
        assert len(set(busy)) == min(len(busy), size)  # nobody evaluates a slot another one holds
    assert seen == set(range(size))


def test_only_episodes_a_pathway_played_whole_count_for_its_fitness():
    from pathzero.agents.pathnet import EpisodeLedger
    from pathzero.agents.common.rollout import Episode

    ledger = EpisodeLedger(n_envs=2)
    assert ledger.count([Episode(3.0, 10, 0)]) == [3.0]  # the first trial starts with fresh envs
    ledger.next_trial()  # env 0 is mid-episode, env 1 too
    assert ledger.count([Episode(7.0, 10, 1), Episode(4.0, 10, 0)]) == []  # begun by the previous pathway
    assert ledger.count([Episode(5.0, 10, 0)]) == [5.0]  # begun and ended by this one
    ledger.next_trial()
    assert ledger.count([Episode(6.0, 10, 1), Episode(2.0, 10, 1)]) == [2.0]


def test_supervised_pathnet_learns_three_versus_eight_within_a_generation_budget():
    cfg = SupervisedConfig(threshold=0.97, generations=20)
    task = digit_task(3, 8)
    torch.manual_seed(0)  # the grid's weights: not whatever the tests before this one on its xdist worker left
    result = evolve_supervised(PathNet("mlp", cfg.grid), task, cfg, seed=0)
    # stated accuracy: >= 97% of the held-out 3s and 8s, within 20 tournaments of 64 pathways
    assert result.generations is not None and result.generations <= 20
    assert result.accuracy[-1] >= 0.97
    torch.manual_seed(1)
    untrained = PathNet("mlp", cfg.grid)
    untrained.add_task(task.name, (64,), 2, kind="classifier")
    assert held_out_accuracy(untrained, result.best, task) < 0.9
