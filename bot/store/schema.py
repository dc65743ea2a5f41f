"""The store's tables, as recorded migrations (`sqlite_utils.Migrations`): an existing database opens unchanged
and gets only the migrations it has not had yet."""

from __future__ import annotations

import secrets

import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("policybot")

@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["meta"].insert({"key": "pseudonym_key", "value": secrets.token_hex(32)})
    db["profiles"].create({"user_key": str, "role": str, "created": str, "last_seen": str}, pk="user_key")
    db["conversation_state"].create({"user_key": str, "state": str, "updated": str}, pk="user_key")
    db["processed_updates"].create({"update_id": str, "handled": str}, pk="update_id")
    db["questions"].create(
        {
            "id": int,
            "user_key": str,
            "role": str,
            "text": str,
            "intent": str,
            "answered": int,
            "confidence": float,
            "top_clause": str,
            "created": str,
        },
        pk="id",
    )
    db["questions"].create_index(["user_key"])
    db["questions"].create_index(["created"])
    db["feedback"].create(
        {"id": int, "question_id": int, "user_key": str, "value": int, "created": str}, pk="id"
    )
    db["feedback"].create_index(["question_id", "user_key"], unique=True)
    db["unanswered"].create(
        {
            "id": int,
            "question_id": int,
            "user_key": str,
            "channel": str,
            "chat_id": str,
            "role": str,
            "text": str,
            "suggestions": str,  # JSON list of clause ids, best first
            "status": str,  # open | answered | dismissed
            "created": str,
            "resolved_at": str,
            "resolved_by": str,
            "answer_clause": str,
            "answer_text": str,
        },
        pk="id",
    )
    db["unanswered"].create_index(["status"])
    # Only the question text the office approved, with no link to whoever asked it.
    db["learned_alternates"].create({"id": int, "clause_id": str, "text": str, "created": str}, pk="id")
    db["learned_alternates"].create_index(["clause_id", "text"], unique=True)
    db["case_counters"].create({"prefix_year": str, "last": int}, pk="prefix_year")
    case_columns = {
        "ref": str,
        "created": str,
        "status": str,
        "reporter_key": str,  # empty when anonymous
        "reporter_channel": str,
        "reporter_chat": str,
        "reporter_name": str,  # the name the person gave Telegram, when they chose to be named
        "role": str,
        "routed_to": str,  # office | escalation
        "urgent": int,
        "acknowledged_by": str,
        "acknowledged_at": str,
        "closed_by": str,
        "closed_at": str,
        "close_note": str,
    }
    db["breach_reports"].create(
        {
            **case_columns,
            "anonymous": int,
            "what": str,
            "where_": str,
            "when_": str,
            "who": str,
            "about_leadership": int,
            "pupil_risk": str,  # harm | identifiable | none
            "data_protection": int,
            "evidence": str,  # JSON list of Telegram file ids
            "clauses": str,  # JSON list of clause ids the reporter confirmed
        },
        pk="ref",
    )
    db["complaint_referrals"].create(
        {**case_columns, "about": str, "who": str, "tried": str, "outcome": str, "contact": str}, pk="ref"
    )
    db["safeguarding_alerts"].create({**case_columns, "text": str, "context": str}, pk="ref")
    db["audit_log"].create(
        {"id": int, "at": str, "actor": str, "action": str, "target": str, "detail": str}, pk="id"
    )
    db["outbox"].create(
        {
            "id": int,
            "created": str,
            "target": str,  # office | escalation | user
            "channel": str,  # telegram | console
            "chat_id": str,  # for target=user
            "user_key": str,  # for target=user, so /forget and retention can find it
            "kind": str,  # unanswered | case | case_update | answer | digest
            "ref": str,
            "text": str,
            "buttons": str,  # JSON rows of [label, action]
            "attempts": int,
            "next_attempt": str,
            "delivered_at": str,
            "message_id": int,
            "last_error": str,
            "status": str,  # pending | delivered | undeliverable
        },
        pk="id",
    )
    db["outbox"].create_index(["status", "next_attempt"])


@migrations()
def m002_office_answers(db: sqlite_utils.Database) -> None:
    # Answers the office wrote in its own words, given again to anyone asking the same question. The question
    # text only, with the role it was asked in: no link to whoever asked. Kept until the office removes it.
    db["office_answers"].create(
        {"id": int, "question": str, "answer": str, "role": str, "answered_at": str, "answered_by": str}, pk="id"
    )


