"""The install story: ranges in the package, exact versions in one lock, Colab admitted.

Offline: these read pyproject.toml, requirements/lock.txt, requirements/colab.txt and
environment.yml, and check that they agree (``make lock`` rebuilds the last two from the first).
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from course_utils import environment

ROOT = Path(__file__).parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DEV_TOOLS = {
    "pytest", "nbval", "pytest-xdist", "ruff", "nbstripout", "pre-commit", "playwright", "uv",
}  # fmt: skip
BINDER = {
    "python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux",
    "os_name": "posix", "platform_system": "Linux", "implementation_name": "cpython",
    "platform_python_implementation": "CPython", "platform_machine": "x86_64",
}  # fmt: skip


def _requirements(group: str) -> list[Requirement]:
    if group == "runtime":
        return [Requirement(r) for r in PROJECT["dependencies"]]
    names = PROJECT["optional-dependencies"][group]
    return [Requirement(r) for r in names]


def _lock() -> list[tuple[str, str, str | None, list[str]]]:
    """``(name, version, marker, via)`` for each entry of requirements/lock.txt."""
    entries: list[tuple[str, str, str | None, list[str]]] = []
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        if re.match(r"[A-Za-z0-9]", line):
            pin, _, marker = line.partition(";")
            name, version = pin.strip().split("==")
            entries.append((canonicalize_name(name), version, marker.strip() or None, []))
        elif m := re.match(r"\s+#\s+(?:via\s+)?([A-Za-z0-9][\w.-]*)", line):
            if entries and m.group(1) != "via":
                entries[-1][3].append(canonicalize_name(m.group(1)))
    return entries


def _lock_for(env: dict[str, str]) -> dict[str, str]:
    return {n: v for n, v, m, _ in _lock() if m is None or Marker(m).evaluate(env)}


def _colab() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "colab.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def _environment_yml_pins() -> dict[str, str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    pins = [ln.strip()[2:] for ln in lines[start + 1 :] if ln.strip().startswith("- ")]
    return {canonicalize_name(p.split("==")[0]): p.split("==")[1] for p in pins}


# --- the package declares ranges ------------------------------------------------


def test_the_package_declares_ranges_not_pins() -> None:
    for group in ("runtime", "lab", "dev"):
        for req in _requirements(group):
            assert "==" not in str(req.specifier), f"{req}: exact pins belong in the lock"
            assert any(s.operator == ">=" for s in req.specifier), f"{req}: give a floor"


def test_python_range_is_what_tensorflow_supports() -> None:
    assert PROJECT["requires-python"] == ">=3.11,<3.14"
    assert f"python={BINDER['python_version']}" in (ROOT / "environment.yml").read_text()


def test_one_tensorflow_only_and_no_gui_opencv_beside_colabs() -> None:
    names = {canonicalize_name(r.name) for g in ("runtime", "lab", "dev") for r in _requirements(g)}
    assert "tensorflow" in names and "tensorflow-cpu" not in names
    runtime = {canonicalize_name(r.name) for r in _requirements("runtime")}
    # Colab has opencv-python; a second OpenCV distribution in the base install would clash.
    assert not any(n.startswith("opencv") for n in runtime)
    assert "jupyterlab" not in runtime


# --- one lock -------------------------------------------------------------------


def test_the_lock_satisfies_every_range_on_every_supported_python() -> None:
    for minor in ("3.11", "3.12", "3.13"):
        env = {**BINDER, "python_version": minor, "python_full_version": f"{minor}.0"}
        locked = _lock_for(env)
        for group in ("runtime", "lab", "dev"):
            for req in _requirements(group):
                version = locked.get(canonicalize_name(req.name))
                assert version, f"{req.name} is not in the lock for Python {minor}"
                assert req.specifier.contains(version), f"lock {req.name}=={version} vs {req}"


def test_the_lock_has_one_version_per_package_and_python() -> None:
    for minor in ("3.11", "3.12", "3.13"):
        env = {**BINDER, "python_version": minor, "python_full_version": f"{minor}.0"}
        seen = [n for n, _, m, _ in _lock() if m is None or Marker(m).evaluate(env)]
        assert len(seen) == len(set(seen)), f"duplicate lock entries for Python {minor}"


def test_the_lock_was_made_by_the_lock_tool() -> None:
    head = (ROOT / "requirements" / "lock.txt").read_text().splitlines()[1]
    lock_tool = (ROOT / "tools" / "lock.py").read_text()
    assert head.strip("# ").startswith("uv pip compile pyproject.toml")
    for flag in ("--universal", "--extra", "lab", "dev"):
        assert flag in head and f'"{flag}"' in lock_tool, flag


# --- Colab --------------------------------------------------------------------


def test_colabs_versions_are_inside_the_course_ranges() -> None:
    """Floors at or below Colab's: its Colab cell never has to replace what Colab ships."""
    colab = _colab()
    assert {"tensorflow", "keras", "numpy", "tf-keras", "tensorflow-hub"} <= set(colab)
    for req in _requirements("runtime"):
        name = canonicalize_name(req.name)
        if name in colab:
            assert req.specifier.contains(colab[name]), f"Colab's {name}=={colab[name]} vs {req}"


def test_colab_python_and_opencv_are_what_the_lesson_code_expects() -> None:
    colab = _colab()
    assert Version(colab["opencv-python"]).major == 5  # no Haar cascades: lesson 08 copes
    text = (ROOT / "requirements" / "colab.txt").read_text()
    assert "Python 3.13" in text


# --- Binder: runtime only, at the lock's versions --------------------------------


