"""Tests of the benchmark scripts' pure parts: the lesson settings they train with, their tables."""

from __future__ import annotations

import doctest
import hashlib
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from types import ModuleType

import nbformat
import pytest
from helpers import load_tool

from course_utils.profiles import PROFILES, lesson_settings

ROOT = Path(__file__).resolve().parents[1]


def bench(name: str) -> ModuleType:
    return load_tool(name, folder="benchmarks")


@pytest.mark.parametrize("name", ["fashion_cnn", "transfer", "notebooks"])
def test_benchmark_docstring_examples(name: str) -> None:
    module = bench(name)
    failed, _ = doctest.testmod(module, verbose=False)
    assert failed == 0


# --- fashion_cnn.py: lesson 03 ---------------------------------------------------


@pytest.mark.parametrize("profile", list(PROFILES))
def test_fashion_benchmark_trains_with_the_lesson_settings(
    profile: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fashion = bench("fashion_cnn")
    seen = []

    def fake_run(name: str, knobs: dict) -> dict:
        seen.append((name, knobs))
        return {"profile": name, "epochs": knobs["epochs"]}

    monkeypatch.setattr(fashion, "run", fake_run)
    assert fashion.main(["--profile", profile]) == 0
    assert seen == [(profile, lesson_settings("03", profile))]
    out = capsys.readouterr().out
    assert "Machine: " in out and "CPU cores" in out
    assert out.rstrip().endswith(
        f"| profile | epochs |\n|---|---|\n| {profile} | "
        f"{lesson_settings('03', profile)['epochs']} |"
    )
    # Flags change single settings; the others stay the lesson's.
    fashion.main(["--profile", profile, "--epochs", "2", "--train-samples", "100"])
    assert seen[-1][1] == lesson_settings("03", profile, epochs=2, train_samples=100)


# --- transfer.py: lessons 05 and 06 ----------------------------------------------


@pytest.mark.parametrize("profile", list(PROFILES))
def test_transfer_benchmark_phases_use_the_lesson_settings(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    transfer = bench("transfer")
    seen: dict[str, tuple] = {}

    def recorder(key: str | None = None):
        def phase(*args) -> dict:  # (dataset,) profile, lesson settings
            seen[key or args[0]] = (args[-2].name, args[-1])
            return {}

        return phase

    monkeypatch.setattr(transfer, "_frozen_head", recorder())
    monkeypatch.setattr(transfer, "_end_to_end", recorder("e2e"))
    monkeypatch.setattr(transfer, "_fine_tune", recorder("fine"))
    for phase in transfer.PHASES:
        result = transfer.run_phase(phase, profile)
        assert result["peak_rss_mib"] > 0
    lesson05, lesson06 = lesson_settings("05", profile), lesson_settings("06", profile)
    assert seen == {
        "cats_and_dogs_filtered": (profile, lesson05),
        "flower_photos": (profile, lesson05),
        "e2e": (profile, lesson05),
        "fine": (profile, lesson06),
    }
    seen.clear()
    transfer.run_phase("flowers_fine_tune", profile, fine_tune_batch=8)
    assert seen["fine"][1] == lesson_settings("06", profile, batch_size=8)
    with pytest.raises(ValueError, match="unknown phase"):
        transfer.run_phase("no_such_phase", profile)


def test_transfer_benchmark_table() -> None:
    transfer = bench("transfer")
    results = {
        "cats_dogs_frozen": {
            "epochs": 10,
            "val_accuracy": 0.97,
            "wall_s": 11.0,
            "extract_s": 5.0,
            "head_epoch_s": 0.1,
            "peak_rss_mib": 900.4,
        },
        "cats_dogs_end_to_end": {
            "epochs": 2,
            "val_accuracy": 0.95,
            "wall_s": 30.0,
            "epoch_s": 6.0,
            "peak_rss_mib": 1000,
        },
        "flowers_fine_tune": {
            "epochs": 5,
            "val_accuracy": 0.9,
            "wall_s": 40.0,
            "peak_rss_mib": 1100,
            "batch_size": 16,
            "fine_tune_at": "block_12_expand",
            "learning_rate": 1e-4,
            "val_accuracy_before": 0.85,
            "test_accuracy_before": 0.807,
            "test_accuracy": 0.87,
            "n_test": 300,
        },
    }
    lines = transfer.table("workshop", results).splitlines()
    assert lines[0] == (
        "| dataset | backbone | image size | phase | epochs | val accuracy | wall time (s) "
        "| peak RSS (MiB) | feature-cache speed-up |"
    )
    # 10 epochs: 10 x 6 s end to end against 5 s of extraction + 10 x 0.1 s on the features.
    assert lines[2] == (
        "| cats vs dogs | MobileNetV2 | 160 | frozen, cached features (GAP head) "
        "| 10 | 0.970 | 11.0 | 900 | 10.0x over 10 epochs |"
    )
    assert lines[3].endswith("| 6.0 s/epoch vs 0.100 |")
    assert lines[4].startswith(
        "| flowers (5) | MobileNetV2 | 160 | fine-tune from block_12_expand, lr 0.0001 cosine, "
        "batch 16 "
        "(val was 0.850; test 0.807 -> 0.870 on 300 images) | 5 | 0.900 |"
    )


# --- notebooks.py: every lesson --------------------------------------------------


def test_notebooks_benchmark_measures_without_tensorflow() -> None:
    """The driver samples the kernel's PSS: TensorFlow loaded in it would halve the shared part."""
    script = textwrap.dedent("""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("bench", sys.argv[1])
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
        print(bench.measure.PeakMemory.__name__, "tensorflow" in sys.modules)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "benchmarks/notebooks.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["PeakMemory", "False"]


def _notebook(path: Path, printed: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    for text in printed:
        cell = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint('...')")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def test_notebooks_benchmark_keeps_the_executed_notebook(tmp_path: Path) -> None:
    """--keep-executed writes the run's notebook, outputs included; the lesson stays as it was."""
    pytest.importorskip(
        "nbclient", reason="the benchmark runs lessons with nbclient; this environment lacks it"
    )
    notebooks = bench("notebooks")
    path = tmp_path / "nb.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
    nbformat.write(nb, path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    row = notebooks.run_one(path, timeout=120, keep_dir=tmp_path / "kept")
    kept = nbformat.read(tmp_path / "kept" / "nb.ipynb", as_version=4)
    assert row["error"] == ""
    assert kept.cells[0].outputs[0]["text"] == "42\n"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_notebooks_benchmark_refuses_to_keep_over_the_lesson(tmp_path: Path) -> None:
    """--keep-executed with the notebook's own folder is refused, naming the file and the fix."""
    path = _notebook(tmp_path / "nb.ipynb", [])
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match=r"overwrite the lesson .*nb\.ipynb.*other than"):
        bench("notebooks").kept_copy(tmp_path, path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/notebooks.py"), "--keep-executed", str(tmp_path),
         str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "would overwrite the lesson" in done.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_notebooks_benchmark_repeat_verdict_and_summary(tmp_path: Path) -> None:
    notebooks = bench("notebooks")
    path = _notebook(tmp_path / "nb.ipynb", ["a\n", "b\n"])
    assert notebooks.checked_outputs(nbformat.read(path, as_version=4)) == ["a\n", "b\n"]
    run = {
        "notebook": "nb.ipynb",
        "wall_s": 10.0,
        "peak_rss_mib": 900.0,
        "peak_pss_mib": 880.0,
        "slowest": [],
        "error": "",
        "metric": "-",
        "checked": ["a\n", "b\n"],
    }
    slower = {**run, "wall_s": 12.0, "peak_rss_mib": 950.0, "peak_pss_mib": None}
    assert notebooks.repeat_verdict(path, [run, run]) == "ok (2 runs, 2 checked cells equal)"
    assert "checked cells [1] differ" in notebooks.repeat_verdict(
        path, [run, {**run, "checked": ["a\n", "c\n"]}]
    )
    row = notebooks.summarize(path, [run, slower])
    assert (row["wall_s"], row["peak_rss_mib"], row["peak_pss_mib"]) == (12.0, 950.0, None)
    assert row["repeat"].startswith("ok")


def test_notebooks_benchmark_report() -> None:
    notebooks = bench("notebooks")
    rows = [
        {
            "notebook": "05_transfer_learning.ipynb",
            "wall_s": 54.2,
            "peak_rss_mib": 1330.4,
            "peak_pss_mib": 1318.0,
            "metric": "cats vs dogs test accuracy 0.933",
            "slowest": [(13.0, "e2e_timer = measure.EpochTimer()"), (0.5, "x = 1")],
            "error": "",
            "repeat": "ok (2 runs, 7 checked cells equal)",
        },
        {
            "notebook": "06_fine_tuning.ipynb",
            "wall_s": 29.0,
            "peak_rss_mib": 1143.0,
            "peak_pss_mib": None,
            "metric": "-",
            "slowest": [],
            "error": "boom",
            "repeat": "",
        },
    ]
    text = notebooks.report(
        "smoke",
        rows,
        2,
        "Some CPU, 2 CPU cores, GPU: none; Python 3",
        datetime(2026, 11, 25, 17, 30),
    )
    lines = text.splitlines()
    assert lines[0].endswith(
        ": Some CPU, 2 CPU cores, GPU: none; Python 3; 2026-11-25 17:30; "
        "each notebook run 2 times in a row (worst run shown)"
    )
    assert lines[2] == (
        "| notebook | profile | wall time | peak RSS, kernel tree (MiB) | peak PSS (MiB) "
        "| key metric | slowest cells (s) | repeatable | error |"
    )
    assert lines[4] == (
        "| 05_transfer_learning.ipynb | smoke | 54 s | 1330 | 1318 | cats vs dogs test accuracy "
        "0.933 | 13 `e2e_timer = measure.EpochTimer()` | ok (2 runs, 7 checked cells equal) | - |"
    )
    assert lines[5] == "| 06_fine_tuning.ipynb | smoke | 29 s | 1143 | n/a | - | - |  | boom |"
    assert lines[-1].startswith(
        "Total wall time: 83 s; largest peak RSS 1330 MiB, largest peak "
        "PSS n/a (this OS does not report PSS)."
    )
    single = notebooks.report("smoke", rows[:1], 1, "m", datetime(2026, 1, 1))
    assert "repeatable" not in single and "largest peak PSS 1318 MiB" in single
