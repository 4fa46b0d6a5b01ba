"""Benchmark for lessons 05-06: frozen-base transfer learning and fine-tuning.

Prints one markdown table per profile: dataset, backbone, image size, phase,
epochs, validation accuracy, wall time, peak RSS and the feature-cache
speed-up. Every phase runs in its own Python process, so its peak RSS
(``ru_maxrss``) is its own; wall time counts from building the data
pipelines to the end of training (not the TensorFlow import).

    python benchmarks/transfer.py                       # the active profile
    python benchmarks/transfer.py --profile workshop --output benchmarks/results/transfer.md

The recipes mirror the notebooks' knob cells (05_transfer_learning.ipynb,
06_fine_tuning.ipynb): change both together.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

# Per-profile recipe, as in the notebooks' knob cells.
RECIPES = {
    "smoke": {"head_epochs": 10, "e2e_epochs": 2, "batch": 16, "ft_batch": 16, "fine_tune_at": 100},
    "workshop": {"head_epochs": 10, "e2e_epochs": 2, "batch": 16, "ft_batch": 16,
                 "fine_tune_at": 100},
    "full": {"head_epochs": 10, "e2e_epochs": 2, "batch": 32, "ft_batch": 32, "fine_tune_at": 100},
}
HEAD_LR = 1e-3
FINE_TUNE_LR = 1e-5
PHASES = ("cats_dogs_frozen", "cats_dogs_end_to_end", "flowers_frozen", "cats_dogs_fine_tune")


def _splits(dataset: str, profile, batch_size: int):
    from course_utils import datasets, transfer

    view = datasets.subset_per_class(
        datasets.get_dataset(dataset), profile.images_per_class, seed=profile.seed
    )
    return transfer.make_splits(view.path, profile.image_size, batch_size, seed=profile.seed)


def _frozen_head(dataset: str, profile, recipe) -> dict:
    """Features once, then the GAP head on the cached features."""
    import keras

    from course_utils import transfer

    keras.utils.set_random_seed(profile.seed)
    start = time.perf_counter()
    splits = _splits(dataset, profile, recipe["batch"])
    base = transfer.mobilenet_v2_base(profile.image_size)
    prep = transfer.mobilenet_v2_preprocessing()
    t0 = time.perf_counter()
    x_train, y_train = transfer.extract_features(base, splits.train, preprocess=prep, verbose=0)
    x_val, y_val = transfer.extract_features(base, splits.val, preprocess=prep, verbose=0)
    extract_s = time.perf_counter() - t0
    n_classes = len(splits.class_names)
    head = transfer.compile_classifier(
        transfer.gap_head(x_train.shape[1:], n_classes), n_classes, learning_rate=HEAD_LR
    )
    timer = transfer.EpochTimer()
    history = head.fit(
        x_train, y_train, validation_data=(x_val, y_val), epochs=recipe["head_epochs"],
        batch_size=recipe["batch"], callbacks=[timer], verbose=0,
    )
    wall = time.perf_counter() - start
    head_epoch_s = sum(timer.seconds[1:]) / max(1, len(timer.seconds) - 1)
    if dataset == "cats_and_dogs_filtered":
        # Lesson 06 starts from this converged head: keep it for the fine-tuning phase.
        head.save(_head_path(profile))
    return {
        "epochs": recipe["head_epochs"], "val_accuracy": history.history["val_accuracy"][-1],
        "wall_s": wall, "extract_s": extract_s, "head_epoch_s": head_epoch_s,
        "n_train": splits.counts["train"], "n_val": splits.counts["val"],
    }


def _head_path(profile) -> Path:
    from course_utils import datasets

    out = datasets.data_dir() / "outputs" / "benchmark"
    out.mkdir(parents=True, exist_ok=True)
    return out / f"cats_dogs_head_{profile.name}.keras"


def _end_to_end(profile, recipe) -> dict:
    """The same frozen model, but the base runs on every batch of every epoch."""
    import keras

    from course_utils import transfer

    keras.utils.set_random_seed(profile.seed)
    start = time.perf_counter()
    splits = _splits("cats_and_dogs_filtered", profile, recipe["batch"])
    base = transfer.mobilenet_v2_base(profile.image_size)
    model = transfer.build_frozen_model(
        base, transfer.gap_head(base.output.shape[1:], 2),
        preprocess=transfer.mobilenet_v2_preprocessing(),
    )
    transfer.compile_classifier(model, 2, learning_rate=HEAD_LR)
    timer = transfer.EpochTimer()
    history = model.fit(splits.train, validation_data=splits.val, epochs=recipe["e2e_epochs"],
                        callbacks=[timer], verbose=0)
    # The first epoch also decodes the JPEGs into the cache; later ones read the cache.
    steady = timer.seconds[1:] or timer.seconds
    return {
        "epochs": recipe["e2e_epochs"], "val_accuracy": history.history["val_accuracy"][-1],
        "wall_s": time.perf_counter() - start, "epoch_s": sum(steady) / len(steady),
    }


def _fine_tune(profile, recipe) -> dict:
    """Frozen head from the cats/dogs phase on top of the base, then unfreeze and train."""
    import keras

    from course_utils import transfer

    keras.utils.set_random_seed(profile.seed)
    start = time.perf_counter()
    splits = _splits("cats_and_dogs_filtered", profile, batch_size=recipe["ft_batch"])
    base = transfer.mobilenet_v2_base(profile.image_size)
    head = keras.models.load_model(_head_path(profile), safe_mode=True)
    model = transfer.build_frozen_model(
        base, head, preprocess=transfer.mobilenet_v2_preprocessing(),
        augment=transfer.augmentation(profile.seed),
    )
    transfer.compile_classifier(model, 2)
    before = model.evaluate(splits.val, verbose=0, return_dict=True)["accuracy"]
    transfer.unfreeze_from(base, recipe["fine_tune_at"])
    transfer.compile_classifier(model, 2, learning_rate=FINE_TUNE_LR)
    with transfer.PeakRSS() as mem:
        history = model.fit(splits.train, validation_data=splits.val,
                            epochs=profile.fine_tune_epochs, verbose=0)
    return {
        "epochs": profile.fine_tune_epochs, "val_accuracy": history.history["val_accuracy"][-1],
        "val_accuracy_before": before, "wall_s": time.perf_counter() - start,
        "fit_peak_rss_mb": mem.peak_mb, "batch_size": recipe["ft_batch"],
        "trainable_params": transfer.count_params(model.trainable_weights),
    }


def run_phase(phase: str, profile_name: str) -> dict:
    """Run one phase in this process and return its measurements."""
    from course_utils import transfer
    from course_utils.profiles import get_profile

    profile = get_profile(profile_name)
    recipe = RECIPES[profile.name]
    if phase == "cats_dogs_frozen":
        result = _frozen_head("cats_and_dogs_filtered", profile, recipe)
    elif phase == "flowers_frozen":
        result = _frozen_head("flower_photos", profile, recipe)
    elif phase == "cats_dogs_end_to_end":
        result = _end_to_end(profile, recipe)
    elif phase == "cats_dogs_fine_tune":
        result = _fine_tune(profile, recipe)
    else:
        raise ValueError(f"unknown phase {phase!r}; choose from {PHASES}")
    result["peak_rss_mb"] = transfer.lifetime_peak_rss_mb()
    return result


def machine() -> str:
    """A one-line description of this machine and the library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import keras
    import tensorflow as tf

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = ", ".join(d.name for d in tf.config.list_physical_devices("GPU")) or "no GPU"
    return (f"{cpu}, {cores} cores available, {gpu}; Python {platform.python_version()}, "
            f"TensorFlow {tf.__version__}, Keras {keras.__version__}")


