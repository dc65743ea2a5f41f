"""Signing, for every channel: parents sign the agreement (/agree), staff acknowledge the policy (/acknowledge).

A channel hands `Signing` who is talking and what they typed or pressed, and shows the `Outgoing` replies it
gets back; where each person is in signing is kept in the store. A channel that shows a whole form at once (the
web page, bot/web/signing.py) asks `page` what to show and hands the filled form to `sign_form` or `ask_form`.
The version signed is the digest of the clauses shown (knowledge/signing.py). At start (`open_round`), a new
version of the pack opens a re-confirmation round: everyone who signed an earlier version on Telegram is sent a
message through the outbox, a web signer who left an email address (or whose roster row has one) is emailed
their personal link, and signing again shows them only the clauses that changed. `remind` reminds everyone on
the roster who has not signed the current version, by Telegram or email, at most once a day.
"I have a question first" puts the question in the office's unanswered queue, as a question the bot could not
answer goes there. A signature is a record the school keeps (SIGNATURE_RETENTION_DAYS): /forget leaves it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import office_queue
from bot.answer_links import LINK_CHANNELS, link_url, new_token, public_base, token_hash
from bot.dialogue.outgoing import Outgoing, Person
from bot.protocol import person_button
from bot.settings import looks_like_address
from bot.store import Store, stamp
from bot.store.signatures import SIGNER_KIND
from bot.texts import quoted_section
from intents.flows import Button
from knowledge.clause import Clause
from knowledge.signing import KINDS, SHORT, Changes, SignedText, signed_text
from knowledge.texts import Texts

COMMANDS = {"agreement": "/agree", "acknowledgement": "/acknowledge"}
ROLE_OF_KIND = {"agreement": "parent", "acknowledgement": "staff"}
NAME_LIMIT = 100
CLASSES_LIMIT = 200
ACTION = "sig"  # sig:agree | sig:ask | sig:later | sig:none | sig:go:<kind>
TEXT_STEPS = ("name", "classes", "role", "question")  # the steps that take typed words
CODE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")  # a roster code: Telegram's deep-link parameter (one word)
SIGN_PATH = "/sign/"  # a personal web signing link: SIGN_PATH + code (bot/web/signing.py)
EMAIL_LIMIT = 254
REMIND_EVERY = timedelta(days=1)  # nobody is reminded twice within this


def sign_link(settings, code: str) -> str:
    """A personal signing link on the web (where people reach the web app)."""
    return f"{public_base(settings)}{SIGN_PATH}{code}"


def split_classes(text: str) -> str:
    """"3B and 5R; 6T" → "3B, 5R, 6T"."""
    return ", ".join(p.strip() for p in re.split(r",|;|\band\b", text) if p.strip())


@dataclass(frozen=True)
class Standing:
    """One roster row and where it stands for the current version."""

    row: dict
    signed: dict | None  # their latest signature, any version
    asked: bool
    current: bool  # signed the current version


@dataclass(frozen=True)
class SignPage:
    """What a page shows someone about to sign (a channel that shows the whole form at once)."""

    kind: str
    text: SignedText
    shown: tuple[Clause, ...]  # every clause, or only those changed since `previous`
    removed: tuple[str, ...]  # clauses taken out since `previous`
    previous: dict | None  # the signature of an earlier version they are asked to confirm (its details are kept)
    signed: dict | None  # their signature of the current version, when they have given it
    roster: dict | None  # their row on the school's roster, when they came by their personal link


@dataclass(frozen=True)
class FormResult:
    """A filled signing form, taken: the signature stored, or what to correct, or the text changed meanwhile."""

    signature: dict | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field name → what to do
    changed: bool = False  # the text is not the version the form was shown with: nothing signed


@dataclass(frozen=True)
class Reminded:
    """What `remind` did: how many reminders went by Telegram and by email, who could not be reached, and who
    was left alone because they were reminded within the day."""

    telegram: int = 0
    email: int = 0
    unreachable: int = 0
    recent: int = 0


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
                queued += self.email_round(kind, text)
        return queued

    def email_round(self, kind: str, text: SignedText) -> int:
        """Each signer of an earlier version elsewhere than Telegram with an address (their roster row's, or the
        one they left when signing) is emailed their personal link; once per person, however many browsers."""
        if not self.can_email():
            return 0
        latest: dict[tuple, dict] = {}
        for row in self.store.signatures.all(kind):
            if row["outcome"] != "signed":
                continue
            person = ("r", row["roster_id"]) if row["roster_id"] is not None else ("c", row["code"]) if row["code"] else None
            if person is not None:
                latest[person] = row
        queued = 0
        for (how, _), signature in latest.items():
            if signature["digest"] == text.digest or signature["channel"] == "telegram":
                continue  # current, or messaged on Telegram above
            roster = self.store.signatures.row("roster", signature["roster_id"]) if how == "r" else None
            address = (roster or {}).get("email") or signature["email"]
            code = roster["code"] if roster else signature["code"]
            if not address or not code:
                continue
            changes = text.changes_since(self.store.signatures.fingerprints(signature["digest"]))
            sections = [c.label for c in changes.changed] + list(changes.removed)
            notice = self.texts.get(f"signing.round_notice.{kind}", count=len(sections), sections=", ".join(sections) or "—")
            body = self.texts.get("signing.email_body", notice=notice, link=sign_link(self.settings, code))
            ref = f"R-{roster['id']}" if roster else f"S-{signature['id']}"
            self.store.outbox.enqueue(target="user", channel="email", user_key=signature["user_key"], kind="resign", ref=ref, text=body)
            queued += 1
        return queued

    def can_email(self) -> bool:
        """Email a person only with a mail server and a web page for their link."""
        return bool(getattr(self.settings, "smtp_host", "")) and getattr(self.settings, "web_port", None) is not None

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
            latest = self.latest(key, kind)
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
        row = self.claim_code(person, code)
        if row is None:
            return None
        return [self.say("signing.link_welcome", name=row["name"])] + self.start(person, SIGNER_KIND[row["kind"]])

    def claim_code(self, person: Person, code: str) -> dict | None:
        """A roster code, used: its row tied to this person (their role set, if they had none); None for no such code."""
        row = self.store.signatures.roster_by_code(code.strip())
        if row is None:
            return None
        key = self.user_key(person)
        with self.store.transaction():
            self.store.signatures.link(row["id"], key, person.channel, person.chat_id)
            if not self.store.people.role_of(key):
                self.store.people.set_role(key, "staff" if row["kind"] == "staff" else "parent")
        return row

    def latest(self, key: str, kind: str, code: str = "") -> dict | None:
        """The person's latest signature of `kind`: their own, or one given through their personal link (their
        roster row's, or a signature's own `code`) in another browser or chat; the newest of these."""
        found = [self.store.signatures.latest(key, kind)]
        roster = self.roster_for(key, kind, code)
        if roster is not None:
            found.append(self.store.signatures.latest_of_roster(roster["id"], kind))
        by_code = self.store.signatures.by_code(code)
        if by_code is not None and by_code["kind"] == kind:
            found.append(by_code)
        found = [row for row in found if row is not None]
        return max(found, key=lambda row: row["id"]) if found else None

    def roster_row(self, key: str, kind: str) -> dict | None:
        """The person's roster row, when they came by its code and it is for this kind of signing."""
        roster = self.store.signatures.roster_of(key)
        return roster if roster and roster["kind"] == ROLE_OF_KIND[kind] else None

    def roster_for(self, key: str, kind: str, code: str = "") -> dict | None:
        """The roster row of the personal link the person came by (`code`, not yet used to sign), else the row
        they are tied to; only a row for this kind of signing."""
        row = self.store.signatures.roster_by_code(code) if code else None
        if row is not None and row["kind"] == ROLE_OF_KIND[kind]:
            return row
        return self.roster_row(key, kind)

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
                state["classes"] = split_classes(text)
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
        sent = self.to_office(person, key, kind, state["digest"], question)
        state["step"] = "read"  # their buttons work again once they have the answer
        self.store.signatures.save_session(key, state)
        return sent

    def to_office(self, person: Person, key: str, kind: str, digest: str, question: str) -> list[Outgoing]:
        """A question before signing, put in the office's queue as the dialogue puts one (within the person's daily
        share; on the web with a private link where the answer will appear); the replies that say so."""
        role = ROLE_OF_KIND[kind]
        store, settings = self.store, self.settings
        limit = settings.office_queue_per_person_per_day
        if office_queue.at_daily_limit(store, key, limit):
            return [self.say("conversation.office_queue_full", limit=limit)]
        text = self.text_for(kind)
        question_id = store.questions.record(key, role, question, "agreement_question", False, 0.0, "")
        item_id = store.unanswered.add(question_id, key, person.channel, person.chat_id, role, question, [c.id for c in text.clauses[:3]])
        if self.office is not None and settings.office_notify == "each":
            office_queue.notify_office(store, self.office, store.unanswered.item(item_id), settings)
        store.signatures.record(kind=kind, outcome="asked", user_key=key, digest=digest, channel=person.channel,
                                chat_id=person.chat_id, question_item=item_id, roster_id=self.roster_id(key, kind))
        out = [self.say("signing.question_sent", command=COMMANDS[kind])]
        if person.channel in LINK_CHANNELS:
            token = new_token()  # shown this once; only its hash is kept
            store.unanswered.set_link(item_id, token_hash(token))
            out.append(Outgoing(self.texts.get("conversation.answer_link", url=link_url(settings, token)).rstrip(), kind="answer_link"))
        return out

    def roster_id(self, key: str, kind: str) -> int | None:
        """The person's roster row for this kind of signing, if they used their code."""
        roster = self.roster_row(key, kind)
        return roster["id"] if roster else None

    # --- a whole form at once (the web) ----------------------------------------------------------------

    def page(self, person: Person, kind: str, code: str = "") -> SignPage:
        """What to show: the whole text, or only what changed since the version they signed, or that they have
        signed the current one. `code`: the personal code of the link they came by (a signer not on the roster)."""
        key = self.user_key(person)
        with self.store.transaction():
            text = self.text_for(kind)
            if text.clauses:
                self.store.signatures.record_version(kind, text.digest, text.fingerprints())
            latest = self.latest(key, kind, code)
            roster = self.roster_for(key, kind, code)
        if latest and latest["digest"] == text.digest:
            return SignPage(kind, text, (), (), None, latest, roster)
        if latest:
            changes = text.changes_since(self.store.signatures.fingerprints(latest["digest"]))
            return SignPage(kind, text, changes.changed, changes.removed, latest, None, roster)
        return SignPage(kind, text, text.clauses, (), None, None, roster)

    def behind(self, person: Person) -> list[str]:
        """The kinds this person signed an earlier version of (for a notice on their next visit)."""
        key = self.user_key(person)
        if not self.store.signatures.of_person(key) and self.store.signatures.roster_of(key) is None:
            return []  # most visitors: nothing signed, nothing to compute
        out = []
        for kind in KINDS:
            latest = self.latest(key, kind)
            if latest is not None and latest["digest"] != self.text_for(kind).digest:
                out.append(kind)
        return out

    def sign_form(self, person: Person, kind: str, *, digest: str, name: str = "", classes: str = "", prefer_not: bool = False,
                  role: str = "", email: str = "", code: str = "") -> FormResult:
        """"I agree" with the form's details (a confirmation of a new version keeps the details given last time).
        `digest`: the version the form showed; another one signs nothing (the page shows the text again)."""
        key = self.user_key(person)
        name, role, email = " ".join(name.split()), " ".join(role.split()), email.strip()
        classes = split_classes(" ".join(classes.split()))
        with self.store.transaction():
            text = self.text_for(kind)
            if not text.clauses or digest != text.digest:
                return FormResult(changed=True)
            latest = self.latest(key, kind, code)
            if latest and latest["digest"] == text.digest:
                return FormResult(signature=latest)  # sent twice: signed once
            roster = self.roster_for(key, kind, code)
            if roster is not None and roster["user_key"] != key:  # their personal link: tied to them as they sign
                self.store.signatures.link(roster["id"], key, person.channel, person.chat_id)
            if latest:
                name, role, classes = latest["name"], latest["role"], latest["classes"]
                email, code = latest["email"], latest["code"]
            else:
                errors = self.form_errors(kind, name=name, classes=classes, prefer_not=prefer_not, role=role, email=email)
                if errors:
                    return FormResult(errors=errors)
                if prefer_not:
                    classes = ""
                code = self.store.signatures.new_code() if email and roster is None else ""
            if roster is not None:
                code = ""  # their roster row's code is their link
            row_id = self.store.signatures.record(
                kind=kind, outcome="signed", user_key=key, digest=text.digest, channel=person.channel, chat_id=person.chat_id,
                name=name, role=role if kind == "acknowledgement" else "", classes=classes if kind == "agreement" else "",
                roster_id=roster["id"] if roster else (latest or {}).get("roster_id"), email=email, code=code,
            )
            self.store.signatures.save_session(key, {})  # a signing begun another way is over
            return FormResult(signature=self.store.signatures.row("signatures", row_id))

    def form_errors(self, kind: str, *, name: str, classes: str, prefer_not: bool, role: str, email: str) -> dict[str, str]:
        t, errors = self.texts, {}
        if not name:
            errors["name"] = t.get("signing.ask_name")
        elif len(name) > NAME_LIMIT:
            errors["name"] = t.get("signing.name_too_long", limit=NAME_LIMIT)
        if kind == "agreement":
            if not classes and not prefer_not:
                errors["classes"] = t.get("signing.form_errors.classes")
            elif len(classes) > CLASSES_LIMIT:
                errors["classes"] = t.get("signing.name_too_long", limit=CLASSES_LIMIT)
        else:
            if not role:
                errors["role"] = t.get("signing.form_errors.role")
            elif len(role) > NAME_LIMIT:
                errors["role"] = t.get("signing.name_too_long", limit=NAME_LIMIT)
        if email and (len(email) > EMAIL_LIMIT or not looks_like_address(email)):
            errors["email"] = t.get("signing.form_errors.email")
        return errors

    def ask_form(self, person: Person, kind: str, question: str, digest: str) -> list[Outgoing] | None:
        """"I have a question first", typed on the form: to the office's queue; None for an empty question."""
        question = " ".join(question.split())
        if not question:
            return None
        key = self.user_key(person)
        with self.store.transaction():
            current = self.text_for(kind).digest
            return self.to_office(person, key, kind, digest if digest == current else current, question)

    # --- reminders -------------------------------------------------------------------------------------

    def remind(self, now: datetime | None = None) -> Reminded:
        """Everyone on the roster who has not signed the current version, reminded: by Telegram when their row is
        tied to a Telegram chat, else by email (with their personal web link) when it has an address; nobody
        twice within REMIND_EVERY. The rest could not be reached (`roster status --csv` lists them)."""
        now = now or self.store.now()
        counts = {"telegram": 0, "email": 0, "unreachable": 0, "recent": 0}
        with self.store.transaction():
            for standing in self.standings():
                if standing.current:
                    continue
                row = standing.row
                if row.get("reminded_at") and row["reminded_at"] > stamp(now - REMIND_EVERY):
                    counts["recent"] += 1
                    continue
                how = reach_of(row, self.can_email())
                if how == "none":
                    counts["unreachable"] += 1
                    continue
                kind = SIGNER_KIND[row["kind"]]
                if how == "telegram":
                    self.store.outbox.enqueue(
                        target="user", channel="telegram", chat_id=row["chat_id"], user_key=row["user_key"], kind="remind",
                        ref=f"R-{row['id']}", text=self.texts.get(f"signing.reminder.{kind}", name=row["name"]),
                        buttons=[[(self.texts.get(f"signing.reminder_button.{kind}"), person_button(ACTION, "go", kind))]],
                    )
                else:
                    notice = self.texts.get(f"signing.reminder.{kind}", name=row["name"])
                    body = self.texts.get("signing.email_body", notice=notice, link=sign_link(self.settings, row["code"]))
                    self.store.outbox.enqueue(target="user", channel="email", user_key=row["user_key"], kind="remind",
                                              ref=f"R-{row['id']}", text=body)
                self.store.signatures.mark_reminded(row["id"], now)
                counts[how] += 1
        return Reminded(**counts)

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


def masked(address: str) -> str:
    """j•••@example.org: enough for the person to recognise their address."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}•••@{domain}" if local else ""


def reach_of(row: dict, can_email: bool) -> str:
    """How a roster row can be reminded: telegram | email | none."""
    if row["channel"] == "telegram" and row["chat_id"]:
        return "telegram"
    return "email" if row["email"] and can_email else "none"


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
            if row.get("email"):
                lines.append(texts.get("signing.mydata_email", masked=masked(row["email"])))
    return lines
