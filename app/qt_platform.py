"""What Qt needs from the operating system to open a window, checked before Qt is started.

PySide6's wheels carry Qt but not the X11 client libraries its ``xcb`` platform plugin links
against. When one is missing, Qt aborts the process with a message that names the wrong
library ("xcb-cursor0 or libxcb-cursor0 is needed", whatever is actually missing). So the app
asks the dynamic linker itself (``ldd`` on the plugin), and names the missing libraries and the
packages that provide them before Qt gets the chance to abort.

This module imports nothing beyond the standard library: ``scripts/setup.sh`` runs it to learn
which system packages to install (``python -m app.qt_platform --missing-packages``), so the
list of packages lives here and only here.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: Shared library -> the Debian / Ubuntu package that provides it: everything Qt's xcb platform
#: plugin, QtGui / QtWidgets and OpenCV link against outside the wheels (Qt's "X11 requirements").
DEBIAN_PACKAGES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libXext.so.6": "libxext6",
    "libXrender.so.1": "libxrender1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


class QtPlatformError(RuntimeError):
    """Qt cannot open a window here; the message says why and what to do."""


def parse_ldd(output: str) -> list[str]:
    """The libraries ``ldd`` reports as ``not found``, in order, each once."""
    return list(dict.fromkeys(_NOT_FOUND.findall(output)))


def missing_libraries(binary: Path) -> list[str]:
    """Shared libraries ``binary`` needs (directly or not) that the dynamic linker cannot find."""
    ldd = shutil.which("ldd")
    if ldd:
        proc = subprocess.run([ldd, str(binary)], capture_output=True, text=True, check=False)
        return parse_ldd(proc.stdout)
    try:  # no ldd (a minimal image): loading tells at least the first missing library
        ctypes.CDLL(str(binary))
    except OSError as exc:
        first = re.match(r"(\S+?): cannot open shared object file", str(exc))
        return [first.group(1)] if first else [str(exc)]
    return []


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)  # finds without importing (cv2's import changes the env)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def xcb_plugin() -> Path | None:
    """The xcb platform plugin Qt will load: QT_QPA_PLATFORM_PLUGIN_PATH's, else PySide6's own."""
    override = os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH")
    if override and (Path(override) / "libqxcb.so").is_file():
        return Path(override) / "libqxcb.so"
    pyside = _package_dir("PySide6")
    plugin = pyside / "Qt" / "plugins" / "platforms" / "libqxcb.so" if pyside else None
    return plugin if plugin and plugin.is_file() else None


def app_binaries() -> list[Path]:
    """The native files the GUI loads that link against system libraries."""
    files = []
    pyside = _package_dir("PySide6")
    if pyside:
        files += [pyside / f"{m}.abi3.so" for m in ("QtCore", "QtGui", "QtWidgets")]
    plugin = xcb_plugin()
    if plugin:
        files.append(plugin)
    cv2 = _package_dir("cv2")
    if cv2:
        files += sorted(cv2.glob("cv2*.so"))
    return [f for f in files if f.is_file()]


def missing_for_app() -> list[str]:
    return list(dict.fromkeys(lib for f in app_binaries() for lib in missing_libraries(f)))


def packages_for(libraries: list[str]) -> tuple[list[str], list[str]]:
    """(Debian packages that provide ``libraries``, libraries with no known package)."""
    known = [DEBIAN_PACKAGES[lib] for lib in libraries if lib in DEBIAN_PACKAGES]
    unknown = [lib for lib in libraries if lib not in DEBIAN_PACKAGES]
    return list(dict.fromkeys(known)), unknown


def install_line(packages: list[str]) -> str:
    sudo = "" if hasattr(os, "geteuid") and os.geteuid() == 0 else "sudo "
    return f"{sudo}apt-get update && {sudo}apt-get install -y {' '.join(packages)}"


def missing_libraries_message(libraries: list[str]) -> str:
    packages, unknown = packages_for(libraries)
    lines = [
        "Qt cannot start its X11 (xcb) platform plugin: these system libraries are missing:",
        "  " + ", ".join(libraries),
    ]
    if packages:
        lines += ["Install them (Debian / Ubuntu) with:", "  " + install_line(packages)]
    if unknown:
        lines.append(f"No package is known here for {', '.join(unknown)}; install what provides it.")
    lines.append("(bash scripts/setup.sh installs everything Siamark needs, these included.)")
    return "\n".join(lines)


def uses_xcb(env: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt will open its windows through X11 (xcb) here."""
    env = os.environ if env is None else env
    if not (platform or sys.platform).startswith("linux"):
        return False
    requested = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if requested:
        return requested == "xcb"
    # Unset: Qt prefers Wayland in a Wayland session and falls back to xcb, so only an X11-only
    # session is sure to need it.
    return not env.get("WAYLAND_DISPLAY")


def _display_reachable(display: str) -> bool:
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True  # reported as a missing library instead
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(display.encode(), None)
    try:
        return xcb.xcb_connection_has_error(conn) == 0
    finally:
        xcb.xcb_disconnect(conn)


def check_gui_platform(env: dict[str, str] | None = None) -> None:
    """Raise QtPlatformError, with what to do, when Qt would abort instead of opening a window."""
    env = os.environ if env is None else env
    if not uses_xcb(env):
        return
    missing = missing_for_app()
    if missing:
        raise QtPlatformError(missing_libraries_message(missing))
    display = env.get("DISPLAY", "")
    headless = (
        "Run Siamark in a desktop session, under a virtual display (xvfb-run -a python main.py --demo),"
        " or with QT_QPA_PLATFORM=offscreen for a run without a window."
    )
    if not display:
        raise QtPlatformError(f"No X display: DISPLAY is not set. {headless}")
    if not _display_reachable(display):
        raise QtPlatformError(f"Cannot connect to the X display {display!r}. {headless}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.qt_platform", description="System libraries the Siamark GUI needs."
    )
    parser.add_argument(
        "--missing-packages",
        action="store_true",
        help="print the Debian packages of the missing libraries, one line (empty when none)",
    )
    args = parser.parse_args(argv)
    missing = missing_for_app()
    if args.missing_packages:
        packages, unknown = packages_for(missing)
        for lib in unknown:
            print(f"missing {lib}: no known Debian package", file=sys.stderr)
        print(" ".join(packages))
        return 1 if unknown else 0
    print(missing_libraries_message(missing) if missing else "all system libraries the GUI needs are present")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
