"""The lessons' first code cell (the Colab install), kept identical in every lesson.

    python tools/colab_cell.py check           # every lesson's cell and launch link is current
    python tools/colab_cell.py write           # rewrite them from pyproject.toml's Repository URL
    python tools/colab_cell.py image PYTHON    # make PYTHON's environment look like Colab
    python tools/colab_cell.py run PYTHON      # run lesson 00's cell there, as Colab would
    python tools/colab_cell.py test-tools PYTHON   # add the lock's pytest, nbval, pytest-xdist

On Colab the cell installs the course package from its repository, with every
package already installed held at its version by a constraints file: pip may
add what Colab lacks (the course package, ``mtcnn``), never change Colab's
TensorFlow, Keras or NumPy, so no restart is needed. Elsewhere it does nothing.
The repository URL has one home, ``[project.urls] Repository`` in pyproject.toml;
``write`` puts it into every lesson's cell, its Colab and Binder links and the
README's. ``run`` is how CI installs the course into its Colab-like environment:
the cell's own code, with a stand-in ``google.colab`` module and the URL of
this checkout (its last commit) instead of the public one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COLAB_TXT = ROOT / "requirements" / "colab.txt"
LOCK = ROOT / "requirements" / "lock.txt"
TEST_TOOLS = ("pytest", "nbval", "pytest-xdist")

CELL = """\
# Colab: install what the course needs and Colab lacks (a no-op everywhere else).
# Colab's own packages are held at their versions, so nothing needs a restart.
COURSE_REPO = (
    "{repo}"  # the course moved? change this line
)
import sys

if "google.colab" in sys.modules:
    import importlib.metadata as md
    import re
    import subprocess
    import tempfile
    import time

    have = {{(d.metadata["Name"] or "").lower(): d.version for d in md.distributions()}}
    pins = [f"{{n}}=={{v}}\\n" for n, v in have.items() if n and re.fullmatch(r"[\\w.+!-]+", v)]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as held:
        held.writelines(pins)  # pip may add packages, but not change these
    start = time.time()
    pip = [sys.executable, "-m", "pip", "install", "-q", "-c", held.name]
    subprocess.run([*pip, f"course-utils @ git+{{COURSE_REPO}}"], check=True)
    now = {{(d.metadata["Name"] or "").lower(): d.version for d in md.distributions()}}
    added = [f"{{n}} {{v}}" for n, v in sorted(now.items()) if n not in have]
    changed = [n for n, v in have.items() if now.get(n, v) != v]
    print(f"Installed in {{time.time() - start:.0f}} s:", ", ".join(added) or "nothing new")
    print("Colab's own packages changed:", ", ".join(changed) or "none")\
"""


def repository() -> str:
    """The course's repository URL, from pyproject.toml (its one home)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["urls"]["Repository"].rstrip("/")


def cell_source(repo: str | None = None) -> str:
    """The Colab cell's code for this repository URL."""
    return CELL.format(repo=repo or repository())


def _github_path(repo: str) -> str:
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+)", repo)
    if not match:
        raise SystemExit(f"pyproject.toml: Repository must be a GitHub URL, not {repo}")
    return match.group(1)


LINK_PATTERNS = (  # (regex, replacement template): Colab and Binder launch links
    (r"colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/",
     "colab.research.google.com/github/{gh}/"),
    (r"mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/", "mybinder.org/v2/gh/{gh}/"),
)  # fmt: skip


def _relink(text: str, gh: str) -> str:
    for pattern, template in LINK_PATTERNS:
        text = re.sub(pattern, template.format(gh=gh), text)
    return text


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def problems() -> list[str]:
    """What ``write`` would change, one line per file (empty when everything is current)."""
    repo, found = repository(), []
    gh = _github_path(repo)
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        first = _code_cells(nb)[0]
        if "".join(first["source"]) != cell_source(repo):
            found.append(f"{path.name}: the first code cell is not the Colab cell of {repo}")
        text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        if _relink(text, gh) != text:
            found.append(f"{path.name}: a launch link does not point to {gh}")
    readme = (ROOT / "README.md").read_text()
    if _relink(readme, gh) != readme:
        found.append(f"README.md: a launch link does not point to {gh}")
    return found


def write() -> None:
    """Rewrite every lesson's Colab cell and launch links, and the README's links."""
    repo = repository()
    gh = _github_path(repo)
    import nbformat

    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        _code_cells(nb)[0].source = cell_source(repo)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = _relink(cell.source, gh)
        nbformat.write(nb, path)
    readme = ROOT / "README.md"
    readme.write_text(_relink(readme.read_text(), gh))


def make_image(python: str) -> None:
    """Install Colab's versions (requirements/colab.txt) into ``python``'s environment.

    Colab has opencv-python 5.0 and opencv-contrib-python 4.14 side by side; both
    write ``cv2/``, and on Colab 5.0's files are the ones imported. Installing
    opencv-python again, last, gives the same ``cv2`` here.
    """
    pip = [python, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "-r", str(COLAB_TXT)], check=True)
    lines = COLAB_TXT.read_text().splitlines()
    opencv = [ln.split()[0] for ln in lines if ln.startswith("opencv-python==")]
    subprocess.run([*pip, "--force-reinstall", "--no-deps", *opencv], check=True)
    probe = (
        "import cv2, keras, numpy, tensorflow as tf; "
        "print(tf.__version__, keras.__version__, numpy.__version__, cv2.__version__)"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [python, "-c", probe], check=True, capture_output=True, text=True, env=env
    )
    print("Colab-like image: TensorFlow, Keras, NumPy, OpenCV =", done.stdout.split()[-4:])


def run_cell(python: str) -> None:
    """Run lesson 00's Colab cell with ``python``, as if on Colab, installing this checkout."""
    nb = json.loads(NOTEBOOKS[0].read_text())
    source = "".join(_code_cells(nb)[0]["source"])
    if source != cell_source():
        raise SystemExit(f"{NOTEBOOKS[0].name}: the Colab cell is out of date: make sync-links")
    source = source.replace(f'"{repository()}"', json.dumps(f"file://{ROOT}"), 1)
    stand_in = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n"
    program = stand_in + source
    start = time.time()
    subprocess.run([python, "-c", program], check=True)
    took = time.time() - start
    print(f"(the Colab cell ran in {took:.0f} s, installing this checkout's last commit)")


def add_test_tools(python: str) -> None:
    """Install the lock's versions of the test runners, Colab's versions held (colab.txt)."""
    pins = [ln.split(";")[0].strip() for ln in LOCK.read_text().splitlines()
            if ln.split("==")[0] in TEST_TOOLS]  # fmt: skip
    subprocess.run([python, "-m", "pip", "install", "--quiet", "-c", str(COLAB_TXT), *pins],
                   check=True)  # fmt: skip
    print("test tools:", ", ".join(pins))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "write", "image", "run", "test-tools"])
    parser.add_argument("python", nargs="?", default=sys.executable)
    args = parser.parse_args()
    if args.command == "check":
        found = problems()
        print("\n".join(found) or "every lesson's Colab cell and launch links are current")
        return 1 if found else 0
    {"write": lambda: write(), "image": lambda: make_image(args.python),
     "run": lambda: run_cell(args.python),
     "test-tools": lambda: add_test_tools(args.python)}[args.command]()  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
