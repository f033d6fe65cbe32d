"""One video of a batch, as a task any worker can run: a local process or a Ray task.

A ``VideoTask`` carries everything by value (paths, the keyframes as a dict, the tracker, the
drift settings, the thread count) and ``run_task`` returns a ``VideoOutcome`` by value, so the
same function runs in a process pool and on a Ray cluster and the driver writes every output
the same way. The thread count is part of the task: the same count gives the same numbers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.engine.jobs import TrackerSpec


@dataclass(frozen=True)
class VideoTask:
    video: str  # a video file or a folder of images
    keyframes: dict  # Annotations.to_dict() of the manual boxes
    spec: TrackerSpec
    drift: dict = field(default_factory=dict)  # DriftSettings.to_dict(); {} = the defaults
    threads: int = 1

    def key(self) -> str:
        """Identifies the work (not the thread count): a finished video with the same key is
        not done again."""
        text = json.dumps(
            {
                "video": self.video,
                "keyframes": self.keyframes,
                "spec": asdict(self.spec),
                "drift": self.drift,
            },
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class VideoOutcome:
    video: str
    annotations: dict | None = None  # Annotations.to_dict(), tracked
    #: app.io.project.VideoRef fields: path, frame_count, width, height, fps
    ref: dict | None = None
    stats: dict | None = None  # app.engine.annotate.AnnotateStats fields, fps added
    error: str = ""


def run_task(task: VideoTask, progress: Callable[[int, int], None] | None = None) -> VideoOutcome:
    """Track one video from its keyframes. Never raises: a failure comes back as ``error``."""
    import torch

    from app.engine.annotate import annotate
    from app.io.video import open_video
    from app.model.annotations import Annotations
    from trackers.drift import DriftSettings

    torch.set_num_threads(task.threads)
    video = None
    try:
        video = open_video(task.video)
        annotations = Annotations.from_dict(task.keyframes)
        annotations.frame_count = video.frame_count
        late = [(t.id, f) for t in annotations for f in t.frames() if not 0 <= f < video.frame_count]
        if late:
            track, frame = late[0]
            raise ValueError(
                f"track {track} has a keyframe on frame {frame + 1}, beyond the video's {video.frame_count} frames"
            )
        stats = annotate(video, annotations, task.spec, DriftSettings.from_dict(task.drift), progress)
        width, height = video.size
        ref = {
            "path": str(Path(task.video).resolve()),
            "frame_count": video.frame_count,
            "width": width,
            "height": height,
            "fps": video.fps,
        }
        return VideoOutcome(task.video, annotations.to_dict(), ref, asdict(stats) | {"fps": stats.fps})
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad video fails alone, with its reason
        return VideoOutcome(
            task.video, error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        )
    finally:
        if video is not None:
            video.close()
