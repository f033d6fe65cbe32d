"""Command line entry: ``siamark [VIDEO]``, ``siamark --demo``, and room for subcommands.

Subcommands (``bench-effort``, ``convert``, …) live in ``app.cli``; when the
first argument names one, the command line is parsed with argparse subparsers and dispatched
to it, anything else starts the GUI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.cli.commands import COMMANDS, command_parser, load_commands


def gui_parser() -> argparse.ArgumentParser:
    epilog = ""
    if COMMANDS:
        epilog = "commands (siamark COMMAND --help):\n" + "\n".join(
            f"  {name:<14} {command.help}" for name, command in sorted(COMMANDS.items())
        )
    parser = argparse.ArgumentParser(
        prog="siamark",
        description="Semi-automatic video annotation with Siamese visual trackers.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("video", nargs="?", help="video file or folder of images to open")
    parser.add_argument("--demo", action="store_true", help="open the built-in demo clip")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    load_commands()  # command modules keep heavy imports inside their run functions
    if argv and argv[0] in COMMANDS:
        args = command_parser().parse_args(argv)
        return int(COMMANDS[args.command].run(args) or 0)
    parser = gui_parser()
    args = parser.parse_args(argv)
    if args.demo and args.video:
        parser.error("give either a VIDEO or --demo, not both")
    return run_gui(args.video, demo=args.demo)


def run_gui(video: str | None = None, demo: bool = False) -> int:
    from app.qt_platform import QtPlatformError, check_gui_platform

    try:  # before Qt starts: a missing system library makes Qt abort with a misleading message
        check_gui_platform()
    except QtPlatformError as exc:
        print(f"siamark: {exc}", file=sys.stderr)
        return 1
    from PySide6.QtWidgets import QApplication

    from app.ui.theme import apply_dark_theme, configure_pyqtgraph

    configure_pyqtgraph()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Siamark")
    app.setOrganizationName("Siamark")
    apply_dark_theme(app)

    from app.qt_binding import ADVICE, leaks_none_references
    from app.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if leaks_none_references():
        print(f"siamark: warning: {ADVICE}", file=sys.stderr)
        window.show_error("Qt binding problem", ADVICE)
    window.files.offer_recovery()  # a crashed session's autosave, if any (a non-blocking question)
    if demo:
        window.files.open_demo()
    elif video:
        window.files.open_path(video)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
