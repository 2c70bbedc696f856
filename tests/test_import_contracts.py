"""The import contracts (pyproject.toml, `lint-imports` in `make test`) hold, and bite.

Each forbidden import is added to a copy of the code, where `lint-imports` must
then fail naming the contract and the import: so a contract is a test that can
fail, not a line of configuration nobody checked.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("config", "kle", "indexes", "borgerblikket", "overblik", "simulators")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy(tmp_path) -> Path:
    """The packages' Python files and pyproject.toml, in a folder of their own."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=lambda folder, names: [
                n
                for n in names
                if (not n.endswith(".py") and not (Path(folder) / n).is_dir()) or n == "__pycache__"
            ],
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_code_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_the_copy_keeps_them_too(copy):
    """The copy the tests below break is sound before they break it."""
    result = lint_imports(copy)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract", "names"),
    [
        # The product fetching a page from a simulator in-process, as it once did.
        (
            "indexes/feeds/transport.py",
            "from simulators.systems import simulator_get",
            "No product module imports the stand-ins",
            ["indexes.feeds.transport -> simulators.systems"],
        ),
        # Through another module: the portal reaching the demo citizens via the MitID mock.
        (
            "overblik/auth.py",
            "import simulators.mitid.citizens",
            "No product module imports the stand-ins",
            ["overblik.auth -> simulators.mitid.citizens"],
        ),
        # Upwards: the index importing the visibility rule.
        (
            "indexes/selectors.py",
            "from borgerblikket.selectors import visibility",
            "The product's layers",
            ["indexes.selectors -> borgerblikket.selectors.visibility"],
        ),
        # Upwards, indirectly: KLE importing the index, which reaches the portal through it.
        (
            "kle/numbers.py",
            "import indexes.models",
            "The product's layers",
            ["kle.numbers -> indexes.models"],
        ),
        # config reaching into an app other than through settings and URLs.
        (
            "config/logging.py",
            "from overblik import views",
            "config reaches the apps through settings and URLs only",
            ["config.logging -> overblik.views"],
        ),
    ],
    ids=["stand-ins", "stand-ins-mitid", "layers", "layers-kle", "config"],
)
def test_a_forbidden_import_breaks_its_contract(copy, module, line, contract, names):
    path = copy / module
    path.write_text(path.read_text() + f"\n{line}  # added by the test\n")

    result = lint_imports(copy)

    assert result.returncode != 0, result.stdout
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout, result.stdout
    for name in names:
        assert name in result.stdout, result.stdout
