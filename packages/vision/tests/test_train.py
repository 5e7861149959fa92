"""The reference trainer end to end: outputs, digits accuracy, resume, fine-tuning."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

import flambeau
from flambeau.vision.train import main

FAKE = ["--dataset", "fake", "--fake-size", "48", "--batch-size", "16", "--lr", "1e-3"]


def read_metrics(out):
    with open(out / "metrics.csv", newline="") as f:
        return list(csv.reader(f))


def test_fake_data_run_writes_every_output(tmp_path):
    out = tmp_path / "run"
    assert main([*FAKE, "--epochs", "2", "--out", str(out), "--scheduler", "cosine",
                 "--optimizer", "sgd"]) == 0
    rows = read_metrics(out)
    assert rows[0] == ["epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc"]
    assert [r[0] for r in rows[1:]] == ["1", "2"]
    assert all(0.0 <= float(r[5]) <= 1.0 and float(r[2]) > 0 for r in rows[1:])
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = flambeau.load(out / "checkpoint_002.pt")
    assert set(state) >= {"model", "optimizer", "scheduler", "rng", "loader_rng", "epoch"}
    assert state["epoch"] == 2 and (out / "checkpoint_001.pt").exists()


def test_command_line_entry_point(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "flambeau.vision.train", *FAKE, "--epochs", "1",
         "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "final test accuracy" in result.stdout
    assert "img_s=" in result.stderr  # the tqdm bar shows images per second


def test_digits_short_run_learns(tmp_path):
    assert main(["--epochs", "1", "--out", str(tmp_path)]) == 0
    assert float(read_metrics(tmp_path)[1][5]) > 0.8  # one one-cycle epoch of LeNet


def test_resume_reproduces_an_uninterrupted_run(tmp_path):
    args = [*FAKE, "--seed", "3"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    main([*args, "--epochs", "2", "--out", str(straight)])
    main([*args, "--epochs", "2", "--out", str(split)])
    (split / "checkpoint_002.pt").unlink()  # as if the run had stopped after epoch 1
    main([*args, "--epochs", "2", "--out", str(split), "--resume"])
    assert read_metrics(straight) == read_metrics(split)
    a = flambeau.load(straight / "checkpoint_002.pt")
    b = flambeau.load(split / "checkpoint_002.pt")
    for key, value in a["model"].items():
        np.testing.assert_array_equal(value.cpu().numpy(), b["model"][key].cpu().numpy())
    assert read_metrics(straight)[1] != read_metrics(straight)[2]


def test_pretrained_and_freeze_backbone(tmp_path):
    first = tmp_path / "first"
    main([*FAKE, "--epochs", "1", "--out", str(first)])
    pretrained = flambeau.load(first / "checkpoint_001.pt")["model"]
    tuned = tmp_path / "tuned"
    main([*FAKE, "--epochs", "1", "--out", str(tuned), "--seed", "5",
          "--pretrained", str(first / "checkpoint_001.pt"), "--freeze-backbone"])
    after = flambeau.load(tuned / "checkpoint_001.pt")["model"]
    for key in ("features.0.weight", "features.3.bias", "classifier.0.weight"):
        np.testing.assert_array_equal(after[key].cpu().numpy(), pretrained[key].cpu().numpy())
    assert not np.array_equal(after["classifier.4.weight"].cpu().numpy(),
                              pretrained["classifier.4.weight"].cpu().numpy())


def test_usage_errors(tmp_path):
    with pytest.raises(SystemExit, match="--resume needs --out"):
        main([*FAKE, "--epochs", "1", "--resume"])
    with pytest.raises(SystemExit, match="no checkpoint_"):
        main([*FAKE, "--epochs", "1", "--resume", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        main(["--model", "resnet1000"])


def test_distributed_without_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "flambeau.distributed", None)  # as if not installed
    with pytest.raises(SystemExit, match="pip install flambeau-distributed"):
        main([*FAKE, "--epochs", "1", "--distributed"])
