"""Benchmark: lesson 03's Fashion-MNIST CNN, trained like the notebook, tested on all 10,000.

Reads the lesson's knobs (train samples, validation samples, epochs, batch
size) from the ``LESSON_KNOBS`` dict in the notebook's profile cell, so the
benchmark and the lesson cannot drift apart; command-line flags override
them to explore other settings. Prints one table row per run::

    source /tmp/inst/offline-env.sh me   # or any setup with the Fashion-MNIST cache
    python benchmarks/fashion_cnn.py --profile workshop
    python benchmarks/fashion_cnn.py --profile workshop --epochs 3 --train-samples 20000

The target (SYLLABUS section 03 / issue 3): at least 88% test accuracy within
5 minutes of wall time on a 2-core CPU in the workshop profile. Wall time is
everything after the imports: loading, training, evaluating the full test set.
Timings on a shared machine are pessimistic: the "CPU s" column (user + system
time of all threads) divided by the number of cores the run could use is what
the wall time would be on an otherwise idle machine with perfect scaling.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import sys
import time
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_cnn_architectures.ipynb"
TARGET_ACCURACY = 0.88
TARGET_SECONDS = 300


def lesson_knobs(notebook: Path = NOTEBOOK) -> dict[str, dict[str, int]]:
    """The ``LESSON_KNOBS = {...}`` literal from the notebook's code cells."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if "LESSON_KNOBS" not in source:
            continue
        for node in ast.parse(source.replace("%pip", "#")).body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "LESSON_KNOBS" for t in node.targets
            ):
                return ast.literal_eval(node.value)
    raise LookupError(f"no LESSON_KNOBS = {{...}} assignment in {notebook}")


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (``getrusage``; psutil has no peak on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_now_mib() -> float:
    """Current resident memory in MiB (psutil)."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def run(profile: str, overrides: dict[str, int | None]) -> dict[str, object]:
    import keras
    import numpy as np

    from course_utils.architectures import fashion_cnn
    from course_utils.datasets import load_keras_dataset
    from course_utils.profiles import get_profile

    P = get_profile(profile)
    given = {k: v for k, v in overrides.items() if v is not None}
    knobs = given if len(given) == len(overrides) else {**lesson_knobs()[P.name], **given}
    start, cpu_start = time.perf_counter(), cpu_seconds()
    keras.utils.set_random_seed(P.seed)

    (x_train_full, y_train_full), (x_test, y_test) = load_keras_dataset("fashion_mnist")
    # The same split as the notebook: the last 5,000 training images are the validation pool.
    x_pool, y_pool = x_train_full[:-5000], y_train_full[:-5000]
    x_val_pool, y_val_pool = x_train_full[-5000:], y_train_full[-5000:]
    rng = np.random.default_rng(P.seed)
    pick = rng.permutation(len(x_pool))[: knobs["train_samples"]]

    def prepare(images: np.ndarray) -> np.ndarray:  # as in the notebook
        return images.astype("float32")[..., None] / 255.0

    x_train, y_train = prepare(x_pool[pick]), y_pool[pick]
    x_val, y_val = prepare(x_val_pool[: knobs["val_samples"]]), y_val_pool[: knobs["val_samples"]]
    n_test = P.max_test_samples or len(x_test)
    x_test, y_test = prepare(x_test[:n_test]), y_test[:n_test]

    model = fashion_cnn()
    model.compile(
        optimizer=keras.optimizers.Nadam(),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    fit_start = time.perf_counter()
    model.fit(
        x_train, y_train, batch_size=knobs["batch_size"], epochs=knobs["epochs"],
        validation_data=(x_val, y_val), verbose=2,
    )
    fit_s = time.perf_counter() - fit_start
    _, test_accuracy = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
    wall_s = time.perf_counter() - start
    cpu_s = cpu_seconds() - cpu_start
    return {
        "profile": P.name,
        "train samples": len(x_train),
        "epochs": knobs["epochs"],
        "batch size": knobs["batch_size"],
        "test images": len(x_test),
        "test accuracy": f"{test_accuracy:.4f}",
        "fit s": f"{fit_s:.0f}",
        "wall s": f"{wall_s:.0f}",
        "CPU s": f"{cpu_s:.0f}",
        "peak RSS MiB": f"{peak_rss_mib():.0f}",
        "RSS at end MiB": f"{rss_now_mib():.0f}",
        "cpus": os.cpu_count(),
        "target met": bool(test_accuracy >= TARGET_ACCURACY and wall_s <= TARGET_SECONDS),
    }


def table(rows: list[dict[str, object]]) -> str:
    """Rows as a Markdown table."""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=os.environ.get("COURSE_PROFILE", "workshop"))
    parser.add_argument("--train-samples", type=int)
    parser.add_argument("--val-samples", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    args = parser.parse_args(argv)
    overrides = {
        "train_samples": args.train_samples, "val_samples": args.val_samples,
        "epochs": args.epochs, "batch_size": args.batch_size,
    }
    row = run(args.profile, overrides)
    print()
    print(table([row]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
