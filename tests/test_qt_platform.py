"""The start-up check for Qt's system libraries and display (app/qt_platform.py).

The end-to-end test makes a real missing library: a copy of PySide6's xcb plugin whose
dependency on ``libxcb-icccm.so.4`` is renamed in the ELF to a library that exists nowhere. Qt
itself aborts on it with its misleading message; the app must say which library is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import qt_platform
from app.qt_platform import (
    QtPlatformError,
    check_gui_platform,
    missing_libraries_message,
    packages_for,
    parse_ldd,
    uses_xcb,
)

ROOT = Path(__file__).resolve().parents[1]
REAL = "libxcb-icccm.so.4"
FAKE = "libxcb-iccXm.so.4"  # same length: the ELF's string table keeps its layout

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd5b1e9000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f0c1c000000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0c1b800000)
"""


def test_parse_ldd_lists_each_missing_library_once():
    assert parse_ldd(LDD_OUTPUT) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert parse_ldd("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


def test_message_names_the_libraries_and_the_exact_install_line():
    message = missing_libraries_message(["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libweird.so.9"])
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1, libweird.so.9" in message
    assert "apt-get install -y libxcb-icccm4 libxcb-keysyms1\n" in message + "\n"
    assert "No package is known here for libweird.so.9" in message
    assert "xcb-cursor0" not in message  # Qt's misleading advice is not repeated


def test_packages_are_deduplicated():
    packages, unknown = packages_for(["libglib-2.0.so.0", "libgthread-2.0.so.0", "libGL.so.1"])
    assert packages == ["libglib2.0-0", "libgl1"] and unknown == []


@pytest.mark.parametrize(
    "env, platform, expected",
    [
        ({}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),  # Qt tries Wayland first
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb:nograb;wayland"}, "linux", True),
        ({}, "darwin", False),
        ({}, "win32", False),
    ],
)
def test_uses_xcb(env, platform, expected):
    assert uses_xcb(env, platform) is expected


def test_no_display_and_unreachable_display_are_explained(monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("X11 is checked on Linux only")
    monkeypatch.setattr(qt_platform, "missing_for_app", list)
    with pytest.raises(QtPlatformError, match="DISPLAY is not set.*xvfb-run"):
        check_gui_platform({"QT_QPA_PLATFORM": "xcb"})
    with pytest.raises(QtPlatformError, match="Cannot connect to the X display ':987'"):
        check_gui_platform({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":987"})
    check_gui_platform({"QT_QPA_PLATFORM": "offscreen"})  # no X needed: nothing to say


def test_missing_packages_command(monkeypatch, capsys):
    monkeypatch.setattr(qt_platform, "missing_for_app", lambda: ["libxcb-keysyms.so.1", "libxcb-icccm.so.4"])
    assert qt_platform.main(["--missing-packages"]) == 0
    assert capsys.readouterr().out == "libxcb-keysyms1 libxcb-icccm4\n"
    monkeypatch.setattr(qt_platform, "missing_for_app", list)
    assert qt_platform.main(["--missing-packages"]) == 0
    assert capsys.readouterr().out == "\n"
    assert qt_platform.main([]) == 0


@pytest.fixture
def broken_plugin_env(tmp_path):
    """Environment in which Qt's xcb plugin needs a library that does not exist."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the xcb plugin is Linux-only")
    plugin = qt_platform.xcb_plugin()
    assert plugin is not None, "PySide6 ships the xcb platform plugin"
    data = plugin.read_bytes()
    assert REAL.encode() + b"\0" in data
    platforms = tmp_path / "platforms"
    platforms.mkdir()
    (platforms / "libqxcb.so").write_bytes(data.replace(REAL.encode() + b"\0", FAKE.encode() + b"\0"))
    qt_lib = plugin.parents[2] / "lib"  # the copy's RUNPATH ($ORIGIN/../../lib) no longer reaches Qt
    return dict(
        os.environ,
        QT_QPA_PLATFORM="xcb",
        QT_QPA_PLATFORM_PLUGIN_PATH=str(platforms),
        LD_LIBRARY_PATH=os.pathsep.join(filter(None, [str(qt_lib), os.environ.get("LD_LIBRARY_PATH")])),
        DISPLAY=":987",
        SIAMARK_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONPATH=str(ROOT),
    )


def test_qt_alone_aborts_with_a_misleading_message(broken_plugin_env):
    """What a user saw before: Qt aborts, and names xcb-cursor0, not the missing library."""
    proc = subprocess.run(
        [sys.executable, "-c", "from PySide6.QtWidgets import QApplication; QApplication([])"],
        env=broken_plugin_env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode != 0
    assert "Could not load the Qt platform plugin" in proc.stderr
    assert FAKE not in proc.stderr


def test_app_names_the_missing_library_instead_of_aborting(broken_plugin_env):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--demo"],
        cwd=ROOT, env=broken_plugin_env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 1, proc.stderr  # not SIGABRT (-6)
    assert "Qt cannot start its X11 (xcb) platform plugin" in proc.stderr
    assert FAKE in proc.stderr
    assert "Could not load the Qt platform plugin" not in proc.stderr  # Qt never got to abort
