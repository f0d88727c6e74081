"""What every pathzero command shares: dataclass configs as flags, and one-line errors.

Each command's config is a frozen dataclass whose fields carry a docstring; those docstrings
become the `--help` text, so the help and the code cannot drift apart.
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import sys
import textwrap
import types
import typing
from typing import Any, Callable, Sequence

from pathzero.errors import UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors: what was wrong and where to look, exit code 2."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each field of a dataclass (as tyro reads them)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, nxt in zip(body, body[1:]):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                    and isinstance(nxt.value.value, str)):
                docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def _base_type(tp: Any) -> tuple[type, bool]:
    """(the scalar type, whether None is allowed) of an annotation like `float | None`."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0], True
    return tp, False


def add_config_flags(parser: argparse.ArgumentParser, cls: type, skip: Sequence[str] = (),
                     choices: dict[str, Sequence[str]] | None = None) -> None:
    """Adds a --flag per dataclass field. Unset flags are absent from the parsed namespace, so a
    caller can tell what the user gave (needed for resuming a run with a few overrides). A field's
    allowed values come from `choices` or its metadata["choices"] (agents/common/config.py)."""
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls)
    choices = choices or {}
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        tp, optional = _base_type(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        doc = docs.get(f.name, "")
        # a field whose docstring names its default itself (e.g. "one per CPU core") keeps only that
        help_text = doc if "(default:" in doc else f"{doc} (default: {default})"
        if tp is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                                help=help_text)
        else:
            def convert(text: str, tp=tp, optional=optional):
                if optional and text.lower() == "none":
                    return None
                return tp(text)
            convert.__name__ = tp.__name__  # argparse names the type in its error message
            parser.add_argument(flag, type=convert, default=argparse.SUPPRESS, help=help_text,
                                metavar=f.name.upper(), choices=choices.get(f.name, f.metadata.get("choices")))


def given(namespace: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The config fields the user set on the command line."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(namespace).items() if k in names}


def run_command(prog: str, main: Callable[[], int | None]) -> typing.NoReturn:
    """Runs a command's body: bad input becomes one line on stderr and exit code 2."""
    try:
        code = main()
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)


def add_backend_flags(parser) -> None:
    """--backend, --ray-address and --ray-dashboard: where the runs execute."""
    group = parser.add_argument_group("where the runs execute")
    group.add_argument("--backend", choices=("local", "ray"), default="local",
                       help="local: one run after another in this process; ray: every run a Ray task, started "
                            "as soon as the runs it needs are done (needs pip install 'pathzero[ray]') "
                            "(default: local)")
    group.add_argument("--ray-address", default=None,
                       help="a Ray cluster to join (as printed by ray start --head); run folders must be on a "
                            "filesystem every node sees (default: start Ray here, on 127.0.0.1)")
    group.add_argument("--ray-dashboard", action="store_true", help="start Ray's dashboard (default: off)")
