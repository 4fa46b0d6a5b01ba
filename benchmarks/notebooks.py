"""Run every lesson in one profile and print wall time, peak memory and the slowest cells.

    python benchmarks/notebooks.py --profile workshop [notebooks/03_*.ipynb ...]

Each notebook runs in a fresh kernel; peak RSS is the kernel process's maximum
resident set size. The markdown table is printed and written to
``benchmarks/results/notebooks-<profile>.md`` together with the machine it ran on.
Instructors: the "slowest cells" column says where to pause while a cell runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _seconds(cell: dict) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def run_one(path: Path, timeout: int) -> dict:
    """Execute one notebook in this process's child kernel and measure it."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    error = ""
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except Exception as err:  # report, don't hide: the table shows it
        error = f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    cells = [c for c in nb.cells if c.cell_type == "code"]
    slow = sorted(((_seconds(c), c.source.splitlines()[0][:48]) for c in cells), reverse=True)[:3]
    return {"notebook": path.name, "wall_s": wall, "peak_mb": peak_mb, "slowest": slow,
            "error": error}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="workshop", choices=["smoke", "workshop", "full"])
    parser.add_argument("--timeout", type=int, default=1800, help="per cell, seconds")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args()
    if args.one:  # child mode: one notebook, JSON on stdout
        print(json.dumps(run_one(Path(args.one), args.timeout)))
        return
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    env = {**os.environ, "COURSE_PROFILE": args.profile, "TF_CPP_MIN_LOG_LEVEL": "2"}
    rows = []
    for path in paths:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(path), "--timeout", str(args.timeout)],
            env=env, capture_output=True, text=True, check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{rows[-1]['notebook']}: {rows[-1]['wall_s']:.0f} s", file=sys.stderr)
    lines = [
        f"Profile `{args.profile}` on {platform.node()} ({os.cpu_count()} CPU cores, "
        f"{platform.machine()}, Python {platform.python_version()}), "
        f"{datetime.now():%Y-%m-%d %H:%M}",
        "",
        "| notebook | wall time | peak RSS | slowest cells (s) | error |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        slow = "; ".join(f"{s:.0f} `{src}`" for s, src in r["slowest"] if s >= 1) or "-"
        lines.append(
            f"| {r['notebook']} | {r['wall_s']:.0f} s | {r['peak_mb']:.0f} MB | {slow} | "
            f"{r['error'] or '-'} |"
        )
    table = "\n".join(lines)
    print(table)
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"notebooks-{args.profile}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
