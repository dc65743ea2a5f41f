"""Signing, for every channel: parents sign the agreement (/agree), staff acknowledge the policy (/acknowledge).

A channel hands `Signing` who is talking and what they typed or pressed, and shows the `Outgoing` replies it
gets back; where each person is in signing is kept in the store, so Telegram today and a web page later need
only call these methods. The version signed is the digest of the clauses shown (knowledge/signing.py). At start
(`open_round`), a new version of the pack opens a re-confirmation round: everyone who signed an earlier version
on Telegram is sent a message through the outbox, and signing again shows them only the clauses that changed.
"I have a question first" puts the question in the office's unanswered queue, as a question the bot could not
answer goes there. A signature is a record the school keeps (SIGNATURE_RETENTION_DAYS): /forget leaves it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.dialogue.outgoing import Outgoing, Person
from bot.protocol import person_button
from bot.store import Store
from bot.store.signatures import SIGNER_KIND
from bot.texts import quoted_section
from intents.flows import Button
from knowledge.signing import KINDS, SHORT, Changes, SignedText, signed_text
from knowledge.texts import Texts

COMMANDS = {"agreement": "/agree", "acknowledgement": "/acknowledge"}
ROLE_OF_KIND = {"agreement": "parent", "acknowledgement": "staff"}
NAME_LIMIT = 100
CLASSES_LIMIT = 200
ACTION = "sig"  # sig:agree | sig:ask | sig:later | sig:none | sig:go:<kind>
TEXT_STEPS = ("name", "classes", "role", "question")  # the steps that take typed words
CODE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")  # a roster code: Telegram's deep-link parameter (one word)


@dataclass(frozen=True)
class Standing:
    """One roster row and where it stands for the current version."""

    row: dict
    signed: dict | None  # their latest signature, any version
    asked: bool
    current: bool  # signed the current version


class Signing:
    def __init__(self, store: Store, pack, texts: Texts, settings, office=None):
        self.store = store
        self.pack = pack
        self.texts = texts
        self.settings = settings
        self.office = office  # for the unanswered queue's notice (None: the office CLI, which sends nothing)

    def text_for(self, kind: str) -> SignedText:
        return signed_text(self.pack, kind)

    # --- a re-confirmation round, when the pack changed --------------------------------------------

    def open_round(self) -> int:
        """Record the current versions; if one is new, message each Telegram signer of an earlier version.
        Returns how many messages were queued (nothing is sent twice: a version is new only once)."""
        queued = 0
        with self.store.transaction():
            for kind in KINDS:
                text = self.text_for(kind)
                if not text.clauses:
                    continue
                had_versions = bool(self.store.signatures.versions(kind))
                if not self.store.signatures.record_version(kind, text.digest, text.fingerprints()) or not had_versions:
                    continue
                for signature in self.store.signatures.signers_behind(kind, text.digest):
                    if signature["channel"] != "telegram" or not signature["chat_id"]:
                        continue  # web signers see the changes on their next visit (and, later, by email)
                    changes = text.changes_since(self.store.signatures.fingerprints(signature["digest"]))
                    sections = [c.label for c in changes.changed] + list(changes.removed)
                    notice = self.texts.get(f"signing.round_notice.{kind}", count=len(sections), sections=", ".join(sections) or "—")
                    self.store.outbox.enqueue(
                        target="user", channel="telegram", chat_id=signature["chat_id"], user_key=signature["user_key"],
                        kind="resign", ref=text.short, text=notice,
                        buttons=[[(self.texts.get("signing.review_button"), person_button(ACTION, "go", kind))]],
                    )
                    queued += 1
        return queued

    # --- one input, for a channel that passes everything through one place (the console; a web page) ------

    def handle(self, person: Person, *, text: str = "", action: str = "", urgent: bool = False) -> list[Outgoing] | None:
        """Signing's replies to this input, or None when it is not for signing (the dialogue's, then).
        `urgent`: the channel's triage says the words may be about a child at risk; they go to the dialogue."""
        if action:
            return self.press(person, action) if action.startswith(f"{ACTION}:") else None
        words = text.strip()
        command, _, rest = words.partition(" ")
        command = command.split("@", 1)[0].lower()
        if command == "/agree":
            return self.start(person, "agreement")
        if command == "/acknowledge":
            return self.start(person, "acknowledgement")
        if command == "/start" and CODE.match(rest.strip()):
            return self.start_with_code(person, rest.strip()) or [self.say("signing.link_unknown")]
        if command == "/cancel":
            return self.cancel(person)
        if words.startswith("/") or urgent or not self.wants_text(person):
            return None
        return self.take_text(person, text)

    # --- a person signing ----------------------------------------------------------------------------

    def start(self, person: Person, kind: str) -> list[Outgoing]:
        """/agree or /acknowledge: the text to sign (or only what changed since they signed), then the buttons."""
        key = self.user_key(person)
        with self.store.transaction():
            text = self.text_for(kind)
            if not text.clauses:
                return [self.say("signing.no_agreement")]
            self.store.signatures.record_version(kind, text.digest, text.fingerprints())
            latest = self.store.signatures.latest(key, kind)
            if latest and latest["digest"] == text.digest:
                self.store.signatures.save_session(key, {})
                return [self.say("signing.already_signed", version=text.short, date=latest["at"][:10])]
            state = {"kind": kind, "step": "read", "digest": text.digest}
            if latest:
                state["again"] = {"name": latest["name"], "role": latest["role"], "classes": latest["classes"]}
                changes = text.changes_since(self.store.signatures.fingerprints(latest["digest"]))
                intro = self.say("signing.changed_intro", kind=self.texts.get(f"signing.kinds.{kind}"),
                                 old=latest["digest"][:SHORT], date=latest["at"][:10], version=text.short)
                shown = [intro] + self.changed(changes)
            else:
                shown = [self.say(f"signing.intro.{kind}", version=text.short)] + self.clauses(text)
            self.store.signatures.save_session(key, state)
            return shown + [self.sign_prompt(kind)]

    def start_with_code(self, person: Person, code: str) -> list[Outgoing] | None:
        """`/start CODE`: the person's own roster row tied to them, and its signing started; None for no such code."""
        row = self.store.signatures.roster_by_code(code.strip())
        if row is None:
            return None
        key = self.user_key(person)
        with self.store.transaction():
            self.store.signatures.link(row["id"], key, person.channel, person.chat_id)
            if not self.store.people.role_of(key):
                self.store.people.set_role(key, "staff" if row["kind"] == "staff" else "parent")
        return [self.say("signing.link_welcome", name=row["name"])] + self.start(person, SIGNER_KIND[row["kind"]])

    def press(self, person: Person, action: str) -> list[Outgoing]:
        """A signing button (`sig:…`)."""
        key = self.user_key(person)
        parts = action.split(":")[1:]
        verb = parts[0] if parts else ""
        if verb == "go" and len(parts) == 2 and parts[1] in KINDS:
            return self.start(person, parts[1])
        with self.store.transaction():
            state = self.store.signatures.session(key)
            if not state:
                return [self.say("conversation.button_expired")]
            kind = state["kind"]
            if verb == "later":
                self.store.signatures.save_session(key, {})
                return [self.say("signing.later", command=COMMANDS[kind])]
            if verb == "ask" and state["step"] == "read":
                state["step"] = "question"
                self.store.signatures.save_session(key, state)
                return [self.say("signing.ask_question", command=COMMANDS[kind])]
            if verb == "agree" and state["step"] == "read":
                return self.agree(person, key, state)
            if verb == "none" and state["step"] == "classes":
                state["classes"] = ""
                return self.finish(person, key, state)
        return [self.say("conversation.button_expired")]

    def wants_text(self, person: Person) -> bool:
        """Is the person at a step that takes typed words (name, classes, role, their question)?"""
        return self.step(person) in TEXT_STEPS

    def step(self, person: Person) -> str:
        """Where the person is in signing: "" (not signing), read, name, classes, role or question."""
        return self.store.signatures.session(self.user_key(person)).get("step", "")

    def take_text(self, person: Person, text: str) -> list[Outgoing]:
        key = self.user_key(person)
        text = " ".join(text.split())
        with self.store.transaction():
            state = self.store.signatures.session(key)
            step = state.get("step")
            if step not in TEXT_STEPS:  # signing ended meanwhile (another device, a button)
                return [self.say("conversation.button_expired")]
            if step == "question":
                return self.ask_office(person, key, state, text)
            limit = CLASSES_LIMIT if step == "classes" else NAME_LIMIT
            if not text:
                return [self.next_question(state)]
            if len(text) > limit:
                return [self.say("signing.name_too_long", limit=limit), self.next_question(state)]
            if step == "name":
                state["name"] = text
            elif step == "classes":
                state["classes"] = ", ".join(p.strip() for p in re.split(r",|;|\band\b", text) if p.strip())
            elif step == "role":
                state["role"] = text
            return self.ask_next_or_finish(person, key, state)

    def cancel(self, person: Person) -> list[Outgoing] | None:
        """/cancel while signing: nothing signed; None if the person was not signing."""
        key = self.user_key(person)
        state = self.store.signatures.session(key)
        if not state:
            return None
        self.store.signatures.save_session(key, {})
        return [self.say("signing.cancelled", command=COMMANDS[state["kind"]])]

    # --- the steps -------------------------------------------------------------------------------

    def agree(self, person: Person, key: str, state: dict) -> list[Outgoing]:
        """"I agree": if the text changed while they read it, what changed first; else their details."""
        text = self.text_for(state["kind"])
        if state["digest"] != text.digest:
            changes = text.changes_since(self.store.signatures.fingerprints(state["digest"]))
            state["digest"] = text.digest
            self.store.signatures.save_session(key, state)
            return [self.say("signing.changed_while_reading")] + self.changed(changes) + [self.sign_prompt(state["kind"])]
        again = state.pop("again", None)
        if again:  # a re-confirmation: the details they gave last time
            state.update(again)
            return self.finish(person, key, state)
        roster = self.store.signatures.roster_of(key)
        if roster and roster["kind"] == ROLE_OF_KIND[state["kind"]]:
            state["roster_id"] = roster["id"]
            state["name"] = roster["name"]
            if roster["classes"]:
                state["classes"] = roster["classes"]
        return self.ask_next_or_finish(person, key, state)

    def ask_next_or_finish(self, person: Person, key: str, state: dict) -> list[Outgoing]:
        wanted = ["name", "classes" if state["kind"] == "agreement" else "role"]
        missing = [field for field in wanted if field not in state]
        if not missing:
            return self.finish(person, key, state)
        state["step"] = missing[0]
        self.store.signatures.save_session(key, state)
        return [self.next_question(state)]

    def next_question(self, state: dict) -> Outgoing:
        step = state.get("step")
        if step == "classes":
            return Outgoing(self.texts.get("signing.ask_classes"), ((Button(self.texts.get("signing.prefer_not_button"), person_button(ACTION, "none")),),))
        if step == "role":
            return self.say("signing.ask_role")
        if step == "question":
            return self.say("signing.ask_question", command=COMMANDS[state["kind"]])
        return self.say("signing.ask_name")

    def finish(self, person: Person, key: str, state: dict) -> list[Outgoing]:
        """The signature stored, with the version, the time and the channel; the session closed."""
        kind = state["kind"]
        text = self.text_for(kind)
        roster_id = state.get("roster_id") or self.roster_id(key, kind)
        row_id = self.store.signatures.record(
            kind=kind, outcome="signed", user_key=key, digest=state["digest"], channel=person.channel, chat_id=person.chat_id,
            name=state.get("name", ""), role=state.get("role", ""), classes=state.get("classes", ""), roster_id=roster_id,
        )
        self.store.signatures.save_session(key, {})
        row = self.store.signatures.row("signatures", row_id)
        return [self.say(f"signing.signed.{kind}", name=row["name"], version=text.short, date=row["at"][:10],
                         classes=row["classes"] or self.texts.get("signing.prefer_not"), role=row["role"])]

    def ask_office(self, person: Person, key: str, state: dict, question: str) -> list[Outgoing]:
        """"I have a question first": into the office's unanswered queue (noticed at once, or in the digest)."""
        if not question:
            return [self.next_question(state)]
        kind = state["kind"]
        role = ROLE_OF_KIND[kind]
        text = self.text_for(kind)
        store = self.store
        question_id = store.questions.record(key, role, question, "agreement_question", False, 0.0, "")
        item_id = store.unanswered.add(question_id, key, person.channel, person.chat_id, role, question, [c.id for c in text.clauses[:3]])
        if self.office is not None and self.settings.office_notify == "each":
            notice, rows = self.office.unanswered_notice(store.unanswered.item(item_id))
            store.outbox.enqueue(target="office", text=notice, buttons=rows, kind="unanswered", ref=f"U-{item_id}")
        store.signatures.record(kind=kind, outcome="asked", user_key=key, digest=state["digest"], channel=person.channel,
                                chat_id=person.chat_id, question_item=item_id, roster_id=self.roster_id(key, kind))
        state["step"] = "read"  # their buttons work again once they have the answer
        store.signatures.save_session(key, state)
        return [self.say("signing.question_sent", command=COMMANDS[kind])]

    def roster_id(self, key: str, kind: str) -> int | None:
        """The person's roster row for this kind of signing, if they used their code."""
        roster = self.store.signatures.roster_of(key)
        return roster["id"] if roster and roster["kind"] == ROLE_OF_KIND[kind] else None

    # --- what is shown ---------------------------------------------------------------------------

    def clauses(self, text: SignedText) -> list[Outgoing]:
        """Parents: each clause in plain words, then verbatim. Staff: the whole policy, verbatim, as one long
        message (the channel splits it)."""
        if text.kind == "agreement":
            out = []
            for clause in text.clauses:
                if clause.summary:
                    out.append(self.say("signing.summary_line", summary=clause.summary))
                out.append(Outgoing(quoted_section(self.texts, clause), section=clause, kind="section"))
            return out
        return [Outgoing("\n\n".join(quoted_section(self.texts, c) for c in text.clauses))]

    def changed(self, changes: Changes) -> list[Outgoing]:
        out = [Outgoing(quoted_section(self.texts, c), section=c, kind="section") for c in changes.changed]
        if changes.removed:
            out.append(self.say("signing.removed_line", sections=", ".join(changes.removed)))
        return out

    def sign_prompt(self, kind: str) -> Outgoing:
        t = self.texts
        buttons = (
            (Button(t.get(f"signing.agree_button.{kind}"), person_button(ACTION, "agree")),),
            (Button(t.get("signing.question_button"), person_button(ACTION, "ask")), Button(t.get("signing.later_button"), person_button(ACTION, "later"))),
        )
        return Outgoing(t.get("signing.keeps", detail=t.get(f"signing.keeps_details.{kind}")), buttons)

    def say(self, key: str, **values) -> Outgoing:
        return Outgoing(self.texts.get(key, **values))

    def user_key(self, person: Person) -> str:
        return self.store.people.user_key(person.channel, person.user_id)

    # --- what the person and the office see of it ---------------------------------------------------

    def mydata_lines(self, user_key: str) -> list[str]:
        return mydata_lines(self.store, self.texts, user_key)

    def standings(self) -> list[Standing]:
        """Every roster row with what they signed (matched by their code) and whether it is the current version."""
        current = {kind: self.text_for(kind).digest for kind in KINDS}
        by_roster: dict[int, list[dict]] = {}
        for row in self.store.signatures.all():
            if row["roster_id"] is not None:
                by_roster.setdefault(row["roster_id"], []).append(row)
        out = []
        for person in self.store.signatures.roster():
            kind = SIGNER_KIND[person["kind"]]
            rows = [r for r in by_roster.get(person["id"], []) if r["kind"] == kind]
            signed = [r for r in rows if r["outcome"] == "signed"]
            latest = signed[-1] if signed else None
            asked = any(r["outcome"] == "asked" for r in rows) and latest is None
            out.append(Standing(person, latest, asked, latest is not None and latest["digest"] == current[kind]))
        return out

    def unmatched(self) -> list[dict]:
        """Signatures given by name alone (no roster code): for the office to match by hand."""
        return [r for r in self.store.signatures.all() if r["roster_id"] is None and r["outcome"] == "signed"]


def mydata_lines(store: Store, texts: Texts, user_key: str) -> list[str]:
    """/mydata: each signature and each question asked before signing (none: no lines)."""
    rows = store.signatures.of_person(user_key)
    if not rows:
        return []
    lines = [texts.get("signing.mydata_header")]
    for row in rows:
        if row["outcome"] == "asked":
            lines.append(texts.get("signing.mydata_asked", date=row["at"][:10]))
        else:
            lines.append(texts.get(f"signing.mydata_signed.{row['kind']}", date=row["at"][:10], version=row["digest"][:SHORT],
                                   name=row["name"], role=row["role"], classes=row["classes"] or texts.get("signing.prefer_not")))
    return lines
