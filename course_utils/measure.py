"""Measuring a run: time, memory and the machine, for the lessons and the benchmarks.

Memory is in MiB (``2**20`` bytes) everywhere, and every name that holds some
says so (``_mib``)::

    >>> with Timer() as timer, PeakMemory(interval=0.01) as memory:
    ...     block = bytearray(64 * MIB)  # 64 MiB, zero-filled: every page is resident
    >>> memory.peak_rss_mib - memory.start_rss_mib > 50, timer.seconds < 10
    (True, True)

- :class:`Timer`: the wall time and CPU time of a ``with`` block;
- :func:`rss_mib`: resident memory now; :func:`peak_rss_mib`: this process's
  lifetime peak, as the operating system keeps it;
- :class:`PeakMemory`: a background sampler of the peak RSS and PSS of a
  process and its children (a notebook's kernel, say);
- :class:`EpochTimer`: a Keras callback recording each epoch's wall time;
- :func:`machine`: one line describing the machine and the library versions;
- :func:`markdown_table`: rows of results as a Markdown table.

This module imports only the standard library and psutil (Keras when
:class:`EpochTimer` is first used). A process that measures a TensorFlow
process (``benchmarks/notebooks.py``) can therefore load it without loading
TensorFlow itself, whose libraries it would otherwise share with the process it
measures, lowering that one's PSS.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

#: Bytes in a mebibyte.
MIB = 2**20
#: Whether the operating system reports PSS (proportional set size): only Linux does.
HAS_PSS = sys.platform.startswith("linux")


# --- time ------------------------------------------------------------------------


class Timer:
    """The wall-clock time and CPU time of a ``with`` block, in seconds.

    ``cpu_seconds`` is the user + system time of every thread of this process;
    divided by ``seconds`` it says how many cores were busy on average. Read
    inside the block, both give the time so far.

    >>> with Timer() as timer:
    ...     time.sleep(0.2)  # waiting costs wall time, not CPU time
    >>> timer.seconds >= 0.2, timer.cpu_seconds < timer.seconds
    (True, True)
    """

    def __init__(self) -> None:
        self._wall = self._cpu = 0.0
        self._wall_end: float | None = None
        self._cpu_end: float | None = None

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        self._wall_end = self._cpu_end = None
        return self

    def __exit__(self, *exc: object) -> None:
        self._wall_end, self._cpu_end = time.perf_counter(), time.process_time()

    @property
    def seconds(self) -> float:
        """Wall-clock seconds from entering the block to leaving it (or to now)."""
        end = time.perf_counter() if self._wall_end is None else self._wall_end
        return end - self._wall

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds (user + system, all threads) used in the block (or so far)."""
        end = time.process_time() if self._cpu_end is None else self._cpu_end
        return end - self._cpu


def __getattr__(name: str) -> Any:
    # EpochTimer subclasses a Keras class, so it is built (importing Keras) on first use.
    if name == "EpochTimer":
        globals()[name] = _epoch_timer_class()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _epoch_timer_class() -> type:
    """Build :class:`EpochTimer` (``measure.EpochTimer`` does, the first time).

    >>> import keras, numpy as np
    >>> from course_utils.measure import EpochTimer
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(loss="mse")
    >>> timer = EpochTimer()
    >>> _ = model.fit(np.zeros((4, 2)), np.zeros(4), epochs=3, callbacks=[timer], verbose=0)
    >>> len(timer.seconds), all(s > 0 for s in timer.seconds)
    (3, True)
    """
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """A Keras callback that records each epoch's wall time, in seconds, in ``seconds``."""

        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []
            self._start = 0.0

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.seconds.append(time.perf_counter() - self._start)

    EpochTimer.__qualname__ = "EpochTimer"
    return EpochTimer


# --- memory ----------------------------------------------------------------------


def rss_mib(pid: int | None = None) -> float:
    """The resident memory (RSS) of a process now (default: this one), in MiB.

    >>> before = rss_mib()
    >>> block = bytearray(100 * MIB)
    >>> 95 < rss_mib() - before < 110
    True
    """
    return psutil.Process(pid).memory_info().rss / MIB


def peak_rss_mib() -> float:
    """The highest resident memory this process has had since it started, in MiB.

    The operating system keeps this peak, so no spike is missed, but it cannot
    be reset and does not include child processes (:class:`PeakMemory` does
    both). It is ``getrusage``'s ``ru_maxrss``, which Linux gives in KiB and
    macOS in bytes; Windows has no ``getrusage`` and psutil gives its peak.

    >>> ratio = peak_rss_mib() / rss_mib()  # 1/1024 or 1024 if KiB and bytes were mixed up
    >>> 0.99 < ratio < 100  # at least the memory now (the kernel's counters are approximate)
    True
    """
    try:
        import resource
    except ImportError:  # Windows
        return psutil.Process().memory_info().peak_wset / MIB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


