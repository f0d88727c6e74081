"""pathzero's benchmarks: they use the library as a user would and write docs/BENCHMARKS.md.

Not part of the installed package (setup.py installs `pathzero` alone); they run from a checkout's
root, as `python -m benchmarks <subcommand> ...` or through the Makefile's `make bench-*` targets.
stable-baselines3 (the A2C baseline of `throughput`) and scikit-learn (the `digits` data set) come
with the `bench` extra: `pip install -e '.[bench]'`.

    bench.py        throughput, curve, and what every benchmark shares: the machine, the sections
                    of docs/BENCHMARKS.md, resumable results
    digits.py       PathNet's supervised experiment on scikit-learn's digits
    pathnet.py      transfer matrices into the docs, PathNet's evolution against the Gumbel search
    boards.py       MCTS speed, tic-tac-toe and Connect Four self-play strength
    library.py      the Python API against the command, a fresh clone's `make test`
    continual.py    continual sequences into the docs, the forgetting penalties' speed
    network.py      network candidates: speed against learning
    ray_backend.py  the Ray backend against the local one
    learning.py     A3C's learning speed on MinAtar, Pong and Atari-5; batched evaluation
"""
