"""Start the real app on the demo clip in a real X server and check that its window comes up.

    python scripts/smoke_gui.py [--seconds 5] [--screenshot out/smoke.png]

Runs ``main.py --demo`` under a fresh Xvfb with Qt's xcb platform (the one users get, not
``offscreen``), so a system library missing for Qt fails here as it would for a user. Passes
when a top-level window named Siamark is mapped and the app is still running ``--seconds``
later; then the app is asked to quit. Needs ``Xvfb`` and ``xwininfo`` (Debian: xvfb, x11-utils);
the screenshot needs ImageMagick's ``import``. Standard library only. Exit code 0 = passed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOW_TIMEOUT_S = 60  # a cold start imports torch and builds the default tracker


def fail(message: str) -> int:
    print(f"smoke: FAILED: {message}", file=sys.stderr)
    return 1


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """An Xvfb on a free display number, which it picks and reports itself."""
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        xvfb.kill()
        raise RuntimeError("Xvfb did not start")
    return xvfb, f":{number}"


def siamark_window(display: str) -> str | None:
    """The line ``xwininfo`` prints for a mapped window titled Siamark..., or None."""
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree", "-display", display], capture_output=True, text=True, check=False
    ).stdout
    for line in tree.splitlines():
        if '"Siamark' not in line:
            continue
        window_id = line.split()[0]
        info = subprocess.run(
            ["xwininfo", "-id", window_id, "-display", display], capture_output=True, text=True, check=False
        ).stdout
        if "Map State: IsViewable" in info:
            return line.strip()
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long the app must stay up")
    parser.add_argument("--screenshot", type=Path, help="save the screen here once the window is up")
    args = parser.parse_args(argv)
    for tool in ("Xvfb", "xwininfo"):
        if not shutil.which(tool):
            return fail(f"{tool} is not installed (Debian: apt-get install xvfb x11-utils)")

    xvfb, display = start_xvfb()
    config = tempfile.TemporaryDirectory(prefix="siamark-smoke-")  # no recovery prompt, no user settings
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", SIAMARK_CONFIG_DIR=config.name)
    log = Path(config.name) / "app.log"
    with log.open("w") as out:
        app = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "--demo"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        started = time.monotonic()
        window = None
        while window is None:
            if app.poll() is not None:
                return fail(f"the app exited with code {app.returncode} before its window showed:\n"
                            + log.read_text())
            if time.monotonic() - started > WINDOW_TIMEOUT_S:
                return fail(f"no Siamark window after {WINDOW_TIMEOUT_S} s:\n" + log.read_text())
            time.sleep(0.25)
            window = siamark_window(display)
        shown = time.monotonic() - started
        print(f"smoke: window up after {shown:.1f} s on {display} (xcb): {window}")
        time.sleep(args.seconds)
        if app.poll() is not None:
            return fail(f"the app exited with code {app.returncode} after its window showed:\n"
                        + log.read_text())
        if args.screenshot:
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["import", "-display", display, "-window", "root", str(args.screenshot)],
                           check=True)
            print(f"smoke: screenshot {args.screenshot}")
        app.send_signal(signal.SIGTERM)
        try:
            app.wait(20)
        except subprocess.TimeoutExpired:
            return fail("the app did not quit within 20 s of SIGTERM")
        print(f"smoke: passed: still running {args.seconds:.0f} s after the window showed")
        return 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        xvfb.terminate()
        xvfb.wait()
        config.cleanup()


if __name__ == "__main__":
    sys.exit(main())
