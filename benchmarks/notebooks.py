"""Run every lesson in one profile: wall time, peak memory, key metric, repeatability.

    python benchmarks/notebooks.py --profile workshop [notebooks/03_*.ipynb ...]
    python benchmarks/notebooks.py --profile smoke --repeat 2

Each notebook runs in a fresh kernel ("restart and run all"), in this checkout
and with the usual caches. Peak RSS is sampled (every 0.1 s) over the kernel
and every process it starts, summed: as RSS, and as PSS (shared pages counted
once, which is what a container's memory limit sees; ``course_utils.measure.PeakMemory``,
loaded without TensorFlow, see :func:`_load_measure`). The key metric is read from the kernel
after the last cell (see ``KEY_METRICS``). With ``--repeat N`` each notebook
runs N times in a row: every run must finish, and the outputs of the checked
cells (``# NBVAL_CHECK_OUTPUT``) must be identical in every run and equal to
the committed ones. The markdown table is printed and written to
``benchmarks/results/notebooks-<profile>.md`` with the machine it ran on.
Instructors: the "slowest cells" column says where to pause while a cell runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
METRIC_TAG = "KEY-METRIC:"

#: Each lesson's headline result, as a Python expression over the notebook's names.
KEY_METRICS = {
    "00_setup": 'f"profile {P.name}, {len(datasets.list_datasets())} datasets registered"',
    "01_convolution_filters": (
        'f"edge kernel learnt to within {float(np.abs(learnt - true_kernel).max()):.3f}"'
    ),
    "02_pooling": (
        '"edge maps, 1-px shift, 2 layers: " + ", ".join(f"{k.split()[0]} '
        '{shift_sensitivity(v, features, 1)[1]:.2f}" for k, v in list(halvings.items())[:3])'
    ),
    "03_cnn_architectures": (
        'f"{trained.name} test accuracy {test_accuracy:.2%}, trained in {train_seconds:.0f} s"'
    ),
    "04_pretrained_models": 'f"{names[0]}: {top5[0][0][1]} ({top5[0][0][2]:.2f})"',
    "05_transfer_learning": 'f"cats vs dogs test accuracy {test_acc.value:.3f} '
    '({test_acc.n} images); feature cache {speedup:.1f}x faster over {n} epochs"',
    "06_fine_tuning": 'f"flowers test accuracy {frozen_test.value:.3f} frozen -> '
    '{fine_test.value:.3f} fine-tuned ({fine_test.n} images)"',
    "07_localization_iou": (
        'f"class accuracy {np.mean(closer_probs.argmax(1) == test.labels):.3f} second look '
        "({np.mean(pred_probs.argmax(1) == test.labels):.3f} one pass), mean IoU "
        "{ious.mean():.3f} (mean box {baseline_ious.mean():.3f}), "
        'IoU>=0.5 {np.mean(ious >= 0.5):.0%}, best epoch {best_epoch + 1}"'
    ),
    "08_object_detection": (
        'f"detector mAP@0.5 {det_map:.3f} ({map_low:.2f}-{map_high:.2f}), '
        "found {hits}/{n_objects}; scenes+features {feature_time.seconds:.0f} s + "
        "head {train_time.seconds:.0f} s; "
        "U-Net mean IoU {seg_scores['mean_io_u']:.3f}\""
    ),
}


def _seconds(cell: dict) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def _load_measure() -> ModuleType:
    """``course_utils/measure.py``, loaded from its file rather than imported from the package.

    ``import course_utils`` starts TensorFlow. This process only measures the
    kernel; with TensorFlow's libraries mapped here too, their pages would be
    shared with the kernel and count only half in the kernel's PSS.
    """
    path = ROOT / "course_utils" / "measure.py"
    spec = importlib.util.spec_from_file_location("course_utils_measure", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


measure = _load_measure()


def checked_outputs(nb: dict) -> list[str]:
    """The text each checked cell printed to stdout or returned, in order (as nbval compares)."""
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or CHECK_MARK not in cell["source"]:
            continue
        parts = []
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream" and out.get("name") == "stdout":
                parts.append(out["text"])  # stderr holds TensorFlow's C++ log lines
            elif "data" in out:
                parts.append(out["data"].get("text/plain", ""))
        found.append("".join(parts))
    return found


def kept_copy(keep_dir: Path, path: Path) -> Path:
    """Where ``--keep-executed keep_dir`` writes the executed ``path``; never over ``path`` itself.

    >>> kept_copy(Path("/tmp/kept"), Path("notebooks/07_localization_iou.ipynb")).as_posix()
    '/tmp/kept/07_localization_iou.ipynb'
    """
    target = keep_dir / path.name
    if target.resolve() == path.resolve():
        raise ValueError(
            f"--keep-executed {keep_dir} would overwrite the lesson {path} with its executed "
            "copy; give a folder other than the notebook's own (e.g. /tmp/executed)"
        )
    return target


def run_one(path: Path, timeout: int, keep_dir: Path | None = None) -> dict:
    """Execute one notebook in a fresh child kernel and measure it (into ``keep_dir`` if given)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    expression = KEY_METRICS.get(path.stem)
    if expression:
        probe = f"try:\n    print({METRIC_TAG!r}, {expression})\nexcept Exception as err:\n"
        probe += f"    print({METRIC_TAG!r}, 'unavailable:', repr(err))"
        nb.cells.append(nbformat.v4.new_code_cell(probe))
    error = ""
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    # The kernel and its own children, not this process; PSS every 10th sample (once a second).
    with measure.Timer() as wall, measure.PeakMemory(include_self=False, interval=0.1) as mem:
        try:
            client.execute()
        except Exception as err:  # report, don't hide: the table shows it
            error = f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"
    metric = "-"
    if expression:
        probe_out = "".join(o.get("text", "") for o in nb.cells.pop().get("outputs", []))
        if METRIC_TAG in probe_out:
            metric = probe_out.split(METRIC_TAG, 1)[1].strip()
    if keep_dir is not None:  # what the run printed and drew, to read it afterwards
        target = kept_copy(keep_dir, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    slow = sorted(((_seconds(c), c.source.splitlines()[0][:48]) for c in cells), reverse=True)[:3]
    return {
        "notebook": path.name,
        "wall_s": wall.seconds,
        "peak_rss_mib": mem.peak_rss_mib,
        "peak_pss_mib": mem.peak_pss_mib,
        "slowest": slow,
        "error": error,
        "metric": metric,
        "checked": checked_outputs(nb),
    }


def repeat_verdict(path: Path, runs: list[dict]) -> str:
    """'ok' when every run finished and every run's checked outputs equal the committed ones."""
    import nbformat

    committed = checked_outputs(nbformat.read(path, as_version=4))
    problems = [f"run {i + 1} failed" for i, r in enumerate(runs) if r["error"]]
    for i, run in enumerate(runs):
        pairs = zip(run["checked"], committed, strict=False)
        differing = [k for k, (a, b) in enumerate(pairs) if a != b]
        if len(run["checked"]) != len(committed) or differing:
            problems.append(f"run {i + 1}: checked cells {differing} differ from the committed")
    if len({json.dumps(r["checked"]) for r in runs}) > 1:
        problems.append("checked outputs differ between runs")
    return "; ".join(problems) or f"ok ({len(runs)} runs, {len(committed)} checked cells equal)"


def _worst(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs]
    return None if None in values else max(values)


def summarize(path: Path, runs: list[dict]) -> dict:
    """One table row for a notebook run several times: the worst wall time and memory."""
    row = dict(runs[0])
    row["wall_s"] = max(r["wall_s"] for r in runs)
    row["peak_rss_mib"] = _worst(runs, "peak_rss_mib")
    row["peak_pss_mib"] = _worst(runs, "peak_pss_mib")  # None where the OS has no PSS
    row["error"] = "; ".join(r["error"] for r in runs if r["error"])
    row["repeat"] = repeat_verdict(path, runs) if len(runs) > 1 else ""
    return row


def _mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def report(profile: str, rows: list[dict], repeat: int, machine: str, when: datetime) -> str:
    """The markdown report: the machine, one row per notebook, the totals."""
    columns = []
    for r in rows:
        slow = "; ".join(f"{s:.0f} `{src}`" for s, src in r["slowest"] if s >= 1) or "-"
        columns.append({
            "notebook": r["notebook"], "profile": profile, "wall time": f"{r['wall_s']:.0f} s",
            "peak RSS, kernel tree (MiB)": _mib(r["peak_rss_mib"]),
            "peak PSS (MiB)": _mib(r["peak_pss_mib"]), "key metric": r["metric"],
            "slowest cells (s)": slow,
            **({"repeatable": r["repeat"]} if repeat > 1 else {}),
            "error": r["error"] or "-",
        })  # fmt: skip
    repeats = f"; each notebook run {repeat} times in a row (worst run shown)" if repeat > 1 else ""
    pss = _worst(rows, "peak_pss_mib")
    total = sum(r["wall_s"] for r in rows)
    return "\n".join([
        f"Profile `{profile}` on {platform.node()}: {machine}; {when:%Y-%m-%d %H:%M}{repeats}",
        "",
        measure.markdown_table(columns),
        "",
        f"Total wall time: {total:.0f} s; largest peak RSS {_worst(rows, 'peak_rss_mib'):.0f} "
        f"MiB, largest peak PSS "
        + (f"{pss:.0f} MiB" if pss is not None else "n/a (this OS does not report PSS)")
        + ". RSS sums count the TensorFlow libraries once per process; PSS counts shared pages "
        "once.",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="workshop", choices=["smoke", "workshop", "full"])
    parser.add_argument("--timeout", type=int, default=1800, help="per cell, seconds")
    parser.add_argument("--repeat", type=int, default=1, help="runs per notebook, in a row")
    parser.add_argument(
        "--keep-executed", type=Path, metavar="DIR", help="write each executed notebook into DIR"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args()
    if args.one:  # child mode: one notebook, JSON on stdout
        print(json.dumps(run_one(Path(args.one), args.timeout, args.keep_executed)))
        return
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.keep_executed:  # refuse before running anything, not after the first lesson
        try:
            [kept_copy(args.keep_executed, path) for path in paths]
        except ValueError as err:
            parser.error(str(err))
    env = {**os.environ, "COURSE_PROFILE": args.profile, "TF_CPP_MIN_LOG_LEVEL": "2"}
    rows = []
    for path in paths:
        runs = []
        for _ in range(args.repeat):
            child = [sys.executable, __file__, "--one", str(path), "--timeout", str(args.timeout)]
            if args.keep_executed:
                child += ["--keep-executed", str(args.keep_executed)]
            out = subprocess.run(
                child,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"{path.name}: {runs[-1]['wall_s']:.0f} s {runs[-1]['metric']}", file=sys.stderr)
        rows.append(summarize(path, runs))
    table = report(args.profile, rows, args.repeat, measure.machine(), datetime.now())
    print(table)
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"notebooks-{args.profile}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
