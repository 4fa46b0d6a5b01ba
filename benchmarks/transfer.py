"""Benchmark for lessons 05-06: frozen-base transfer learning and fine-tuning.

Prints one markdown table per profile: dataset, backbone, image size, phase,
epochs, validation accuracy, wall time, peak RSS and the feature-cache
speed-up (lesson 05: cats vs dogs and the flowers with a frozen base; lesson 06:
fine-tuning the flowers, with the test accuracy before and after). Every phase
runs in its own Python process, so its peak RSS
(``measure.peak_rss_mib``, the process's lifetime peak) is its own; wall time
counts from building the data pipelines to the end of training (not the
TensorFlow import).

    python benchmarks/transfer.py                       # the active profile
    python benchmarks/transfer.py --profile workshop --output benchmarks/results/transfer.md

Every phase trains with the lessons' own settings, ``lesson_settings("05", profile)``
and ``lesson_settings("06", profile)`` from ``course_utils/profiles.py`` (the
dicts the notebooks' knob cells show), so the benchmark trains like the lessons.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

#: Lessons 05 and 06 compile the new head with ``Adam(learning_rate=1e-3)`` in their cells
#: (not one of their knobs); fine-tuning uses lesson 06's ``learning_rate`` knob.
HEAD_LEARNING_RATE = 1e-3
PHASES = ("cats_dogs_frozen", "cats_dogs_end_to_end", "flowers_frozen", "flowers_fine_tune")
#: The flower head of lesson 06 trains on cached features in batches of this size (its cell).
HEAD_BATCH = 32


def settings(profile_name: str, fine_tune_batch: int | None = None) -> dict[str, dict[str, Any]]:
    """The lessons' settings the phases use, by lesson: 05 (frozen base) and 06 (fine-tuning).

    ``fine_tune_batch`` changes lesson 06's batch size (a memory study).

    >>> settings("full", fine_tune_batch=8)["06"]["batch_size"]
    8
    """
    from course_utils.profiles import lesson_settings

    extra = {"batch_size": fine_tune_batch} if fine_tune_batch else {}
    return {
        "05": lesson_settings("05", profile_name),
        "06": lesson_settings("06", profile_name, **extra),
    }


def _compile(model: Any, num_classes: int, learning_rate: Any) -> None:
    """As the lessons compile: Adam; binary cross-entropy for two classes (one sigmoid unit),
    sparse categorical cross-entropy for more (a softmax over the classes)."""
    import keras

    loss = (
        keras.losses.BinaryCrossentropy()
        if num_classes == 2
        else keras.losses.SparseCategoricalCrossentropy()
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=loss,
        metrics=["accuracy"],
    )


def _splits(dataset: str, profile, batch_size: int, per_class: int | None, **fractions: float):
    """The lesson's splits: ``per_class`` photos per class folder, its val/test fractions."""
    from course_utils import datasets, folders, pipelines

    view = folders.subset_per_class(datasets.get_dataset(dataset), per_class, seed=profile.seed)
    return pipelines.make_splits(
        view.path, profile.image_size, batch_size, seed=profile.seed, **fractions
    )


def _lesson05_splits(dataset: str, profile, lesson: dict[str, Any]):
    """Lesson 05's cats vs dogs (its own photos per class and test share) or flowers (profile)."""
    if dataset == "cats_and_dogs_filtered":
        return _splits(
            dataset,
            profile,
            lesson["batch_size"],
            lesson["images_per_class"],
            test_fraction=lesson["test_fraction"],
        )
    return _splits(dataset, profile, lesson["batch_size"], profile.images_per_class)


def _frozen_head(dataset: str, profile, lesson: dict[str, Any]) -> dict:
    """Features once, then the GAP head on the cached features (lesson 05's settings)."""
    import keras

    from course_utils import measure, pipelines, transfer

    keras.utils.set_random_seed(profile.seed)
    with measure.Timer() as wall:
        splits = _lesson05_splits(dataset, profile, lesson)
        base = transfer.mobilenet_v2_base(profile.image_size)
        prep = transfer.mobilenet_v2_preprocessing()
        with measure.Timer() as extract:
            x_train, y_train = pipelines.extract_features(
                base, splits.train, preprocess=prep, verbose=0
            )
            x_val, y_val = pipelines.extract_features(base, splits.val, preprocess=prep, verbose=0)
        n_classes = len(splits.class_names)
        head = transfer.gap_head(x_train.shape[1:], n_classes)
        _compile(head, n_classes, HEAD_LEARNING_RATE)
        timer = measure.EpochTimer()
        history = head.fit(
            x_train,
            y_train,
            validation_data=(x_val, y_val),
            epochs=lesson["head_epochs"],
            batch_size=lesson["batch_size"],
            callbacks=[timer],
            verbose=0,
        )
    head_epoch_s = sum(timer.seconds[1:]) / max(1, len(timer.seconds) - 1)
    return {
        "epochs": lesson["head_epochs"],
        "val_accuracy": history.history["val_accuracy"][-1],
        "wall_s": wall.seconds,
        "extract_s": extract.seconds,
        "head_epoch_s": head_epoch_s,
        "n_train": splits.counts["train"],
        "n_val": splits.counts["val"],
    }


