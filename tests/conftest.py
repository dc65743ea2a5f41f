"""Shared pytest set-up: the fake Telegram Bot API fixture and one event loop for async tests.
Other fixture modules join through ``pytest_plugins`` below."""

import pytest
from pytest_asyncio import is_async_test

from fake_bot_api import FakeBotApi

# Fixture modules living in tests/, by module name (tests/ is on sys.path), one per line.
pytest_plugins = [
    "engine_fixtures",
    "bot_fixtures",
    "smtp_fixtures",
]


# Fixtures that load the real embedding model (or run the bot end to end on it): a test using one is `slow`,
# whatever its file says, so `-m "not slow"` never loads the model.
MODEL_FIXTURES = {"advisor", "engine", "untaught_engine", "start_bot"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
    # pyproject runs async fixtures on the session loop; run async tests there too, or an Application
    # built in a fixture would meet a test running on another loop. An explicit loop_scope wins.
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if not is_async_test(item):
            continue
        marker = item.get_closest_marker("asyncio")
        if marker is None or not ({"loop_scope", "scope"} & set(marker.kwargs)):
            item.add_marker(session_loop, append=False)


@pytest.fixture
def fake_bot_api():
    """A fresh fake Bot API on 127.0.0.1 for one test (see tests/fake_bot_api.py)."""
    with FakeBotApi() as fake:
        yield fake
        fake.check_all_waits_awaited()