@migrations()
def m003_update_journal(db: sqlite_utils.Database) -> None:
    # Telegram updates written down before Telegram is told they arrived; the body is blanked once handled
    # (bot/telegram/journal.py), and done rows are deleted after a week.
    db["update_journal"].create({"update_id": int, "body": str, "received": str, "done": str}, pk="update_id")
    db["update_journal"].create_index(["done"])


@migrations()
def m004_answer_links(db: sqlite_utils.Database) -> None:
    # A web asker's way back to the office's answer, kept on their unanswered question and erased with it: the
    # hash of the private link's token (never the token), the email address they chose to give (blanked once the
    # answer is sent), and the answer as they were sent it.
    for column in ("link_hash", "email", "answer_message"):
        db["unanswered"].add_column(column, str, not_null_default="")
    db["unanswered"].create_index(["link_hash"])


@migrations()
def m005_complaint_child(db: sqlite_utils.Database) -> None:
    # The child a complaint referral is about (name or class, optional), asked since a parent's first try.
    db["complaint_referrals"].add_column("child", str)


@migrations()
def m006_signatures(db: sqlite_utils.Database) -> None:
    # The roster, signatures and acknowledgements, the versions signed, and unfinished signing (bot/store/signatures.py).
    from bot.store.signatures import create_tables

    create_tables(db)


@migrations()
def m007_weekly_counts(db: sqlite_utils.Database) -> None:
    # Anonymous counts per week, clause, role and outcome (bot/store/weekly.py), kept beyond RETENTION_DAYS so a
    # year's review can be written. Filled from the questions, feedback and office answers still held.
    import json

    from bot.store.weekly import TABLE, add_count, question_outcome

    db[TABLE].create({"week": str, "clause": str, "role": str, "outcome": str, "n": int}, pk=("week", "clause", "role", "outcome"))
    nearest = {}
    for row in db["unanswered"].rows:
        suggestions = json.loads(row["suggestions"] or "[]")
        nearest[row["question_id"]] = suggestions[0] if suggestions else ""
        if row["status"] == "dismissed":
            add_count(db, row["resolved_at"], nearest[row["question_id"]], row["role"], "dismissed")
        elif row["status"] == "answered":
            add_count(db, row["resolved_at"], row["answer_clause"], row["role"], "office_answered")
            if row["answer_clause"] and row["answer_clause"] != nearest[row["question_id"]]:
                add_count(db, row["resolved_at"], nearest[row["question_id"]], row["role"], "office_redirected")
    questions = {}
    for row in db["questions"].rows:
        questions[row["id"]] = row
        clause = row["top_clause"] or nearest.get(row["id"], "")
        add_count(db, row["created"], clause, row["role"], question_outcome(row["intent"], bool(row["answered"])))
    for row in db["feedback"].rows:
        asked = questions.get(row["question_id"])
        if asked is not None:
            add_count(db, row["created"], asked["top_clause"], asked["role"], "thumbs_up" if row["value"] > 0 else "thumbs_down")


# The office's desk (bot/desk/). Numbered last when branches merge: only the function's place in this file
# orders it, and its name is what a database records as applied.
@migrations()
def m008_desk(db: sqlite_utils.Database) -> None:
    # Sign-in links: only a hash of the token is kept; a link is used once, within minutes.
    db["desk_links"].create(
        {"token_hash": str, "identity": str, "created": str, "expires": str, "used_at": str}, pk="token_hash"
    )
    # Signed-in sessions (the cookie holds the id, signed; only its hash is kept here), ended when idle.
    db["desk_sessions"].create(
        {"id_hash": str, "identity": str, "csrf": str, "created": str, "last_seen": str, "ended": str, "flash": str}, pk="id_hash"
    )
    db["case_notes"].create({"id": int, "ref": str, "at": str, "actor": str, "note": str}, pk="id")
    db["case_notes"].create_index(["ref"])
    # A 👎 on an answer puts the question back before the office with the answer that was disliked.
    db["unanswered"].add_column("disliked", str, not_null_default="")


# Signing on the web (bot/web/signing.py) and reminders (`policybot office roster remind`).
@migrations()
def m009_signing_web(db: sqlite_utils.Database) -> None:
    # A web signer may leave an email address, to be told when the text they signed changes; a signer who is not on
    # the roster gets their own code for a personal link (a roster row's code serves those who are).
    db["signatures"].add_column("email", str, not_null_default="")
    db["signatures"].add_column("code", str, not_null_default="")
    db["signatures"].create_index(["code"])
    # When a roster row was last reminded (never twice within a day).
    db["roster"].add_column("reminded_at", str, not_null_default="")
