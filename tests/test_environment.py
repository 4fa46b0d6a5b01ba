"""The install story: pins agree, the two commands exist, the package reports its setting."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from course_utils import environment

ROOT = Path(__file__).parents[1]


def _pyproject_pins() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["dev"]


def _environment_yml_pins() -> list[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    return [ln.strip()[2:] for ln in lines[start + 1 :] if ln.strip().startswith("- ")]


def test_environment_yml_mirrors_pyproject_pins() -> None:
    assert _environment_yml_pins() == _pyproject_pins()


def test_every_dependency_is_pinned_exactly() -> None:
    for pin in _pyproject_pins():
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][0-9A-Za-z.]*", pin), pin


def test_one_tensorflow_only() -> None:
    names = [p.split("==")[0] for p in _pyproject_pins()]
    assert "tensorflow" in names and "tensorflow-cpu" not in names


def test_python_version_agrees() -> None:
    assert "python=3.11" in (ROOT / "environment.yml").read_text()
    assert ">=3.11,<3.12" in (ROOT / "pyproject.toml").read_text()


def test_readme_commands_are_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "--allow-root" in makefile and "--nbval-lax" in makefile


def test_environment_report(monkeypatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    report = environment.environment_report()
    assert report["Profile"].startswith("smoke")
    assert report["Keras"].startswith("3.")
    assert environment.where_am_i() == "local"
    monkeypatch.setenv("BINDER_SERVICE_HOST", "x")
    assert environment.where_am_i() == "binder"