def _end_to_end(profile, lesson: dict[str, Any]) -> dict:
    """The same frozen model, unaugmented as in lesson 05, but the base runs on every batch of
    every epoch."""
    import keras

    from course_utils import measure, transfer

    keras.utils.set_random_seed(profile.seed)
    with measure.Timer() as wall:
        splits = _lesson05_splits("cats_and_dogs_filtered", profile, lesson)
        base = transfer.mobilenet_v2_base(profile.image_size)
        model = transfer.build_frozen_model(
            base,
            transfer.gap_head(base.output.shape[1:], 2),
            preprocess=transfer.mobilenet_v2_preprocessing(),
        )
        _compile(model, 2, HEAD_LEARNING_RATE)
        timer = measure.EpochTimer()
        history = model.fit(
            splits.train,
            validation_data=splits.val,
            epochs=lesson["end_to_end_epochs"],
            callbacks=[timer],
            verbose=0,
        )
    # The first epoch also decodes the JPEGs into the cache; later ones read the cache.
    steady = timer.seconds[1:] or timer.seconds
    return {
        "epochs": lesson["end_to_end_epochs"],
        "val_accuracy": history.history["val_accuracy"][-1],
        "wall_s": wall.seconds,
        "epoch_s": sum(steady) / len(steady),
    }


