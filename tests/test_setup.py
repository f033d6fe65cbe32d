"""Set-up: the README's two commands, .ci/run doing the same, and the system-library list.

The list in app/qt_platform.py is what scripts/setup.sh installs from; it must cover every
system library that the Qt and OpenCV binaries the app loads link against directly (read from
their ELF headers), or a fresh machine misses one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.qt_platform import DEBIAN_PACKAGES, _package_dir, app_binaries

ROOT = Path(__file__).resolve().parents[1]
#: In every Debian / Ubuntu base system (priority required): nothing to install.
BASE_SYSTEM = re.compile(r"^(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|libz|libzstd|ld-linux.*)\.so")


def readme_setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set-up (two commands)", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.DOTALL)]


def test_readme_has_two_setup_commands_and_ci_runs_them():
    install, tests = readme_setup_commands()
    assert install == "bash scripts/setup.sh && .venv/bin/python main.py --demo"
    assert tests == ".venv/bin/python -m pytest"
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines() if not ln.startswith("#")]
    assert "bash scripts/setup.sh" in ci
    assert ci[-1] == tests  # exactly the README's test command, last
    smoke = next(ln for ln in ci if "smoke_gui.py" in ln)
    assert smoke.startswith(".venv/bin/python")
    assert '"main.py"), "--demo"' in (ROOT / "scripts" / "smoke_gui.py").read_text()  # the demo, as README


def test_setup_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(ROOT / "scripts" / "setup.sh")], check=True)


def _needed(binary: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF binaries: Linux only")
def test_every_system_library_the_gui_links_against_has_a_package():
    if not shutil.which("readelf"):
        pytest.skip("readelf (binutils) is not installed")
    pyside = _package_dir("PySide6")
    site = Path(pyside).parent
    bundled_dirs = [pyside, pyside / "Qt" / "lib", site / "shiboken6", *site.glob("*.libs")]
    qt_libs = [pyside / "Qt" / "lib" / f"libQt6{m}.so.6" for m in ("Core", "Gui", "Widgets", "XcbQpa", "DBus")]
    binaries = app_binaries() + [f for f in qt_libs if f.is_file()]
    assert any(b.name == "libqxcb.so" for b in binaries), "the xcb platform plugin is checked"
    system = set()
    for binary in binaries:
        for lib in _needed(binary):
            if BASE_SYSTEM.match(lib) or any((d / lib).exists() for d in bundled_dirs):
                continue
            system.add(lib)
    assert "libxcb-icccm.so.4" in system and "libxcb-keysyms.so.1" in system  # the ones users missed
    assert sorted(system - set(DEBIAN_PACKAGES)) == []
