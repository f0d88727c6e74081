"""`python -m pathzero <command>`: the same as the `pathzero` command."""
from pathzero.scripts.cli import main

main()