def _fine_tune(profile, lesson: dict[str, Any]) -> dict:
    """Lesson 06: the flower head on cached pooled features, then unfreeze and fine-tune."""
    import keras

    from course_utils import evaluation, measure, pipelines, transfer
    from course_utils.architectures import count_params

    keras.utils.set_random_seed(profile.seed)
    with measure.Timer() as wall:
        splits = _splits(
            "flower_photos",
            profile,
            lesson["batch_size"],
            lesson["images_per_class"],
            val_fraction=lesson["val_fraction"],
            test_fraction=lesson["test_fraction"],
        )
        n_classes = len(splits.class_names)
        base = transfer.mobilenet_v2_base(profile.image_size)
        prep = transfer.mobilenet_v2_preprocessing()
        pooled = keras.Sequential(
            [keras.Input(profile.image_shape), base, keras.layers.GlobalAveragePooling2D()]
        )
        x_train, y_train = pipelines.extract_features(
            pooled, splits.train, preprocess=prep, verbose=0
        )
        x_val, y_val = pipelines.extract_features(pooled, splits.val, preprocess=prep, verbose=0)
        keras.utils.set_random_seed(profile.seed)
        pooled_head = transfer.gap_head(x_train.shape[1:], n_classes)
        _compile(pooled_head, n_classes, HEAD_LEARNING_RATE)
        pooled_head.fit(
            x_train, y_train, epochs=lesson["head_epochs"], batch_size=HEAD_BATCH, verbose=0
        )
        head = transfer.gap_head(base.output.shape[1:], n_classes)
        head.set_weights(pooled_head.get_weights())
        model = transfer.build_frozen_model(
            base, head, preprocess=prep, augment=transfer.augmentation(profile.seed)
        )
        val_before = evaluation.model_accuracy(model, splits.val)[0]
        test_before = evaluation.model_accuracy(model, splits.test)[0]
        transfer.unfreeze_from(base, lesson["fine_tune_at"])
        steps = -(-splits.counts["train"] // lesson["batch_size"])
        schedule = keras.optimizers.schedules.CosineDecay(  # as the lesson: cosine to zero
            lesson["learning_rate"], decay_steps=lesson["fine_tune_epochs"] * steps
        )
        _compile(model, n_classes, schedule)
        keras.utils.set_random_seed(profile.seed)
        with measure.PeakMemory() as mem:
            model.fit(
                splits.train,
                validation_data=splits.val,
                epochs=lesson["fine_tune_epochs"],
                verbose=0,
            )
        val_after = evaluation.model_accuracy(model, splits.val)[0]
        test_after = evaluation.model_accuracy(model, splits.test)[0]
    return {
        "epochs": lesson["fine_tune_epochs"],
        "val_accuracy": val_after.value,
        "val_accuracy_before": val_before.value,
        "test_accuracy": test_after.value,
        "test_accuracy_before": test_before.value,
        "n_test": test_after.n,
        "wall_s": wall.seconds,
        "fit_peak_rss_mib": mem.peak_rss_mib,
        "batch_size": lesson["batch_size"],
        "fine_tune_at": lesson["fine_tune_at"],
        "learning_rate": lesson["learning_rate"],
        "trainable_params": count_params(model).trainable,
    }


def run_phase(phase: str, profile_name: str, fine_tune_batch: int | None = None) -> dict:
    """Run one phase in this process and return its measurements."""
    from course_utils import measure
    from course_utils.profiles import get_profile

    profile = get_profile(profile_name)
    lessons = settings(profile.name, fine_tune_batch)
    if phase == "cats_dogs_frozen":
        result = _frozen_head("cats_and_dogs_filtered", profile, lessons["05"])
    elif phase == "flowers_frozen":
        result = _frozen_head("flower_photos", profile, lessons["05"])
    elif phase == "cats_dogs_end_to_end":
        result = _end_to_end(profile, lessons["05"])
    elif phase == "flowers_fine_tune":
        result = _fine_tune(profile, lessons["06"])
    else:
        raise ValueError(f"unknown phase {phase!r}; choose from {PHASES}")
    result["peak_rss_mib"] = measure.peak_rss_mib()
    return result


def table(profile_name: str, results: dict[str, dict]) -> str:
    """The markdown table of one profile's results."""
    from course_utils import measure
    from course_utils.profiles import get_profile

    p = get_profile(profile_name)
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
        "flowers_fine_tune": ("flowers (5)", "fine-tune"),
    }
    rows = []
    for phase, r in results.items():
        dataset, label = labels[phase]
        extra = speedup if phase == "cats_dogs_frozen" else ""
        if phase == "cats_dogs_end_to_end":
            extra = f"{r['epoch_s']:.1f} s/epoch vs {cd['head_epoch_s']:.3f}" if cd else ""
        if phase == "flowers_fine_tune":
            label += (
                f" from {r['fine_tune_at']}, lr {r['learning_rate']:g} cosine, "
                f"batch {r['batch_size']} "
                f"(val was {r['val_accuracy_before']:.3f}; test {r['test_accuracy_before']:.3f} "
                f"-> {r['test_accuracy']:.3f} on {r['n_test']} images)"
            )
        rows.append({
            "dataset": dataset, "backbone": p.backbone, "image size": p.image_size,
            "phase": label, "epochs": r["epochs"], "val accuracy": f"{r['val_accuracy']:.3f}",
            "wall time (s)": f"{r['wall_s']:.1f}", "peak RSS (MiB)": f"{r['peak_rss_mib']:.0f}",
            "feature-cache speed-up": extra,
        })  # fmt: skip
    return measure.markdown_table(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--profile",
        action="append",
        help="profile(s) to run (default: $COURSE_PROFILE or the default)",
    )
    parser.add_argument("--phase", action="append", choices=PHASES, help="phase(s) to run")
    parser.add_argument("--output", type=Path, help="also write the tables to this file")
    parser.add_argument(
        "--fine-tune-batch",
        type=int,
        help="override lesson 06's fine-tuning batch size (memory study)",
    )
    parser.add_argument("--note", default="", help="a line to add under the machine (e.g. load)")
    parser.add_argument("--run-phase", choices=PHASES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from course_utils import measure
    from course_utils.profiles import get_profile

    profiles = args.profile or [get_profile().name]
    if args.run_phase:  # child process
        result = run_phase(args.run_phase, profiles[0], args.fine_tune_batch)
        print("RESULT " + json.dumps(result))
        return 0
    sections = [f"Machine: {measure.machine()}", f"Date: {dt.date.today().isoformat()}"]
    if args.note:
        sections.append(args.note)
    for name in profiles:
        results = {}
        for phase in args.phase or PHASES:
            extra = ["--fine-tune-batch", str(args.fine_tune_batch)] if args.fine_tune_batch else []
            proc = subprocess.run(
                [sys.executable, __file__, "--run-phase", phase, "--profile", name, *extra],
                capture_output=True,
                text=True,
                check=False,
            )
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode or not lines:
                print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"phase {phase} ({name}) failed")
            results[phase] = json.loads(lines[-1][len("RESULT ") :])
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
