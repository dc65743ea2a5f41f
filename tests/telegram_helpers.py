"""Speaking to the real bot through the fake Bot API, as people and the office: send, press, and know when
the bot has finished a person's turn without sleeping.

A turn ends with a sentinel: after sending, the helper presses a button that is no button of ours in the
person's private chat. One person's updates are handled in order, so when the bot answers that press (at
once, without a word), everything the turn sent has been sent."""

from __future__ import annotations

import asyncio

TURN_END = "turn:end"  # decodes to no button: answered at once (no text), never rate-limited, changes nothing
WAIT = 30.0


def buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


def button(message: dict, label_part: str) -> str:
    for label, data in buttons(message):
        if label_part.lower() in label.lower():
            return data
    raise AssertionError(f"no button like {label_part!r} in {buttons(message)}")


async def end_of_turn(fake, user: int) -> None:
    """Wait until everything the bot does for `user`'s updates so far is done (their order is kept)."""
    since = fake.call_count
    with fake._lock:  # the press's own query id, to know its answer from any other
        fake.press_button(user, {"message_id": 1, "date": 0, "chat": {"id": user, "type": "private"}, "text": "?"}, TURN_END)
        query_id = fake._updates[-1]["callback_query"]["id"]
    await fake.wait_for(lambda c: c.params.get("callback_query_id") == query_id, method="answerCallbackQuery",
                        since=since, timeout=WAIT)


async def say(fake, user, text, count_before=None):
    """Send text and wait for the turn's replies (at least one); returns the new messages to that user."""
    before = len(fake.sent_messages(user)) if count_before is None else count_before
    fake.send_text(user, text)
    await fake.wait_for_messages(user, before + 1, timeout=WAIT)
    await end_of_turn(fake, user)
    return fake.sent_messages(user)[before:]


async def press(fake, user, message, data):
    before = len(fake.sent_messages(user))
    fake.press_button(user, message, data)
    await fake.wait_for_messages(user, before + 1, timeout=WAIT)
    await end_of_turn(fake, user)
    return fake.sent_messages(user)[before:]


async def settle(fake, chat, quiet=0.3):
    """Wait until the bot has stopped sending to `chat` for a moment: only for what no turn ends (the outbox)."""
    count = -1
    while count != len(fake.sent_messages(chat)):
        count = len(fake.sent_messages(chat))
        await asyncio.sleep(quiet)


def open_store(settings):
    from bot.store import Store

    return Store(settings.database_path)


async def become(fake, user, role):
    messages = await say(fake, user, "/start")
    await press(fake, user, messages[-1], f"role:{role}")


async def complete_breach_report(fake, user, *, leadership="no", risk="none", photo=True, anonymous=False):
    intro = await say(fake, user, "/report")
    assert "What happened" in intro[-1]["text"]
    where = await say(fake, user, "A teaching assistant posted a photo of our Year 5 class trip on Instagram")
    [when] = await press(fake, user, where[-1], button(where[-1], "Instagram"))
    [who] = await say(fake, user, "yesterday evening")
    [lead] = await say(fake, user, "A teaching assistant")
    risk_q = (await press(fake, user, lead, f"f:leadership:{leadership}"))[-1]
    assert "pupil" in risk_q["text"].lower()
    risk_replies = await press(fake, user, risk_q, f"f:pupil_risk:{risk}")
    evidence = risk_replies[-1]
    assert "screenshots" in evidence["text"].lower()
    if photo:
        before = len(fake.sent_messages(user))
        fake.send_photo(user)
        await fake.wait_for_messages(user, before + 1, timeout=10)
        evidence = fake.sent_messages(user)[-1]
        assert "received" in evidence["text"]
    anon_q = (await press(fake, user, evidence, "f:evidence:done"))[-1]
    clauses = await press(fake, user, anon_q, "f:anonymous:anonymous" if anonymous else "f:anonymous:named")
    clause_q = clauses[-1]
    assert "breached" in clause_q["text"] or "section" in clause_q["text"].lower()
    [summary] = await press(fake, user, clause_q, button(clause_q, "right") if "right" in str(buttons(clause_q)) else "f:clauses:none")
    assert "Here is your report" in summary["text"]
    [stored] = await press(fake, user, summary, "f:confirm:send")
    return stored


def case_ref(message: dict, prefix: str = "BR-") -> str:
    return next(w.strip(".,") for w in message["text"].split() if w.startswith(prefix))


async def office_says(fake, user, chat, text, chat_type="supergroup"):
    """An office member writes in a group chat; returns the bot's next message there."""
    before = len(fake.sent_messages(chat))
    fake.send_text(user, text, chat_id=chat, chat_type=chat_type)
    [*_, reply] = await fake.wait_for_messages(chat, before + 1, timeout=WAIT)
    return reply
