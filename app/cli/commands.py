"""The headless subcommands of ``python main.py COMMAND`` (``bench-effort``, ``convert``, …).

Each module in ``COMMAND_MODULES`` calls ``register_command`` when imported. They are imported
only to parse a command line, and keep heavy imports inside their run functions, so starting
the GUI does not pay for them. Nothing here imports Qt.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass

COMMAND_MODULES: tuple[str, ...] = ("app.cli.batch", "app.cli.bench_effort", "app.cli.convert")


@dataclass(frozen=True)
class Command:
    help: str
    #: adds the command's arguments to its subparser
    configure: Callable[[argparse.ArgumentParser], None]
    #: runs it with the parsed arguments; returns the exit code
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}


def register_command(name: str, command: Command) -> None:
    COMMANDS[name] = command


def load_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name)


def command_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="siamark", description="Siamark command-line tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in sorted(COMMANDS.items()):
        command.configure(sub.add_parser(name, help=command.help, description=command.help))
    return parser
