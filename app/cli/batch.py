"""``siamark batch``: pre-annotate many videos at once from a few keyframes each, headless.

    siamark batch --keyframes keyframes.csv --out results/ [--export mot --export coco]
    siamark batch --from otb:seqs/bag/groundtruth_rect.txt seqs/bag/img --out results/
    siamark batch --keyframes keyframes.csv --out results/ --ray [ADDRESS]

Every video is tracked by ``app.engine.annotate`` (the GUI's rules and code: drift flags, runs
fused with the run back from the next keyframe) as one task, in a process of its own (``--workers``
at a time, all cores by default) or on a Ray cluster (``--ray``). The driver writes every output:
per video ``OUT/<name>/<name>.siamark.json`` (open it in the app), the exports asked for under
``OUT/<name>/exports/``, and last ``OUT/<name>/result.json``, which marks the video done: a rerun
skips it (``--redo`` does it again). ``OUT/summary.json`` lists every video with its figures or
its failure. Files are written atomically, so Ctrl+C leaves no half-written output.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.cli.commands import Command, register_command

#: seconds between progress messages from a worker
_PROGRESS_EVERY = 0.5


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keyframes",
        metavar="CSV",
        help="keyframes: a CSV with the header video,frame,track,label,x,y,w,h "
        "(1-based frames, 0-based pixel boxes; videos relative to the CSV)",
    )
    parser.add_argument(
        "--from",
        dest="imports",
        nargs=2,
        action="append",
        default=[],
        metavar=("FORMAT:FILE", "VIDEO"),
        help="keyframes from an annotation file and its video (project, cvat, mot, coco, voc, yolo, pysot; "
        "otb / got10k / lasot: the first box); repeat for more videos",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    parser.add_argument("--tracker", default=None, help="tracker name (default: the app's default)")
    parser.add_argument("--weights", help="checkpoint file (default: the shipped one)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N, mps")
    parser.add_argument(
        "--export", action="append", default=[], metavar="FORMAT", help="also export each video (repeatable)"
    )
    parser.add_argument(
        "--workers", type=int, help="videos at a time (default: one per core, at most the videos)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads per video (default: cores / workers); the same count gives the same numbers",
    )
    parser.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run the videos as Ray tasks: on the cluster at ADDRESS, or (no address) on a local Ray, "
        "started or joined",
    )
    parser.add_argument("--redo", action="store_true", help="track videos again even when done")
    parser.add_argument("--no-fuse", action="store_true", help="no runs back from keyframes")


class InputError(Exception):
    pass


@dataclass
class Item:
    """One video of the batch: its task and where its outputs go."""

    name: str
    task: object  # app.engine.batch.VideoTask
    status: str = "pending"  # pending, done (earlier run), tracked, failed
    error: str = ""
    stats: dict | None = None


# -- inputs --------------------------------------------------------------------------------------


def read_inputs(args) -> dict[str, object]:
    """{video path: Annotations of its keyframes}, in the order given."""
    from app.io.formats import FormatError
    from app.io.keyframes import keyframes_from_file, read_keyframes_csv
    from app.io.video import SourceError, open_video

    if not args.keyframes and not args.imports:
        raise InputError("nothing to do: give --keyframes CSV and / or --from FORMAT:FILE VIDEO")
    inputs: dict[str, object] = {}
    try:
        if args.keyframes:
            inputs.update(read_keyframes_csv(args.keyframes))
        for spec, video in args.imports:
            fmt, sep, path = spec.partition(":")
            if not sep or not path:
                raise InputError(f"{spec!r}: expected FORMAT:FILE, e.g. mot:gt/gt.txt")
            try:
                with open_video(video) as opened:
                    count = opened.frame_count
            except (SourceError, OSError) as exc:
                raise InputError(f"{video}: {exc}") from None
            key = str(Path(video).resolve())
            if key in inputs:
                raise InputError(f"{video} has keyframes twice (in the CSV or another --from)")
            inputs[key] = keyframes_from_file(fmt, path, count)
    except (FormatError, ValueError) as exc:
        raise InputError(str(exc)) from None
    return inputs


def output_names(videos) -> list[str]:
    """A folder name per video: its name, numbered when two videos share one."""
    from app.io.formats.output import video_name

    names, used = [], set()
    for video in videos:
        base = name = video_name(video)
        k = 2
        while name in used:
            name, k = f"{base}-{k}", k + 1
        used.add(name)
        names.append(name)
    return names


# -- outputs -------------------------------------------------------------------------------------


def result_path(out: Path, item: Item) -> Path:
    return out / item.name / "result.json"


def is_done(out: Path, item: Item) -> dict | None:
    """The earlier result of this very task, or None."""
    try:
        result = json.loads(result_path(out, item).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) and result.get("key") == item.task.key() else None


def write_outputs(out: Path, item: Item, outcome, exports: list[str]) -> dict:
    """The project, the exports and, last, result.json (the done marker) of one video."""
    from app.io.formats import FORMATS, ExportJob
    from app.io.project import Project, VideoRef, save_project, video_fingerprint
    from app.io.video import open_video
    from app.model.annotations import Annotations
    from trackers.io import atomic_write_text

    folder = out / item.name
    folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(folder / "exports", ignore_errors=True)  # left by an interrupted earlier run
    result_path(out, item).unlink(missing_ok=True)
    annotations = Annotations.from_dict(outcome.annotations)
    ref = outcome.ref
    video = VideoRef(
        ref["path"],
        video_fingerprint(ref["path"]),
        ref["frame_count"],
        ref["width"],
        ref["height"],
        ref["fps"],
    )
    task = item.task
    settings = {"drift": task.drift, "tracker": task.spec.name}
    project = folder / f"{item.name}.siamark.json"
    save_project(Project(video, annotations, settings), project)
    written = [project.name]
    for name in exports:
        fmt = FORMATS[name]
        target = folder / "exports" / (name if fmt.target_kind == "folder" else name + fmt.file_suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        if fmt.needs_frames:
            with open_video(video.path) as frames:
                fmt.export(ExportJob(annotations, video, target, frames=frames.frame))
        else:
            fmt.export(ExportJob(annotations, video, target))
        written.append(str(target.relative_to(folder)))
    result = {"key": task.key(), "video": task.video, "stats": outcome.stats, "outputs": written}
    atomic_write_text(result_path(out, item), json.dumps(result, indent=1) + "\n")
    return result


def write_summary(out: Path, items: list[Item], mode: str, seconds: float, interrupted: bool) -> dict:
    from trackers.io import atomic_write_text

    videos = [
        {"name": i.name, "video": i.task.video, "status": i.status, "error": i.error, **(i.stats or {})}
        for i in items
    ]
    tracked = [i for i in items if i.status == "tracked"]
    frames = sum(i.stats["frames"] for i in tracked)
    summary = {
        "mode": mode,
        "interrupted": interrupted,
        "seconds": round(seconds, 2),
        "videos": len(items),
        "tracked": len(tracked),
        "done_before": sum(i.status == "done" for i in items),
        "failed": sum(i.status == "failed" for i in items),
        "frames_tracked": frames,
        "videos_per_second": round(len(tracked) / seconds, 4) if seconds > 0 else 0.0,
        "frames_per_second": round(frames / seconds, 2) if seconds > 0 else 0.0,
        "per_video": videos,
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    return summary


# -- progress ------------------------------------------------------------------------------------


class Bars:
    """An overall bar and one per running video (a terminal); plain lines otherwise."""

    def __init__(self, total: int):
        from tqdm import tqdm

        self.tqdm = tqdm
        self.live = sys.stderr.isatty()
        self.overall = tqdm(total=total, desc="videos", unit="video", position=0, disable=not self.live)
        self.bars: dict[str, object] = {}

    def update(self, name: str, done: int, total: int) -> None:
        if not self.live:
            return
        bar = self.bars.get(name)
        if bar is None:
            bar = self.bars[name] = self.tqdm(
                total=total, desc=name[:24], unit="fr", position=len(self.bars) + 1, leave=False
            )
        bar.total = total
        bar.n = done
        bar.refresh()

    def finished(self, item: Item) -> None:
        bar = self.bars.pop(item.name, None)
        if bar is not None:
            bar.close()
        self.overall.update(1)
        line = f"{item.name}: {item.status}" + (f" ({item.error})" if item.error else "")
        if item.stats:
            s = item.stats
            line += f", {s['tracked']} frames tracked at {s['fps']:.1f} fps, {s['flagged']} flagged"
        self.overall.write(line, file=sys.stderr)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.overall.close()


# -- running: a local process pool -----------------------------------------------------------------

_queue = None  # the progress queue of this worker process


def _init_worker(queue) -> None:
    global _queue
    _queue = queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver handles Ctrl+C and stops the pool


def _throttled(send: Callable[[int, int], None]) -> Callable[[int, int], None]:
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= _PROGRESS_EVERY:
            last[0] = now
            send(done, total)

    return progress


def _local_task(name: str, task):
    from app.engine.batch import run_task

    return run_task(task, _throttled(lambda d, t: _queue.put((name, d, t))))


def run_local(items: list[Item], workers: int, bars: Bars, finish: Callable, stopping: Callable) -> None:
    import multiprocessing
    import queue as queues

    context = multiprocessing.get_context("spawn")  # no forked torch / OpenVINO thread pools
    progress = context.Queue()
    pool = context.Pool(workers, initializer=_init_worker, initargs=(progress,))
    try:
        pending = {pool.apply_async(_local_task, (i.name, i.task)): i for i in items}
        while pending:
            if stopping():
                raise KeyboardInterrupt
            try:
                while True:
                    bars.update(*progress.get(timeout=0.1))
            except queues.Empty:
                pass
            for result in [r for r in pending if r.ready()]:
                finish(pending.pop(result), result.get())
        pool.close()
    finally:
        pool.terminate()
        pool.join()


# -- running: Ray --------------------------------------------------------------------------------


def _ray_task(name: str, task, queue):
    from app.engine.batch import run_task

    return run_task(task, _throttled(lambda d, t: queue.put((name, d, t))))


def run_ray(
    items: list[Item], address: str, threads: int, bars: Bars, finish: Callable, stopping: Callable
) -> str:
    """The tasks on a Ray cluster (``address``), or on a local Ray ("": started or joined).
    Returns a description of the cluster."""
    try:
        import ray
        from ray.util.queue import Empty, Queue
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'ray>=2.9'") from None

    root = str(Path(__file__).resolve().parents[2])
    ray.init(
        address=address or None,
        include_dashboard=False,
        logging_level="ERROR",
        log_to_driver=False,
        # the workers import Siamark from this checkout (on a cluster: the same path on every
        # node, or Siamark installed there)
        runtime_env={
            "env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        },
    )
    try:
        resources = ray.cluster_resources()
        gpus = resources.get("GPU", 0)
        remote = ray.remote(_ray_task).options(num_cpus=threads, num_gpus=1 if gpus else 0, max_retries=0)
        queue = Queue()
        pending = {remote.remote(i.name, i.task, queue): i for i in items}
        try:
            while pending:
                if stopping():
                    raise KeyboardInterrupt
                ready, _rest = ray.wait(list(pending), num_returns=1, timeout=0.1)
                try:
                    for message in queue.get_nowait_batch(queue.qsize()):
                        bars.update(*message)
                except Empty:
                    pass
                for ref in ready:
                    finish(pending.pop(ref), ray.get(ref))
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        nodes = len([n for n in ray.nodes() if n.get("Alive")])
        return f"Ray, {nodes} node(s), {resources.get('CPU', 0):g} CPUs, {gpus:g} GPUs"
    finally:
        ray.shutdown()


# -- the command ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    import trackers
    from app.engine.batch import VideoTask
    from app.engine.jobs import TrackerSpec, has_shipped_weights
    from app.io.formats import FORMATS
    from trackers.drift import DriftSettings

    try:
        name = args.tracker or trackers.recommended()
        if name not in trackers.names():
            raise InputError(f"unknown tracker {name!r}; see `python -m trackers list`")
        if args.weights is None and not has_shipped_weights(name):
            raise InputError(f"tracker {name!r} has no shipped weights: pass --weights FILE")
        for fmt in args.export:
            if fmt not in FORMATS or FORMATS[fmt].export is None:
                raise InputError(
                    f"cannot export {fmt!r}; one of {', '.join(n for n, f in FORMATS.items() if f.export)}"
                )
        inputs = read_inputs(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"error: cannot create {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    cores = os.cpu_count() or 1
    workers = max(1, min(args.workers or cores, len(inputs)))
    threads = args.threads or max(1, cores // workers)
    spec = TrackerSpec(name, weights=args.weights, device=args.device)
    drift = DriftSettings(fuse_with_keyframes=not args.no_fuse, pause_on_flag=False).to_dict()
    items = [
        Item(n, VideoTask(video, keyframes.to_dict(), spec, drift, threads))
        for n, (video, keyframes) in zip(output_names(inputs), inputs.items(), strict=True)
    ]
    todo = []
    for item in items:
        earlier = None if args.redo else is_done(out, item)
        if earlier is not None:
            item.status, item.stats = "done", earlier.get("stats")
        else:
            todo.append(item)
    mode = "ray" if args.ray is not None else f"local, {workers} process(es)"
    print(
        f"{len(items)} videos ({len(items) - len(todo)} done before), tracker {name}, {threads} thread(s) per video, "
        f"{mode}",
        file=sys.stderr,
    )
    bars = Bars(len(todo))

    def finish(item: Item, outcome) -> None:
        if outcome.error:
            item.status, item.error = "failed", outcome.error
        else:
            try:
                item.stats = write_outputs(out, item, outcome, args.export)["stats"]
                item.status = "tracked"
            except (OSError, ValueError) as exc:
                item.status, item.error = "failed", f"writing its outputs: {exc}"
        bars.finished(item)

    # Ctrl+C stops the batch between two videos' outputs, never in the middle of writing one.
    asked = []
    previous = signal.signal(signal.SIGINT, lambda *_: asked.append(True))
    t0 = time.perf_counter()
    interrupted = False
    try:
        if not todo:
            pass
        elif args.ray is not None:
            mode = run_ray(todo, args.ray, threads, bars, finish, lambda: bool(asked))
        else:
            run_local(todo, workers, bars, finish, lambda: bool(asked))
    except KeyboardInterrupt:
        interrupted = True
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGINT, previous)
        bars.close()
    summary = write_summary(out, items, mode, time.perf_counter() - t0, interrupted)
    print(
        f"{summary['tracked']} tracked, {summary['done_before']} done before, {summary['failed']} failed"
        f"{' (interrupted: run again to go on)' if interrupted else ''}; {summary['frames_tracked']} frames in "
        f"{summary['seconds']:.1f} s ({summary['frames_per_second']:.1f} frames/s); summary: {out / 'summary.json'}",
        file=sys.stderr,
    )
    for item in items:
        if item.status == "failed":
            print(f"  failed: {item.name}: {item.error}", file=sys.stderr)
    if interrupted:
        return 130
    return 1 if summary["failed"] else 0


register_command(
    "batch",
    Command("pre-annotate many videos from keyframes (local processes or Ray)", configure, run),
)