def _runtime_closure() -> set[str]:
    """Runtime + lab packages and everything they pull in, from the lock's ``via`` notes."""
    lock = [(n, m, via) for n, _, m, via in _lock() if m is None or Marker(m).evaluate(BINDER)]
    closure = {canonicalize_name(r.name) for g in ("runtime", "lab") for r in _requirements(g)}
    grew = True
    while grew:
        grew = False
        for name, _, via in lock:
            if name not in closure and any(v in closure for v in via):
                closure.add(name)
                grew = True
    return closure


def test_environment_yml_is_the_runtime_at_the_lock_versions() -> None:
    pins = _environment_yml_pins()
    locked = _lock_for(BINDER)
    assert not DEV_TOOLS & set(pins), "environment.yml (Binder) holds the runtime only"
    for name, version in pins.items():
        assert locked.get(name) == version, f"environment.yml {name}=={version} is not the lock's"
    assert set(pins) == _runtime_closure(), "run: make lock"


def test_binder_installs_the_course_package_without_touching_the_pins() -> None:
    post = (ROOT / "postBuild").read_text()
    assert "pip install --no-deps" in post and os.access(ROOT / "postBuild", os.X_OK)


# --- the two commands -----------------------------------------------------------


def test_readme_commands_are_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make test-colab" in ci
    makefile = (ROOT / "Makefile").read_text()
    assert "--allow-root" in makefile and "--nbval-lax" in makefile
    assert "-r $(LOCK)" in makefile and "LOCK   := requirements/lock.txt" in makefile


def _stub_python(folder: Path, name: str, version: str | None) -> None:
    """A ``pythonX.Y`` on PATH that reports ``version``, or fails like an inactive pyenv shim."""
    script = folder / name
    body = f'echo "{version}"' if version else "echo 'pyenv: command not found' >&2; exit 127"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.mark.parametrize(
    ("available", "expected"),
    [
        ({"python3.13": None, "python3.12": "3.12", "python3": "3.12"}, "python3.12"),
        ({"python3.11": "3.11"}, "python3.11"),
        ({"python3": "3.13"}, "python3"),
        ({"python3.13": "3.13", "python3.11": "3.11"}, "python3.13"),
        ({"python3": "3.14", "python3.10": "3.10"}, None),
    ],
)
def test_find_python_picks_a_python_that_runs(
    tmp_path: Path, available: dict[str, str | None], expected: str | None
) -> None:
    for name, version in available.items():
        _stub_python(tmp_path, name, version)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path)}
    # /usr/bin may hold a real python3.x: only accept answers from the stub folder here.
    found = subprocess.run(
        ["sh", str(ROOT / "tools" / "find_python.sh")], env=env, capture_output=True, text=True
    ).stdout.strip()
    if expected is None:
        assert not found.startswith(str(tmp_path)), found
    elif not found.startswith(str(tmp_path)) and found:
        pytest.skip(f"this machine's {found} answers first")
    else:
        assert found == str(tmp_path / expected)


def test_make_without_a_supported_python_says_which_versions_work(tmp_path: Path) -> None:
    for name in ("Makefile", "pyproject.toml"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "lock.txt").write_text("")
    done = subprocess.run(
        ["make", "venv", "PYTHON="], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "MAKEFLAGS": ""},
    )  # fmt: skip
    assert done.returncode != 0
    assert "needs Python 3.11, 3.12 or 3.13" in done.stdout + done.stderr
    assert not (tmp_path / ".venv").exists()


# --- public Keras API only --------------------------------------------------------


def test_nothing_imports_private_keras() -> None:
    """``keras.src`` is Keras's private tree: it moves between releases."""
    pattern = re.compile(r"^\s*(from\s+keras\.src\b|import\s+keras\.src\b)|[\"']keras\.src", re.M)
    files = [
        *ROOT.glob("course_utils/**/*.py"), *ROOT.glob("notebooks/*.ipynb"),
        *ROOT.glob("tests/*.py"), *ROOT.glob("benchmarks/*.py"), *ROOT.glob("tools/*.py"),
    ]  # fmt: skip
    offenders = [str(f.relative_to(ROOT)) for f in files if pattern.search(f.read_text())]
    assert not offenders


# --- the package reports where it runs ------------------------------------------


def test_environment_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    report = environment.environment_report()
    assert report["Profile"].startswith("smoke")
    assert report["Keras"].startswith("3.")
    assert report["Keras backend"] == "tensorflow"  # the lessons need TensorFlow's tools
    assert report["Python"] == ".".join(map(str, sys.version_info[:3]))
    assert environment.where_am_i() == "local"
    monkeypatch.setenv("BINDER_SERVICE_HOST", "x")
    assert environment.where_am_i() == "binder"


# --- Binder's build plan, offline ---------------------------------------------------


def test_binder_build_plan(tmp_path: Path) -> None:
    """repo2docker --no-build prints the Dockerfile Binder would build, without Docker."""
    import shutil

    repo2docker = shutil.which("repo2docker", path=str(Path(sys.executable).parent))
    if repo2docker is None:
        pytest.skip("repo2docker is not installed here (it is a dev tool in the lock)")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("environment.yml", "postBuild", "pyproject.toml"):
        shutil.copy2(ROOT / name, checkout / name)
    done = subprocess.run(
        [repo2docker, "--no-build", "--no-run", "--debug", str(checkout)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    plan = done.stdout + done.stderr
    assert done.returncode == 0, plan[-2000:]
    assert f"Building conda environment for python={BINDER['python_version']}" in plan
    assert '--file "environment.yml"' in plan and "./postBuild" in plan
