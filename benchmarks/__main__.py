"""`python -m benchmarks <subcommand>`, run from the checkout's root (`--help` lists the subcommands)."""
from benchmarks.bench import main

main()
