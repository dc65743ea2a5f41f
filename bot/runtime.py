"""Wire the engine for a channel: load the pack, the model (once), the classifier and the reply texts."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings
from intents.advisor import Advisor, load_responses
from intents.classify import IntentClassifier
from knowledge.encoder import load_encoder
from knowledge.engine import PolicyEngine
from knowledge.pack import load_pack


def response_values(settings: Settings, pack) -> dict[str, str]:
    """The settings that fill placeholders in the reply texts."""
    return {
        "school": settings.school_name or pack.school or "the school",
        "office_contact": settings.office_contact,
        "office_hours": settings.office_hours,
        "dsl_contact": settings.dsl_contact,
        "deputy_dsl_contact": settings.deputy_dsl_contact,
        "emergency_text": settings.emergency_text,
        "ceop_text": settings.ceop_text,
        "nspcc_text": settings.nspcc_text,
        "childline_text": settings.childline_text,
        "complaints_policy_url": settings.complaints_policy_url or "the school website",
    }


def build_advisor(settings: Settings, pack_name: str | None = None, packs_dir: Path | str | None = None) -> Advisor:
    """Everything a channel needs to answer; the model is loaded once per process."""
    pack = load_pack(pack_name or settings.policy_pack, packs_dir or settings.policy_packs_dir)
    encoder = load_encoder(settings.embedding_model)
    cache_dir = settings.cache_dir
    engine = PolicyEngine(pack, encoder, cache_dir=cache_dir, threshold=settings.answer_threshold)
    classifier = IntentClassifier(encoder, cache_dir=cache_dir)
    return Advisor(engine, classifier, load_responses(response_values(settings, pack)))