class PeakMemory:
    """Peak RSS and PSS of a process and all its descendants, sampled in a background thread.

    Every ``interval`` seconds the thread adds up the resident memory (RSS) of
    the process (default: this one; ``include_self=False`` leaves it out) and
    of its children, their children and so on, and every ``pss_every``-th
    time their proportional set size (PSS; reading it costs more). PSS counts
    a page shared by ``n`` processes as ``1/n`` in each, so the sum counts
    TensorFlow's libraries once, as a container's memory limit does, where
    the RSS sum counts them once per process. Only Linux reports PSS: elsewhere
    ``peak_pss_mib`` stays ``None`` and :meth:`summary` says so. A spike
    shorter than ``interval`` can be missed (:func:`peak_rss_mib` never misses
    one, for this process alone). All values in MiB.

    >>> import subprocess, sys
    >>> grow = "x = bytearray(200 * 2**20); import time; time.sleep(1)"
    >>> with PeakMemory(interval=0.02) as memory:
    ...     child = subprocess.run([sys.executable, "-c", grow], check=True)
    >>> memory.peak_rss_mib - memory.start_rss_mib > 200
    True
    """

    def __init__(
        self,
        pid: int | None = None,
        *,
        include_self: bool = True,
        interval: float = 0.05,
        pss_every: int = 10,
    ) -> None:
        self._process = psutil.Process(pid)
        self.include_self = include_self
        self.interval = interval
        self.pss_every = max(1, pss_every)
        self.start_rss_mib = 0.0
        self.peak_rss_mib = 0.0
        self.peak_pss_mib: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _processes(self) -> list[psutil.Process]:
        try:
            children = self._process.children(recursive=True)
        except psutil.Error:  # the process has ended
            return []
        return [self._process, *children] if self.include_self else children

    def sample(self, *, pss: bool = True) -> float:
        """Add up the memory of the process tree now, update the peaks; return the RSS sum."""
        rss = pss_sum = 0
        for proc in self._processes():
            try:
                if pss and HAS_PSS:
                    info = proc.memory_full_info()
                    pss_sum += info.pss
                else:
                    info = proc.memory_info()
                rss += info.rss
            except psutil.Error:  # ended between listing and reading, or not ours
                continue
        self.peak_rss_mib = max(self.peak_rss_mib, rss / MIB)
        if pss and HAS_PSS:
            self.peak_pss_mib = max(self.peak_pss_mib or 0.0, pss_sum / MIB)
        return rss / MIB

    def _run(self) -> None:
        tick = 1  # tick 0 was sampled by __enter__
        while not self._stop.wait(self.interval):
            self.sample(pss=tick % self.pss_every == 0)
            tick += 1

    def __enter__(self) -> PeakMemory:
        self.peak_rss_mib, self.peak_pss_mib = 0.0, None
        self.start_rss_mib = self.sample()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    def summary(self) -> str:
        """The peaks in one line.

        >>> memory = PeakMemory()
        >>> memory.peak_rss_mib, memory.peak_pss_mib = 1330.4, 1318.2
        >>> memory.summary()
        'peak RSS 1330 MiB, peak PSS 1318 MiB'
        >>> memory.peak_pss_mib = None
        >>> memory.summary()
        'peak RSS 1330 MiB, peak PSS not reported by this operating system'
        """
        pss = (
            "not reported by this operating system"
            if self.peak_pss_mib is None
            else f"{self.peak_pss_mib:.0f} MiB"
        )
        return f"peak RSS {self.peak_rss_mib:.0f} MiB, peak PSS {pss}"


# --- the machine -----------------------------------------------------------------


def cpu_cores() -> int:
    """The number of CPU cores this process may run on (its CPU affinity, where the OS has one).

    >>> 1 <= cpu_cores() <= (os.cpu_count() or 1)
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():  # Linux
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        return _command(["sysctl", "-n", "machdep.cpu.brand_string"]) or platform.machine()
    return platform.processor() or platform.machine()


def _command(args: list[str]) -> str:
    """A command's standard output, stripped; empty if it is missing, fails or hangs."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _version(package: str) -> str:
    """The version of an installed package, by its import name, without importing it."""
    module = sys.modules.get(package)
    if module is not None and hasattr(module, "__version__"):
        return str(module.__version__)
    for dist in metadata.packages_distributions().get(package, []):
        return metadata.version(dist)  # e.g. "tensorflow" comes from tensorflow-cpu
    return "not installed"


def machine() -> str:
    """One line: CPU model, cores, GPUs, and the Python, TensorFlow and Keras versions.

    GPUs are the ones ``nvidia-smi`` lists. Nothing is imported, so it is quick.

    >>> line = machine()
    >>> f"{cpu_cores()} CPU cores" in line, f"Python {platform.python_version()}," in line
    (True, True)
    """
    gpus = (
        ", ".join(
            _command(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"]).splitlines()
        )
        or "none"
    )
    return (
        f"{_cpu_model()}, {cpu_cores()} CPU cores, GPU: {gpus}; "
        f"Python {platform.python_version()}, TensorFlow {_version('tensorflow')}, "
        f"Keras {_version('keras')}"
    )


# --- reporting -------------------------------------------------------------------


def markdown_table(rows: Sequence[Mapping[str, object]]) -> str:
    """Rows as a Markdown table: the keys of the first row are the header, in order.

    Every row needs the same keys; a ``|`` inside a cell is escaped.

    >>> print(markdown_table([{"head": "GAP", "params": 1281}, {"head": "a|b", "params": 7}]))
    | head | params |
    |---|---|
    | GAP | 1281 |
    | a\\|b | 7 |
    """
    if not rows:
        raise ValueError("markdown_table needs at least one row")
    keys = list(rows[0])
    for row in rows:
        if list(row) != keys:
            raise ValueError(f"every row needs the columns {keys}, in order; got {list(row)}")

    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(keys), "|" + "---|" * len(keys), *(line(r.values()) for r in rows)])
