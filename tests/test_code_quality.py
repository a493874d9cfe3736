"""The linter and the type checker, in the suite: `ruff check` and `mypy` as configured in pyproject.toml
([tool.ruff], [tool.mypy]: strict for the core and signing). A finding fails the test with their output."""

from pathlib import Path
import re
import shutil
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: it is in the test extra (pip install -e '.[test]')")
    return str(found)


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_ruff_finds_nothing() -> None:
    done = _run(_tool("ruff"), "check", "--no-cache", "--output-format", "concise", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing() -> None:
    done = _run(_tool("mypy"))  # files and strictness from [tool.mypy]
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_suppression_says_why_on_its_line() -> None:
    """A ``noqa`` or ``type: ignore`` with nothing after it hides a finding without saying why it is right."""
    bare = re.compile(r"#\s*(noqa(:\s*[A-Z0-9, ]+)?|type:\s*ignore(\[[\w\-, ]+\])?)\s*$")
    found = [f"{path.relative_to(ROOT)}:{n}" for folder in ("gateway", "connectors", "signing", "demo", "bench",
                                                             "tests", "scripts")
             for path in sorted((ROOT / folder).rglob("*.py"))
             for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if bare.search(text)]
    assert found == []
