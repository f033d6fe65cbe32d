"""The headless subcommands of ``python main.py COMMAND``: each module listed here calls
``app.main.register_command`` when imported. Imported only when the first argument names a
command, so starting the GUI does not pay for them."""

from __future__ import annotations

import importlib

COMMAND_MODULES: tuple[str, ...] = ("app.effort_command", "app.convert_command")


def load_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name)
