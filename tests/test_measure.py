"""Tests of course_utils.measure: timers, memory in MiB, the process-tree sampler, the report."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import measure
from course_utils.measure import MIB

ROOT = Path(__file__).resolve().parents[1]

#: A child process that holds ``argv[1]`` MiB of written memory for half a second.
HOLD = "import sys, time; block = bytearray(int(sys.argv[1]) * 2**20); time.sleep(0.5)"


# --- time ------------------------------------------------------------------------


def test_timer_wall_and_cpu_time() -> None:
    with measure.Timer() as idle:
        time.sleep(0.1)
    assert 0.1 <= idle.seconds < 5 and idle.cpu_seconds < idle.seconds
    with measure.Timer() as busy:
        end = time.process_time() + 0.2
        while time.process_time() < end:  # busy for 0.2 s of CPU time
            pass
        so_far = busy.seconds
    assert 0 < so_far <= busy.seconds  # read inside the block: the time so far
    assert 0.2 <= busy.cpu_seconds < 5 and busy.seconds >= 0.15


def test_epoch_timer_records_each_epoch() -> None:
    model = keras.Sequential(
        [
            keras.Input((2, 2, 4)),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    timer = measure.EpochTimer()
    assert isinstance(timer, keras.callbacks.Callback) and timer.seconds == []
    x = np.zeros((4, 2, 2, 4), "float32")
    model.fit(x, np.array([0, 1, 0, 1]), epochs=3, callbacks=[timer], verbose=0)
    assert len(timer.seconds) == 3 and all(s > 0 for s in timer.seconds)
    assert measure.EpochTimer is type(timer)  # built once
    with pytest.raises(AttributeError, match="no attribute 'EpochTimers'"):
        measure.EpochTimers  # noqa: B018


# --- memory: units ---------------------------------------------------------------


def test_rss_mib_is_resident_memory_in_mib() -> None:
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("no /proc on this OS")
    vm_rss_kib = next(
        int(ln.split()[1]) for ln in status.read_text().splitlines() if ln.startswith("VmRSS:")
    )
    assert measure.rss_mib() == pytest.approx(vm_rss_kib / 1024, abs=8)


@pytest.mark.parametrize(
    ("platform_name", "ru_maxrss", "expected"),
    [("linux", 3 * 1024, 3.0), ("darwin", 3 * MIB, 3.0)],  # KiB on Linux, bytes on macOS
)
def test_peak_rss_mib_units_per_os(
    monkeypatch: pytest.MonkeyPatch, platform_name: str, ru_maxrss: int, expected: float
) -> None:
    import resource

    monkeypatch.setattr(measure.sys, "platform", platform_name)
    monkeypatch.setattr(resource, "getrusage", lambda who: SimpleNamespace(ru_maxrss=ru_maxrss))
    assert measure.peak_rss_mib() == expected


def test_peak_rss_mib_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "resource", None)  # `import resource` fails, as on Windows
    fake = SimpleNamespace(memory_info=lambda: SimpleNamespace(peak_wset=5 * MIB))
    monkeypatch.setattr(measure.psutil, "Process", lambda pid=None: fake)
    assert measure.peak_rss_mib() == 5.0


def test_lifetime_peak_is_at_least_the_current_memory() -> None:
    now = measure.rss_mib()
    assert 0.99 * now < measure.peak_rss_mib() < 100 * now  # the kernel's counters are approximate


# --- memory: the sampler ---------------------------------------------------------


def test_peak_memory_sees_a_large_allocation() -> None:
    with measure.PeakMemory(interval=0.005) as mem:
        block = np.ones(64 * MIB // 8)  # 64 MiB, written so the pages are resident
        time.sleep(0.05)
    assert block.sum() > 0
    assert mem.peak_rss_mib - mem.start_rss_mib > 40
    assert measure.peak_rss_mib() >= mem.peak_rss_mib * 0.9
    assert measure.rss_mib() > 0


def test_peak_memory_sees_a_child_process_allocate() -> None:
    with measure.PeakMemory(interval=0.02) as mem:
        subprocess.run([sys.executable, "-c", HOLD, "150"], check=True)
    assert mem.peak_rss_mib - mem.start_rss_mib > 150
    if measure.HAS_PSS:  # the child's own pages count in full in its PSS
        assert mem.peak_pss_mib is not None and mem.peak_pss_mib > 150
    else:
        assert mem.peak_pss_mib is None


def test_peak_memory_of_the_children_only_reaches_grandchildren() -> None:
    # The child only starts a grandchild, which allocates: what a notebook's kernel does.
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {HOLD!r}, '120'])"
    with measure.PeakMemory(include_self=False, interval=0.02, pss_every=1) as mem:
        assert mem.start_rss_mib == 0.0  # no children yet
        subprocess.run([sys.executable, "-c", parent], check=True)
    assert mem.peak_rss_mib > 120
    assert mem.peak_rss_mib < 120 + 100  # two small Pythons: this process is not counted
    if measure.HAS_PSS:
        assert 120 < mem.peak_pss_mib <= mem.peak_rss_mib + 1


def test_peak_memory_says_when_there_is_no_pss(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measure, "HAS_PSS", False)
    with measure.PeakMemory() as mem:
        pass
    assert mem.peak_pss_mib is None and mem.peak_rss_mib > 0
    assert mem.summary().endswith("peak PSS not reported by this operating system")


def test_the_module_loads_without_tensorflow() -> None:
    """benchmarks/notebooks.py measures kernels with it: TensorFlow must stay out."""
    script = textwrap.dedent("""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("m", sys.argv[1])
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        with m.PeakMemory() as mem, m.Timer():
            line = m.machine()
        print("tensorflow" in sys.modules, "keras" in sys.modules, mem.peak_rss_mib > 0)
    """)
    path = ROOT / "course_utils" / "measure.py"
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "False", "True"]


# --- the machine and the report --------------------------------------------------


def test_machine_line(monkeypatch: pytest.MonkeyPatch) -> None:
    line = measure.machine()
    assert f"{measure.cpu_cores()} CPU cores" in line
    assert f"Python {platform.python_version()}, TensorFlow {tf.__version__}, " in line
    assert line.endswith(f"Keras {keras.__version__}")

    def fake_run(args, **kwargs):
        if args[0] == "nvidia-smi":
            return SimpleNamespace(returncode=0, stdout="NVIDIA H200\nNVIDIA H200\n")
        raise OSError("no such command")

    monkeypatch.setattr(measure.subprocess, "run", fake_run)
    assert "GPU: NVIDIA H200, NVIDIA H200;" in measure.machine()
    monkeypatch.setattr(measure.subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(OSError))
    assert "GPU: none;" in measure.machine()


def test_versions_without_importing() -> None:
    assert measure._version("numpy") == np.__version__
    assert measure._version("no_such_package_here") == "not installed"


def test_markdown_table() -> None:
    rows = [{"phase": "frozen", "val accuracy": "0.971"}, {"phase": "a | b", "val accuracy": 1}]
    assert measure.markdown_table(rows).splitlines() == [
        "| phase | val accuracy |",
        "|---|---|",
        "| frozen | 0.971 |",
        "| a \\| b | 1 |",
    ]
    with pytest.raises(ValueError, match="at least one row"):
        measure.markdown_table([])
    with pytest.raises(ValueError, match="columns"):
        measure.markdown_table([{"a": 1}, {"b": 2}])
