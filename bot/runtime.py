"""Wire the engine for a channel: load the pack, the model (once), the classifier, the reply texts and the
answers the school office wrote in its own words (from the bot's database, when there is one)."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.settings import Settings
from bot.texts import for_people
from intents.advisor import Advisor
from intents.classify import IntentClassifier
from knowledge.encoder import load_encoder
from knowledge.engine import PolicyEngine
from knowledge.pack import load_pack


def build_advisor(
    settings: Settings, pack_name: str | None = None, packs_dir: Path | str | None = None, *, office_answers: bool = True
) -> Advisor:
    """Everything a channel needs to answer; the model is loaded once per process.

    With `office_answers`, the office's own answers stored in DATABASE_PATH are loaded, if that database
    exists (it is not created here: `policybot ask` on a fresh checkout has none)."""
    pack = load_pack(pack_name or settings.policy_pack, packs_dir or settings.policy_packs_dir)
    encoder = load_encoder(model_for(settings, pack))
    cache_dir = settings.cache_dir
    engine = PolicyEngine(pack, encoder, cache_dir=cache_dir, threshold=settings.answer_threshold)
    classifier = IntentClassifier(encoder, cache_dir=cache_dir)
    advisor = Advisor(engine, classifier, for_people(settings, pack))
    if office_answers and Path(settings.database_path).is_file():
        load_stored_office_answers(advisor, settings.database_path)
    return advisor


def model_for(settings: Settings, pack) -> str:
    """The embedding model to answer this pack with: the school's own choice, else the default model adapted to
    the pack (built once and cached, knowledge/adapt.py), else the default model."""
    if settings.embedding_model or not settings.adapt_model:
        return settings.embedding_model
    from knowledge.adapt import ensure_adapter
    from knowledge.encoder import default_model_path, model_fingerprint

    base = default_model_path()
    announce = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    return ensure_adapter(pack, base, model_fingerprint(base), settings.cache_dir, announce) or ""


def load_stored_office_answers(advisor: Advisor, database_path: Path | str) -> int:
    """The office's own answers from the bot's database, so they are given from the first question."""
    from bot.office import load_office_answers
    from bot.store import Store

    store = Store(database_path)
    try:
        return load_office_answers(advisor, store)
    finally:
        store.close()
