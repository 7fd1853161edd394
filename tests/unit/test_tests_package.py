"""The test helpers imported as `tests.<folder>` are this repository's, whatever else is
installed (a wheel may ship its own top-level `tests` package)."""

from pathlib import Path

import tests


def test_tests_package_is_the_repository_s():
    assert Path(tests.__file__).resolve().parent == Path(__file__).resolve().parents[1]