def table(profile_name: str, results: dict[str, dict]) -> str:
    """The markdown table of one profile's results."""
    from course_utils.profiles import get_profile

    p = get_profile(profile_name)
    rows = [
        "| dataset | backbone | image size | phase | epochs | val accuracy | wall time (s) "
        "| peak RSS (MB) | feature-cache speed-up |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    cd, e2e = results.get("cats_dogs_frozen"), results.get("cats_dogs_end_to_end")
    speedup = ""
    if cd and e2e:
        # Time to train the head for the same number of epochs, either way.
        n = cd["epochs"]
        cached = cd["extract_s"] + n * cd["head_epoch_s"]
        speedup = f"{n * e2e['epoch_s'] / cached:.1f}x over {n} epochs"
    labels = {
        "cats_dogs_frozen": ("cats vs dogs", "frozen, cached features (GAP head)"),
        "cats_dogs_end_to_end": ("cats vs dogs", "frozen, base run every epoch"),
        "flowers_frozen": ("flowers (5)", "frozen, cached features (GAP head)"),
        "cats_dogs_fine_tune": ("cats vs dogs", "fine-tune from layer "
                                f"{RECIPES[p.name]['fine_tune_at']}, lr {FINE_TUNE_LR:g}"),
    }
    for phase, r in results.items():
        dataset, label = labels[phase]
        extra = speedup if phase == "cats_dogs_frozen" else ""
        if phase == "cats_dogs_end_to_end":
            extra = f"{r['epoch_s']:.1f} s/epoch vs {cd['head_epoch_s']:.3f}" if cd else ""
        if phase == "cats_dogs_fine_tune":
            label += f", batch {r['batch_size']} (was {r['val_accuracy_before']:.3f})"
        rows.append(
            f"| {dataset} | {p.backbone} | {p.image_size} | {label} | {r['epochs']} "
            f"| {r['val_accuracy']:.3f} | {r['wall_s']:.1f} | {r['peak_rss_mb']:.0f} | {extra} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", action="append",
                        help="profile(s) to run (default: $COURSE_PROFILE or the default)")
    parser.add_argument("--phase", action="append", choices=PHASES, help="phase(s) to run")
    parser.add_argument("--output", type=Path, help="also write the tables to this file")
    parser.add_argument("--fine-tune-batch", type=int,
                        help="override the recipe's fine-tuning batch size (memory study)")
    parser.add_argument("--note", default="", help="a line to add under the machine (e.g. load)")
    parser.add_argument("--run-phase", choices=PHASES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from course_utils.profiles import get_profile

    profiles = args.profile or [get_profile().name]
    if args.fine_tune_batch:
        for recipe in RECIPES.values():
            recipe["ft_batch"] = args.fine_tune_batch
    if args.run_phase:  # child process
        print("RESULT " + json.dumps(run_phase(args.run_phase, profiles[0])))
        return 0
    sections = [f"Machine: {machine()}", f"Date: {dt.date.today().isoformat()}"]
    if args.note:
        sections.append(args.note)
    for name in profiles:
        results = {}
        for phase in args.phase or PHASES:
            extra = ["--fine-tune-batch", str(args.fine_tune_batch)] if args.fine_tune_batch else []
            proc = subprocess.run(
                [sys.executable, __file__, "--run-phase", phase, "--profile", name, *extra],
                capture_output=True, text=True, check=False,
            )
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode or not lines:
                print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"phase {phase} ({name}) failed")
            results[phase] = json.loads(lines[-1][len("RESULT "):])
            print(f"{name} {phase}: {results[phase]}", file=sys.stderr)
        sections.append(f"### Profile `{name}`\n\n" + table(name, results))
    text = "\n\n".join(sections)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
