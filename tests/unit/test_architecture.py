"""The layers contract (pyproject.toml [tool.importlinter]) holds, and it has teeth.

`lint-imports` runs in its own process on the tree, then on a copy of the tree in which a
suite imports the application: the first must pass, the second must fail naming the
contract and the offending import. Without the second, a contract that checks nothing
(a typo in a layer name, a package missing from root_packages) would pass as well.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("harness", "suites", "gates", "reports", "finetune")
# The suite module that gets the wrong-way import, and the application symbol it imports.
SUITE_MODULE = "registry"
WRONG_WAY = "from harness.app.pipeline import run_pipeline\n"


def _contract_name() -> str:
    """The layers contract's name as pyproject.toml spells it (tomllib is 3.11+ only)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'\[\[tool\.importlinter\.contracts\]\]\s*name\s*=\s*"([^"]+)"', text)
    assert found, "pyproject.toml has no [[tool.importlinter.contracts]] with a name"
    return found.group(1)


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with this interpreter, reading root/pyproject.toml and root's packages."""
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
         "--no-cache"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)


def _python_only(folder: str, names: list[str]) -> set[str]:
    """copytree filter: the import graph needs the .py files and nothing else."""
    return {n for n in names
            if n == "__pycache__" or (not n.endswith(".py") and not (Path(folder) / n).is_dir())}


def test_the_tree_keeps_the_layers_contract():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_a_suite_importing_the_application_breaks_the_contract(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=_python_only)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    module = tmp_path / "suites" / f"{SUITE_MODULE}.py"
    assert (tmp_path / "harness" / "app" / "pipeline.py").is_file() and module.is_file()
    module.write_text(module.read_text(encoding="utf-8") + WRONG_WAY, encoding="utf-8")

    result = _lint_imports(tmp_path)
    said = result.stdout + result.stderr
    assert result.returncode != 0, said[-3000:]
    assert f"{_contract_name()} BROKEN" in said, said[-3000:]
    assert "suites is not allowed to import harness.app" in said, said[-3000:]
    assert f"suites.{SUITE_MODULE} -> harness.app.pipeline" in said, said[-3000:]
