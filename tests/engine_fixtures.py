"""Session fixtures for the answer engine: the real model, the Clearwell pack, one advisor for all tests."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def engine_settings():
    from bot.settings import Settings

    # The embeddings cache is shared across runs (it is keyed by model and text); the database never is.
    return Settings(cache_dir=REPO / "data" / "cache", school_name="Clearwell School")


@pytest.fixture(scope="session")
def advisor(engine_settings):
    from bot.runtime import build_advisor

    return build_advisor(engine_settings)


@pytest.fixture(scope="session")
def engine(advisor):
    return advisor.engine


@pytest.fixture(scope="session")
def pack(engine_settings):
    """The Clearwell pack as its files say (no model loaded: tests that read only the pack stay quick)."""
    from knowledge.pack import load_pack

    return load_pack(engine_settings.policy_pack, engine_settings.policy_packs_dir)
