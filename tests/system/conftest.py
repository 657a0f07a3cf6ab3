import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kumocloud import Cloud  # noqa: E402


@pytest.fixture(scope="module")
def cloud():
    """Two computes on the fake driver, shared by a module's tests."""
    c = Cloud(computes=2).start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def api():
    """kumo-api and the scheduler, no compute: for tests of the API alone,
    which also check that nothing they send kills kumo-api."""
    c = Cloud(computes=0).start()
    yield c
    assert c.daemons["api"].proc.poll() is None, "kumo-api died"
    c.stop()


@pytest.fixture(scope="module")
def image(cloud):
    return cloud.create_image()


@pytest.fixture
def make_cloud():
    """Builds a cloud of its own for a test that needs special settings."""
    made = []

    def make(**kw):
        c = Cloud(**kw)
        made.append(c)
        return c.start()
    yield make
    for c in made:
        c.stop()
