"""The wheel a user installs: it carries the docs, the types, the migrations and the
licence, and `hiphook docs` reads the docs from it, far from any source checkout."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout with the project's own backend (hatchling)."""
    out = tmp_path_factory.mktemp("wheel")
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    [built] = out.glob("hiphook-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel unpacked as an installer lays it out in site-packages."""
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    return site


def _from_wheel(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """hiphook imported from the unpacked wheel, run from a folder with no checkout."""
    env = {**os.environ, "PYTHONPATH": str(site), "TZ": "UTC"}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_the_wheel_carries_docs_types_migrations_and_the_licence(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_string(zf.read(meta_name).decode())
    shipped_docs = {n.removeprefix("app/_docs/") for n in names if n.startswith("app/_docs/")}
    assert {p.name for p in (ROOT / "docs").glob("*.md")} <= shipped_docs
    assert {"protocol.md", "diy-sensor.md"} <= shipped_docs
    assert "app/py.typed" in names
    assert "app/_migrations/env.py" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["License-Expression"] == "MIT"
    assert sorted(meta.get_all("Classifier") or []) == sorted(project["classifiers"])
    assert "Typing :: Typed" in project["classifiers"]
    assert "postgres" in (meta.get_all("Provides-Extra") or [])


def test_hiphook_docs_reads_the_docs_from_an_installed_copy(
    installed: Path, tmp_path: Path
) -> None:
    folder = _from_wheel(installed, "docs", "--path", cwd=tmp_path)
    assert folder.returncode == 0, folder.stderr
    assert Path(folder.stdout.strip()) == installed / "app" / "_docs"

    for name in ("protocol", "diy-sensor"):
        res = _from_wheel(installed, "docs", name, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert res.stdout == (ROOT / "docs" / f"{name}.md").read_text(encoding="utf-8")

    listing = _from_wheel(installed, "docs", cwd=tmp_path)
    assert listing.returncode == 0
    assert "protocol" in listing.stdout and str(installed / "app" / "_docs") in listing.stdout

    unknown = _from_wheel(installed, "docs", "nonsense", cwd=tmp_path)
    assert unknown.returncode == 2 and "there are: " in unknown.stderr
    assert "Traceback" not in unknown.stderr

    helptext = _from_wheel(installed, "--help", cwd=tmp_path)
    assert "hiphook docs" in helptext.stdout


def test_the_readme_points_at_commands_that_work_from_a_wheel() -> None:
    """Every doc the README names for users is named with `hiphook docs NAME` too."""
    readme = (ROOT / "README.md").read_text()
    for name in ("protocol", "diy-sensor"):
        assert f"hiphook docs {name}" in readme
