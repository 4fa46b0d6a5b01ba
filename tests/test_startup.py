"""A quiet start: TensorFlow's routine notices hidden, every other start-up line still shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils import startup

ROOT = Path(__file__).parents[1]
ROUTINE_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796107451.441115   11064 port.cc:153] oneDNN custom operations are on. You may",
    "I0000 00:00:17.5 11064 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU",
    "E0000 00:00:17.6 11064 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
    "E0000 00:00:17.2 3722035 cuda_dnn.cc:8579] Unable to register cuDNN factory: Attempting to",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with",
]
REAL_PROBLEMS = [
    "E0000 00:00:17.9 11064 dso_loader.cc:9] Could not load dynamic library 'libcudnn.so.9'",
    "W0000 00:00:17.9 11064 gpu_device.cc:2] Cannot dlopen some GPU libraries.",
    "Traceback (most recent call last):",
]


@pytest.mark.parametrize("line", ROUTINE_LINES)
def test_routine_notices_are_recognised(line: str) -> None:
    assert startup.is_routine(line)


@pytest.mark.parametrize("line", REAL_PROBLEMS)
def test_anything_else_is_not(line: str) -> None:
    assert not startup.is_routine(line)


def _fake_tensorflow(folder: Path) -> Path:
    """A stand-in ``tensorflow`` writing start-up lines to file descriptor 2, as its C++ does."""
    package = folder / "tensorflow"
    package.mkdir()
    lines = "\n".join([ROUTINE_LINES[1], REAL_PROBLEMS[0], ROUTINE_LINES[3]]) + "\n"
    (package / "__init__.py").write_text(
        "import os, types\n"
        f"os.write(2, {lines[:60].encode()!r} + {lines[60:].encode()!r})\n"
        "config = types.SimpleNamespace(list_physical_devices=lambda: [])\n"
    )
    return folder


def _import_course_utils(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    program = "import course_utils, tensorflow; print(len(course_utils.startup.HIDDEN))"
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{folder}{os.pathsep}{ROOT}", **env},
    )  # fmt: skip


def test_import_hides_routine_lines_and_shows_the_rest(tmp_path: Path) -> None:
    done = _import_course_utils(_fake_tensorflow(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
    assert REAL_PROBLEMS[0] in done.stderr
    assert "oneDNN" not in done.stderr and "cuInit" not in done.stderr


def test_course_tf_logs_shows_everything(tmp_path: Path) -> None:
    done = _import_course_utils(_fake_tensorflow(tmp_path), COURSE_TF_LOGS="1")
    assert done.stdout.strip() == "0"
    assert "oneDNN" in done.stderr and "cuInit" in done.stderr and REAL_PROBLEMS[0] in done.stderr


def test_an_import_error_is_not_swallowed(tmp_path: Path) -> None:
    package = tmp_path / "tensorflow"
    package.mkdir()
    (package / "__init__.py").write_text(
        "import os\nos.write(2, b'E0000 a real problem before the crash\\n')\n"
        "raise ImportError('libtensorflow_framework.so.2: cannot open shared object file')\n"
    )
    done = _import_course_utils(tmp_path)
    assert done.returncode != 0
    assert "a real problem before the crash" in done.stderr
    assert "cannot open shared object file" in done.stderr


@pytest.mark.slow
def test_a_lesson_kernel_starts_without_red_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real thing: a Jupyter kernel importing course_utils, then TensorFlow, shows no stderr."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.delenv("COURSE_TF_LOGS", raising=False)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from course_utils.profiles import get_profile"),
        nbformat.v4.new_code_cell("import keras\nimport tensorflow as tf\nx = tf.constant(1) + 1"),
        nbformat.v4.new_code_cell("import tensorflow_hub as hub"),
    ]
    resources = {"metadata": {"path": str(ROOT)}}  # the kernel's working folder
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources=resources).execute()
    streams = [o["text"] for c in nb.cells for o in c.outputs if o.get("name") == "stderr"]
    assert not streams


def test_the_hub_pkg_resources_warning_is_hidden_and_others_are_not() -> None:
    program = (
        "import warnings, course_utils\n"
        "warnings.warn_explicit('pkg_resources is deprecated as an API', UserWarning,"
        " 'x.py', 1, module='tensorflow_hub')\n"
        "warnings.warn_explicit('pkg_resources is deprecated as an API', UserWarning,"
        " 'y.py', 1, module='my_code')\n"
    )
    done = subprocess.run([sys.executable, "-W", "default", "-c", program], capture_output=True,
                          text=True, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "y.py:1" in done.stderr and "x.py:1" not in done.stderr


# --- the backend: TensorFlow, said once at `import course_utils`, before Keras -------

BACKEND_PROBE = """
import sys
try:
    import course_utils
except Exception as err:
    print("refused:", type(err).__name__, "keras" in sys.modules, "tensorflow" in sys.modules)
    print(err)
else:
    import keras
    print("backend:", keras.config.backend())
"""


def _import_with_backend(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "KERAS_HOME")}
    return subprocess.run(
        [sys.executable, "-c", BACKEND_PROBE], capture_output=True, text=True, cwd=ROOT,
        env={**clean, "KERAS_HOME": str(tmp_path / "kh"), "TF_CPP_MIN_LOG_LEVEL": "3", **env},
        timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(("backend", "shown"), [("jax", "JAX"), ("torch", "PyTorch")])
def test_another_backend_is_refused_once_before_keras(
    tmp_path: Path, backend: str, shown: str
) -> None:
    done = _import_with_backend(tmp_path, KERAS_BACKEND=backend)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("refused: BackendError False False"), done.stdout
    assert f"Keras is set to run on {shown} (KERAS_BACKEND='{backend}')" in done.stdout
    assert "`unset KERAS_BACKEND`" in done.stdout
    assert 'os.environ["KERAS_BACKEND"] = "tensorflow"' in done.stdout
    assert (done.stdout + done.stderr).count("needs the TensorFlow backend") == 1


def test_keras_json_choosing_jax_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "kh").mkdir()
    config = tmp_path / "kh" / "keras.json"
    config.write_text('{"backend": "jax", "floatx": "float32"}')
    done = _import_with_backend(tmp_path)
    assert done.stdout.startswith("refused: BackendError False False"), done.stdout
    assert f'"backend": "jax" in {config}' in done.stdout
    assert config.read_text() == '{"backend": "jax", "floatx": "float32"}'  # left as it was
    overridden = _import_with_backend(tmp_path, KERAS_BACKEND="tensorflow")
    assert "backend: tensorflow" in overridden.stdout  # KERAS_BACKEND wins, as in Keras


@pytest.mark.parametrize("spelling", [" TensorFlow ", "tensorflow", ""])
def test_tensorflow_in_any_spelling_is_accepted(tmp_path: Path, spelling: str) -> None:
    done = _import_with_backend(tmp_path, KERAS_BACKEND=spelling)
    assert done.returncode == 0 and "backend: tensorflow" in done.stdout, done.stderr[-2000:]


def test_check_backend_trusts_a_keras_already_running_on_tensorflow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import keras

    assert keras.config.backend() == "tensorflow"
    monkeypatch.setenv("KERAS_BACKEND", "jax")  # set too late: Keras runs on TensorFlow
    startup.check_backend()
