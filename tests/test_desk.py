"""The office's desk (bot/desk/), driven as a browser would (Starlette's TestClient) over a fresh SQLite file
and the real `Office` (no model: what the desk does needs none): sign-in links used once and only in time,
sessions that end when idle, who may see what, answers reaching the asker through the outbox, CSRF."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from bot.desk.access import DeskAccess, identity_of
from bot.desk.app import build_desk
from bot.office import Office
from bot.settings import Settings, SettingsError, load_settings
from bot.store import Store
from bot.texts import for_office, for_people
from knowledge.pack import load_pack

ADMIN, OTHER_ADMIN, CHAIR, STRANGER = 900, 901, 950, 4242
ASKER_CHAT = "55501"


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture(scope="module")
def pack():
    return load_pack("clearwell")


@pytest.fixture
def settings(tmp_path):
    return Settings(
        database_path=tmp_path / "policybot.db",
        office_chat_id=-1001,
        escalation_chat_id=-2002,
        admin_user_ids=(ADMIN, OTHER_ADMIN),
        escalation_user_ids=(CHAIR,),
        office_admin_emails=("head.office@school.example",),
        desk_idle_minutes=30,
        web_secret_key="test-key-" + "x" * 40,
    )


@pytest.fixture
def office(settings, pack):
    store = Store(settings.database_path)
    yield Office(store, pack, settings, None, for_office(settings, pack), for_people(settings, pack))
    store.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def access(settings, office, clock):
    return DeskAccess(settings, office.store, clock)


@pytest.fixture
def client(settings, office, clock):
    app = Starlette(routes=[Mount("/desk", app=build_desk(settings, lambda: office, clock=clock), name="desk")])
    with TestClient(app, base_url="http://127.0.0.1:8080") as client:
        yield client


def token_of(url: str) -> str:
    return url.split("token=", 1)[1]


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client, url: str):
    """Open the link (a page with one button), then press it."""
    page = client.get(url.replace("http://127.0.0.1:8080", ""))
    assert page.status_code == 200
    return client.post("/desk/signin", data={"csrf": csrf(page.text), "token": token_of(url)})


def signed_in(client, access, user_id=ADMIN):
    response = sign_in(client, access.issue_link(identity_of(str(user_id)), via="test"))
    assert response.status_code == 200 and response.history[0].status_code == 303
    return response


def text_of(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.text))


def ask_unanswered(office, text="Can I post a video of the school play on TikTok?", channel="telegram", chat=ASKER_CHAT):
    key = office.store.people.user_key(channel, chat)
    qid = office.store.questions.record(key, "parent", text, "question", False, 0.2, "")
    return office.store.unanswered.add(qid, key, channel, chat, "parent", text, ["6.5", "6.13"])


# --- settings --------------------------------------------------------------------------------------


def test_desk_settings_are_read_and_checked():
    s = load_settings(None, {"ESCALATION_USER_IDS": "950, 951", "OFFICE_ADMIN_EMAILS": "A@School.uk; b@school.uk", "DESK_IDLE_MINUTES": "15"})
    assert s.escalation_user_ids == (950, 951)
    assert s.office_admin_emails == ("a@school.uk", "b@school.uk")
    assert s.desk_idle_minutes == 15
    with pytest.raises(SettingsError, match="OFFICE_ADMIN_EMAILS"):
        load_settings(None, {"OFFICE_ADMIN_EMAILS": "not an email"})
    with pytest.raises(SettingsError, match="DESK_IDLE_MINUTES"):
        load_settings(None, {"DESK_IDLE_MINUTES": "0"})


# --- links and sessions ------------------------------------------------------------------------------


def test_a_link_signs_in_once_and_its_token_is_stored_hashed(client, access, office):
    url = access.issue_link("tg:900", via="cli:test")
    assert url.startswith("http://127.0.0.1:8080/desk/signin?token=")
    token = token_of(url)
    rows = list(office.store.db["desk_links"].rows)
    assert len(rows) == 1 and token not in str(rows)  # only a hash is kept

    response = sign_in(client, url)
    assert response.history[0].status_code == 303
    cookie = response.history[0].headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/desk" in cookie
    assert "Unanswered questions" in response.text

    client.cookies.clear()
    again = sign_in(client, url)
    assert again.status_code == 403
    assert "already been used" in text_of(again)
    assert client.get("/desk/unanswered").status_code == 401
    actions = [(e["actor"], e["action"]) for e in office.store.audit.entries()]
    assert ("cli:test", "desk_link") in actions and ("tg:900", "desk_sign_in") in actions
    assert ("tg:900", "desk_sign_in_refused") in actions


def test_opening_the_link_does_not_spend_it(client, access):
    """A mail scanner or a link preview opens the link (GET): only pressing the button signs in."""
    url = access.issue_link("tg:900", via="test")
    client.get(url)
    client.get(url)
    assert sign_in(client, url).history[0].status_code == 303


def test_a_link_expires_after_ten_minutes(client, access, clock):
    url = access.issue_link("tg:900", via="test")
    clock.advance(minutes=10, seconds=1)
    response = sign_in(client, url)
    assert response.status_code == 403 and "has expired" in text_of(response)
    fresh = access.issue_link("tg:900", via="test")
    clock.advance(minutes=9)
    assert sign_in(client, fresh).history[0].status_code == 303


def test_a_forged_link_is_refused_politely(client):
    page = client.get("/desk/signin?token=made-up")
    response = client.post("/desk/signin", data={"csrf": csrf(page.text), "token": "made-up"})
    assert response.status_code == 403 and "not valid" in text_of(response)
    assert client.get("/desk/signin").status_code == 400


def test_only_admins_escalation_and_office_emails_get_a_link(access):
    assert access.issue_link(identity_of(str(STRANGER)), via="test") is None
    assert access.issue_link(identity_of("someone@else.example"), via="test") is None
    assert access.issue_link(identity_of(str(OTHER_ADMIN)), via="test")
    assert access.issue_link(identity_of(str(CHAIR)), via="test")
    assert access.issue_link(identity_of("Head.Office@school.example"), via="test")
    refused = [e for e in access.store.audit.entries() if e["action"] == "desk_link_refused"]
    assert [e["target"] for e in refused] == [f"tg:{STRANGER}", "email:someone@else.example"]


def test_a_session_ends_after_the_idle_minutes(client, access, clock):
    signed_in(client, access)
    clock.advance(minutes=29)
    assert client.get("/desk/unanswered").status_code == 200  # activity keeps it going
    clock.advance(minutes=29)
    assert client.get("/desk/cases").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/desk/unanswered")
    assert response.status_code == 401 and "sign in first" in text_of(response)


def test_a_forged_session_cookie_is_ignored(client, access):
    client.cookies.set("policybot_desk", "abc.def", path="/desk")
    assert client.get("/desk/unanswered").status_code == 401


def test_signing_out_ends_the_session(client, access, office):
    page = signed_in(client, access)
    response = client.post("/desk/signout", data={"csrf": csrf(page.text)})
    assert "signed out" in text_of(response)
    assert client.get("/desk/unanswered").status_code == 401


def test_an_emailed_link_needs_an_email_sender(settings, office, clock):
    sent = []
    access = DeskAccess(settings, office.store, clock, email_sender=lambda to, subject, body: sent.append((to, subject, body)))
    assert access.email_link("head.office@school.example", "Your link", "Use {url} once")
    assert sent[0][0] == "head.office@school.example" and "/desk/signin?token=" in sent[0][2]
    assert not access.email_link("stranger@school.example", "Your link", "{url}")
    assert not DeskAccess(settings, office.store, clock).email_link("head.office@school.example", "s", "{url}")
    assert len(sent) == 1


def test_asking_for_an_emailed_link_says_the_same_whoever_asks(client):
    page = client.get("/desk/")
    assert 'name="email"' in page.text
    for email in ("head.office@school.example", "nobody@example.com"):
        response = client.post("/desk/request-link", data={"csrf": csrf(page.text), "email": email})
        assert response.status_code == 200 and "If that address belongs to the office" in text_of(response)


# --- CSRF and headers ------------------------------------------------------------------------------


def test_every_form_needs_the_csrf_token(client, access, office):
    item = ask_unanswered(office)
    page = signed_in(client, access)
    assert csrf(page.text) in page.text
    for data in ({"clause": "6.5"}, {"clause": "6.5", "csrf": "wrong"}):
        response = client.post(f"/desk/unanswered/{item}/clause", data=data)
        assert response.status_code == 403
    assert office.store.unanswered.item(item)["status"] == "open"
    assert not office.store.outbox.has(kind="answer", ref=f"U-{item}")
    # the sign-in form too: a POST without the sign-in page's token is refused before the link is looked at
    url = access.issue_link("tg:901", via="test")
    client.cookies.clear()
    assert client.post("/desk/signin", data={"token": token_of(url)}).status_code == 403


def test_pages_have_no_inline_script_and_forms_post(client, access, office):
    ask_unanswered(office)
    page = signed_in(client, access)
    assert "<script" not in page.text and " style=" not in page.text and "onclick" not in page.text
    assert re.findall(r'<form method="(\w+)"', page.text) and set(re.findall(r'<form method="(\w+)"', page.text)) == {"post"}


# --- the unanswered queue ------------------------------------------------------------------------------


def test_answering_with_a_clause_reaches_a_telegram_asker_through_the_outbox(client, access, office):
    item = ask_unanswered(office)
    page = signed_in(client, access)
    assert "Can I post a video of the school play on TikTok?" in text_of(page)
    assert "Answer with this (6.5)" in text_of(page)  # the bot's best guesses, one press away
    response = client.post(f"/desk/unanswered/{item}/clause", data={"csrf": csrf(page.text), "clause": "6.13"})
    assert response.status_code == 200 and "U-" in text_of(response)
    [message] = [m for m in office.store.db["outbox"].rows if m["kind"] == "answer"]
    assert (message["target"], message["channel"], message["chat_id"]) == ("user", "telegram", ASKER_CHAT)
    assert "6.13" in message["text"]
    assert office.store.unanswered.item(item)["status"] == "answered"
    assert ("6.13", "Can I post a video of the school play on TikTok?") in office.store.answers.taught_questions()
    assert any(e["action"] == "answer" and e["actor"] == "tg:900" for e in office.store.audit.entries())


def test_a_clause_is_found_by_typing_with_a_get_form(client, access, office):
    item = ask_unanswered(office)
    signed_in(client, access)
    page = client.get(f"/desk/unanswered/{item}", params={"q": "friend request"})
    assert page.status_code == 200 and 'method="get"' in page.text
    assert "Answer with this" in page.text
    by_number = client.get(f"/desk/unanswered/{item}", params={"q": "6.13"})
    assert "Answer with this (6.13)" in text_of(by_number)


def test_answering_in_the_offices_words_reaches_a_web_asker_and_is_kept(client, access, office):
    item = ask_unanswered(office, "Can the PTA run a Facebook page?", channel="web", chat="session-abc")
    page = signed_in(client, access)
    client.post(f"/desk/unanswered/{item}/text", data={"csrf": csrf(page.text), "answer": "Yes, with the head's approval."})
    key = office.store.people.user_key("web", "session-abc")
    [message] = office.store.outbox.messages_for(key, "web")
    assert "Yes, with the head's approval." in message["text"]
    learned = client.get("/desk/learned")
    assert "Can the PTA run a Facebook page?" in text_of(learned)
    [entry] = office.office_answers()
    undo = client.post(f"/desk/learned/{entry.id}/undo", data={"csrf": csrf(learned.text)})
    assert undo.status_code == 200 and office.office_answers() == []


def test_dismissing_an_item(client, access, office):
    item = ask_unanswered(office)
    page = signed_in(client, access)
    client.post(f"/desk/unanswered/{item}/dismiss", data={"csrf": csrf(page.text)})
    assert office.store.unanswered.item(item)["status"] == "dismissed"
    assert "No unanswered questions" in text_of(client.get("/desk/unanswered"))


def test_a_thumbs_down_shows_with_the_disliked_answer(client, access, office):
    key = office.store.people.user_key("telegram", ASKER_CHAT)
    qid = office.store.questions.record(key, "parent", "May I friend a teacher?", "question", True, 0.9, "6.5")
    office.store.unanswered.add(qid, key, "telegram", ASKER_CHAT, "parent", "May I friend a teacher?", ["6.5"], disliked="6.5")
    page = signed_in(client, access)
    shown = text_of(page)
    assert "gave 👎 to this answer" in shown and "May I friend a teacher?" in shown
    assert office.pack.clause("6.5").text[:40] in shown


def test_the_escalations_people_do_not_see_the_offices_queue(client, access):
    response = signed_in(client, access, CHAIR)
    assert response.url.path == "/desk/cases"
    assert client.get("/desk/unanswered").status_code == 403


# --- cases ---------------------------------------------------------------------------------------------


def new_case(office, kind="breach", route="office", **fields):
    base = {"reporter_key": "", "reporter_channel": "telegram", "reporter_chat": "", "reporter_name": "", "role": "staff",
            "routed_to": route, "urgent": 0}
    if kind == "breach":
        base.update(anonymous=1, what="A photo of a pupil posted", where_="Instagram", when_="today", who="a teacher",
                    about_leadership=int(route == "escalation"), pupil_risk="identifiable", data_protection=0, evidence="[]", clauses='["6.5"]')
    return office.store.cases.create(kind, {**base, **fields})


def test_an_escalated_case_is_invisible_to_an_admin_and_visible_to_the_escalation(client, access, office):
    ours = new_case(office)
    theirs = new_case(office, route="escalation", what="The head posted a pupil's photo")
    signed_in(client, access, ADMIN)
    listing = text_of(client.get("/desk/cases"))
    assert ours in listing and theirs not in listing
    assert client.get(f"/desk/cases/{theirs}").status_code == 404
    page = client.get(f"/desk/cases/{ours}")
    response = client.post(f"/desk/cases/{theirs}/acknowledge", data={"csrf": csrf(page.text)})
    assert response.status_code == 404 and office.store.cases.get(theirs).status == "open"

    client.cookies.clear()
    signed_in(client, access, CHAIR)
    listing = text_of(client.get("/desk/cases"))
    assert theirs in listing and ours not in listing
    assert "The head posted a pupil's photo" in text_of(client.get(f"/desk/cases/{theirs}"))


def test_a_case_is_acknowledged_noted_and_closed_with_history(client, access, office, clock):
    ref = new_case(office)
    signed_in(client, access)
    page = client.get(f"/desk/cases/{ref}")
    assert "New" in text_of(page)
    client.post(f"/desk/cases/{ref}/acknowledge", data={"csrf": csrf(page.text)})
    assert office.store.cases.get(ref).status == "acknowledged"
    client.post(f"/desk/cases/{ref}/note", data={"csrf": csrf(page.text), "note": "Rang the teacher."})
    closed = client.post(f"/desk/cases/{ref}/close", data={"csrf": csrf(page.text), "note": "Photo taken down."})
    shown = text_of(closed)
    assert office.store.cases.get(ref).status == "closed"
    assert "Rang the teacher." in shown and "acknowledge" in shown and "close" in shown and "Time taken" in shown
    assert [e["actor"] for e in office.store.audit.entries() if e["target"] == ref] == ["tg:900"] * 3
    assert ref in text_of(client.get("/desk/cases", params={"status": "closed"}))
    assert ref not in text_of(client.get("/desk/cases", params={"status": "open"}))
    assert ref not in text_of(client.get("/desk/cases", params={"kind": "complaint"}))


def test_cases_download_as_csv_with_the_filters_names_only_when_ticked_and_audited(client, access, office):
    import csv as csv_module

    named = new_case(office, reporter_name="Mrs Named", anonymous=0)
    complaint = new_case(office, kind="complaint", about="Photos on the class page", reporter_name="Mr Parent")
    theirs = new_case(office, route="escalation", what="The head posted a pupil's photo", reporter_name="Ms Whistle")
    signed_in(client, access)
    page = client.get("/desk/cases", params={"kind": "breach"})
    assert 'name="kind" value="breach"' in page.text  # the download keeps the filters shown
    response = client.post("/desk/cases/export", data={"csrf": csrf(page.text), "kind": "breach", "status": ""})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv_module.DictReader(response.text.splitlines()))
    assert [r["ref"] for r in rows] == [named]  # the complaint is filtered out, the escalated case never shown
    assert "reporter_name" not in rows[0] and "Mrs Named" not in response.text and "reporter_chat" not in rows[0]

    everything = client.post("/desk/cases/export", data={"csrf": csrf(page.text), "kind": "", "status": "", "names": "yes"})
    rows = list(csv_module.DictReader(everything.text.splitlines()))
    assert {r["ref"] for r in rows} == {named, complaint} and "Mrs Named" in everything.text
    assert theirs not in everything.text and "Ms Whistle" not in everything.text
    exports = [e for e in office.store.audit.entries() if e["action"] == "desk_export"]
    assert [(e["actor"], e["detail"].split(";")[1].strip()) for e in exports] == [("tg:900", "no names"), ("tg:900", "with names")]
    assert client.post("/desk/cases/export", data={"kind": ""}).status_code == 403  # no CSRF token

    client.cookies.clear()
    signed_in(client, access, CHAIR)
    page = client.get("/desk/cases")
    chair = client.post("/desk/cases/export", data={"csrf": csrf(page.text), "names": "yes"})
    assert [r["ref"] for r in csv_module.DictReader(chair.text.splitlines())] == [theirs]


# --- the roster and signatures --------------------------------------------------------------------------

ROSTER_CSV = "kind,name,email,class\nparent,Ada Parent,ada@example.com,3B; 5A\nparent,Ben Parent,,4C\nstaff,Cy Teacher,cy@school.example,\n"


def upload_roster(client, page_html, content, name="people.csv", content_type="text/csv", token=None):
    files = {"roster": (name, content.encode() if isinstance(content, str) else content, content_type)}
    return client.post("/desk/roster/upload", data={"csrf": token if token is not None else csrf(page_html)}, files=files)


def test_a_roster_is_uploaded_checked_whole_and_imported_once(client, access, office):
    signed_in(client, access)
    page = client.get("/desk/roster")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    response = upload_roster(client, page.text, ROSTER_CSV)
    assert response.history[0].status_code == 303 and "3 people on the roster (3 new)" in text_of(response)
    roster = office.store.signatures.roster()
    assert [(r["kind"], r["name"], r["classes"]) for r in roster] == [
        ("parent", "Ada Parent", "3B, 5A"), ("parent", "Ben Parent", "4C"), ("staff", "Cy Teacher", "")]
    again = upload_roster(client, page.text, ROSTER_CSV)
    assert "3 people on the roster (0 new)" in text_of(again) and len(office.store.signatures.roster()) == 3
    imports = [e for e in office.store.audit.entries() if e["action"] == "roster_import"]
    assert [e["actor"] for e in imports] == ["tg:900", "tg:900"] and "people.csv: 3 people, 3 new" == imports[0]["detail"]


def test_a_roster_with_problems_is_not_imported_and_says_which_lines(client, access, office):
    signed_in(client, access)
    page = client.get("/desk/roster")
    bad = "kind,name,email,class\nparent,Ada Parent,,3B\nteacher,Dee Wrong,,\nstaff,,x@school.example,\n"
    response = upload_roster(client, page.text, bad, name="term 1.csv")
    shown = text_of(response)
    assert response.status_code == 400
    assert "term 1.csv, line 3: kind must be staff or parent, not “teacher”" in shown
    assert "term 1.csv, line 4: no name" in shown and "Nothing was imported" in shown
    assert office.store.signatures.roster() == []
    assert "first row must name the columns" in text_of(upload_roster(client, page.text, "who,what\nx,y\n"))
    assert "is not a CSV file" in text_of(upload_roster(client, page.text, ROSTER_CSV, name="people.xlsx"))
    assert "is not a CSV file" in text_of(upload_roster(client, page.text, ROSTER_CSV, content_type="image/png"))
    assert "not in UTF-8" in text_of(upload_roster(client, page.text, "kind,name\nparent,Zo\xeb\n".encode("latin-1")))
    too_big = upload_roster(client, page.text, "kind,name\n" + "parent,Someone\n" * 80_000)
    assert too_big.status_code == 413
    assert upload_roster(client, page.text, ROSTER_CSV, token="forged").status_code == 403
    assert office.store.signatures.roster() == []

    client.cookies.clear()
    signed_in(client, access, CHAIR)  # the escalation's people: not the office's roster
    assert client.get("/desk/roster").status_code == 403
    assert upload_roster(client, page.text, ROSTER_CSV).status_code == 403
    assert office.store.signatures.roster() == []


def test_the_office_sends_reminders_from_the_desk_as_the_terminal_does(client, access, office):
    """"Send reminders now" reminds everyone still to sign (here one person tied to a Telegram chat; the others have
    no route without email settings), is audited, says the counts, and reminds nobody twice in a day."""
    signed_in(client, access)
    upload_roster(client, client.get("/desk/roster").text, ROSTER_CSV)
    ada = next(r for r in office.store.signatures.roster() if r["name"] == "Ada Parent")
    office.store.db["roster"].update(ada["id"], {"user_key": "k-ada", "channel": "telegram", "chat_id": "55"})  # she began signing on Telegram
    page = client.get("/desk/roster")
    done = client.post("/desk/roster/remind", data={"csrf": csrf(page.text)})
    assert done.history[0].status_code == 303
    assert "Reminders queued: 1 by Telegram, 0 by email. 2 could not be reached" in text_of(done)
    queued = [r for r in office.store.db["outbox"].rows if r["kind"] == "remind"]
    assert [(r["chat_id"], r["channel"]) for r in queued] == [("55", "telegram")]
    again = client.post("/desk/roster/remind", data={"csrf": csrf(page.text)})
    assert "1 already reminded in the last day" in text_of(again)
    assert len([r for r in office.store.db["outbox"].rows if r["kind"] == "remind"]) == 1
    assert [e["actor"] for e in office.store.audit.entries() if e["action"] == "roster_remind"] == ["tg:900", "tg:900"]
    assert client.post("/desk/roster/remind", data={"csrf": "forged"}).status_code == 403


def sign(office, kind, name, digest, roster_id=None, outcome="signed", key="k", classes=""):
    return office.store.signatures.record(kind=kind, outcome=outcome, user_key=key, digest=digest, channel="telegram",
                                          chat_id="77", name=name, classes=classes, roster_id=roster_id)


def test_the_signatures_page_shows_who_stands_where_and_matches_by_hand(client, access, office):
    from knowledge.signing import signed_text

    rows = [office.store.signatures.add_to_roster(kind, name, "", classes) for kind, name, classes in (
        ("parent", "Ada Parent", "3B"), ("parent", "Ben Parent", "4C"), ("parent", "Cat Parent", ""), ("parent", "Dot Parent", ""),
        ("staff", "Cy Teacher", ""))]
    agreement = signed_text(office.pack, "agreement").digest
    sign(office, "agreement", "Ada Parent", agreement, rows[0]["id"], key="ada")
    sign(office, "agreement", "Ben Parent", "0" * 64, rows[1]["id"], key="ben")  # an earlier version
    sign(office, "agreement", "", agreement, rows[2]["id"], outcome="asked", key="cat")
    loose = sign(office, "agreement", "Dorothy P.", agreement, key="dot", classes="1A")
    staff_loose = sign(office, "acknowledgement", "Mr Unknown", signed_text(office.pack, "acknowledgement").digest, key="cy")
    signed_in(client, access)
    page = client.get("/desk/roster")
    shown = text_of(page)
    assert "Parents: 1 signed the current version, 1 signed an earlier one (asked to confirm again), 1 asked a question first, 1 not signed, of 4" in shown
    assert "Staff: 0 signed the current version" in shown
    for expected in ("Ada Parent", "signed the current version", "signed an earlier version", "asked a question first", "not signed",
                     "Dorothy P.", "Mr Unknown"):
        assert expected in shown
    # A parent's signature is matched to a parent's row only; the match is audited and the row now counts.
    assert f'id="match-{loose}"' in page.text
    refused = client.post("/desk/roster/match", data={"csrf": csrf(page.text), "signature": loose, "roster": rows[4]["id"]})
    assert "cannot be matched" in text_of(refused)
    matched = client.post("/desk/roster/match", data={"csrf": csrf(page.text), "signature": loose, "roster": rows[3]["id"]})
    assert "Dorothy P.'s signature now counts for Dot Parent" in text_of(matched)
    assert "Parents: 2 signed the current version" in text_of(matched)
    assert office.store.signatures.row("signatures", loose)["roster_id"] == rows[3]["id"]
    assert office.store.signatures.row("roster", rows[3]["id"])["user_key"] == "dot"
    again = client.post("/desk/roster/match", data={"csrf": csrf(page.text), "signature": loose, "roster": rows[2]["id"]})
    assert "cannot be matched" in text_of(again)
    assert [(e["actor"], e["target"]) for e in office.store.audit.entries() if e["action"] == "roster_match"] == [("tg:900", f"S-{loose}")]
    assert f'id="match-{staff_loose}"' in matched.text  # still to match

    # Everyone still to sign, with their codes, as a download (audited).
    download = client.post("/desk/roster/still-to-sign", data={"csrf": csrf(page.text)})
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    import csv as csv_module

    listed = list(csv_module.DictReader(download.text.splitlines()))
    assert [r["name"] for r in listed] == ["Ben Parent", "Cat Parent", "Cy Teacher"]
    assert listed[0]["code"] == rows[1]["code"] and listed[0]["status"] == "signed an earlier version"
    assert [e["detail"] for e in office.store.audit.entries() if e["action"] == "roster_rest_csv"] == ["3 people"]


# --- the governors' review ------------------------------------------------------------------------------

REVIEW_QUESTIONS = ["Can I run a crypto trading channel on my own time?", "May staff promote crypto trading channels?",
                    "Is running a crypto trading group allowed for teachers?", "Can I sell my own cakes to parents on Facebook?"]


def test_the_review_page_shows_the_review_hides_an_example_and_downloads_the_pdf(settings, office, clock, access, untaught_engine):
    desk = build_desk(settings, lambda: office, clock=clock, engine_of=lambda: untaught_engine)
    items = []
    for n, text in enumerate(REVIEW_QUESTIONS):
        key = office.store.people.user_key("telegram", str(700 + n))
        qid = office.store.questions.record(key, "staff", text, "question", False, 0.2, "", nearest="6.13")
        items.append(office.store.unanswered.add(qid, key, "telegram", str(700 + n), "staff", text, ["6.13"]))
    new_case(office)
    app = Starlette(routes=[Mount("/desk", app=desk, name="desk")])
    with TestClient(app, base_url="http://127.0.0.1:8080") as client:
        signed_in(client, access)
        page = client.get("/desk/review")
        assert page.status_code == 200
        shown = text_of(page)
        for heading in ("In brief", "What people asked about", "What the policy could not answer", "Clauses people found confusing",
                        "Breach reports, complaint referrals and safeguarding alerts", "The policy's own health",
                        "Signatures and acknowledgements", "How this review was made"):
            assert heading in shown, heading
        assert "<svg" in page.text and "Insert school name" in shown and "6.7 is missing" in " ".join(shown.split())
        assert 'value="2025-12-01"' in page.text and 'value="2026-11-30"' in page.text  # the last 12 months
        assert "crypto" in shown and "Hide this example" in shown
        cakes = next(i for i, text in zip(items, REVIEW_QUESTIONS) if "cakes" in text)
        hidden = client.post("/desk/review/hide", data={"csrf": csrf(page.text), "item": f"U-{cakes}", "from": "2025-12-01", "to": "2026-11-30"})
        assert hidden.url.path == "/desk/review" and f"U-{cakes} is hidden" in text_of(hidden)
        themes = text_of(hidden).split("Examples the office hid")[0]
        assert "cakes" not in themes and f"U-{cakes}" in text_of(hidden).split("Examples the office hid")[1]
        assert office.store.desk.hidden_examples() == frozenset({cakes})
        assert [(e["actor"], e["action"], e["target"]) for e in office.store.audit.entries() if e["action"].startswith("review_")] == [
            ("tg:900", "review_hide", f"U-{cakes}")]

        pdf = client.get("/desk/review.pdf", params={"from": "2025-12-01", "to": "2026-11-30"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
        import io

        from pypdf import PdfReader

        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "What the policy could not answer" in text and "cakes" not in text  # hidden in the PDF too

        shown_again = client.post("/desk/review/show", data={"csrf": csrf(page.text), "item": f"U-{cakes}"})
        assert "cakes" in text_of(shown_again) and office.store.desk.hidden_examples() == frozenset()
        assert "do not make a period" in text_of(client.get("/desk/review", params={"from": "2026-05-01", "to": "2026-01-01"}))

        client.cookies.clear()
        signed_in(client, access, CHAIR)  # governors read it; hiding is the office's
        assert client.get("/desk/review").status_code == 200
        assert client.post("/desk/review/hide", data={"csrf": csrf(page.text), "item": f"U-{cakes}"}).status_code == 403


def test_the_terminal_review_hides_what_the_desk_hid(settings, office, monkeypatch, tmp_path, capsys):
    import bot.review
    import bot.runtime
    from bot.cli import main

    item = ask_unanswered(office)
    office.store.audit.record("tg:900", "review_hide", f"U-{item}")
    passed = {}
    monkeypatch.setattr(bot.runtime, "build_advisor", lambda *a, **k: type("Advisor", (), {"engine": None})())
    monkeypatch.setattr(bot.review, "write_review", lambda store, engine, s, start, end, out, hidden: passed.update(hidden=hidden) or out)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(settings.database_path))
    assert main(["office", "review", "--from", "2026-01-01", "--to", "2026-11-30", "--hide", "U-99"]) == 0
    assert passed["hidden"] == frozenset({99, item})


def test_without_the_model_the_review_page_says_so(client, access):
    signed_in(client, access)
    response = client.get("/desk/review")
    assert response.status_code == 503 and "model" in text_of(response)


def test_stats_are_svg_bars(client, access, office):
    ask_unanswered(office)
    signed_in(client, access)
    page = client.get("/desk/stats")
    assert page.status_code == 200 and page.text.count("<svg") == 3 and "<script" not in page.text


# --- links from the terminal and from the bot -------------------------------------------------------------


def test_desk_link_from_the_terminal(settings, capsys, monkeypatch):
    from bot.cli import main

    monkeypatch.setattr("bot.cli.load_settings", lambda *a, **k: settings)
    assert main(["office", "desk-link", str(ADMIN)]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("http://127.0.0.1:8080/desk/signin?token=")
    assert main(["office", "desk-link", str(STRANGER)]) == 1
    assert "not in ADMIN_USER_IDS" in capsys.readouterr().err
    store = Store(settings.database_path)
    try:
        assert [e["action"] for e in store.audit.entries()] == ["desk_link", "desk_link_refused"]
    finally:
        store.close()


async def test_desk_in_a_private_chat_gives_an_admin_a_link(fake_bot_api, start_bot, telegram_settings):
    from bot_fixtures import ADMIN as BOT_ADMIN, CHAIR as NOT_ESCALATION, OFFICE_CHAT
    from telegram_helpers import office_says, say

    fake = fake_bot_api
    async with start_bot():
        [reply] = await say(fake, BOT_ADMIN, "/desk")
        assert "/desk/signin?token=" in reply["text"] and "works once" in reply["text"]
        in_group = await office_says(fake, BOT_ADMIN, OFFICE_CHAT, "/desk")
        assert "private chat" in in_group["text"] and "token=" not in in_group["text"]
        [refused] = await say(fake, NOT_ESCALATION, "/desk")  # not in ADMIN_USER_IDS nor ESCALATION_USER_IDS here
        assert "token=" not in refused["text"]
    async with start_bot(replace(telegram_settings, web_port=None)):  # WEB_PORT=off: no web app, so no desk
        [reply] = await say(fake, BOT_ADMIN, "/desk", count_before=len(fake.sent_messages(BOT_ADMIN)))
        assert "not enabled" in reply["text"] and "token=" not in reply["text"]


def test_a_database_from_before_the_desk_gets_its_tables_and_keeps_its_rows(tmp_path):
    import sqlite_utils

    from bot.store.schema import migrations

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m008_desk")
    old["unanswered"].insert({"id": 1, "text": "asked before the desk", "status": "open", "suggestions": "[]"})
    old.conn.close()
    store = Store(path)
    try:
        assert {"desk_links", "desk_sessions", "case_notes"} <= set(store.db.table_names())
        assert store.unanswered.item(1)["text"] == "asked before the desk"
        assert not store.unanswered.item(1)["disliked"]
    finally:
        store.close()


def test_old_links_and_sessions_are_forgotten(client, access, office, clock):
    signed_in(client, access)
    access.issue_link("tg:901", via="test")
    clock.advance(days=2)
    access.issue_link("tg:901", via="test")
    assert office.store.db["desk_links"].count == 1 and office.store.db["desk_sessions"].count == 0


# --- 👎 through the real dialogue, and the desk in the web app -------------------------------------------------


def test_a_thumbs_down_in_the_dialogue_puts_the_question_in_the_desk_queue(dialogue, store, bot_settings):
    from bot.dialogue import Person

    parent = Person("telegram", "8002", "8002", "Parent")
    dialogue.handle(parent, action="role:parent")
    question = "Can I message my child's teacher on Facebook?"
    dialogue.handle(parent, text=question)
    [asked] = [q for q in store.db["questions"].rows if q["text"] == question]
    assert asked["answered"] and asked["top_clause"]
    for _ in range(2):  # pressed twice: one item
        dialogue.handle(parent, action=f"fb:dn:{asked['id']}")
    [item] = [i for i in dialogue.office.unanswered() if i["text"] == question]
    assert item["disliked"] == asked["top_clause"] and (item["channel"], item["chat_id"]) == ("telegram", "8002")
    outcome = dialogue.office.answer_with_clause(item["id"], "6.13", "tg:900")
    assert outcome.ok and store.outbox.has(kind="answer", ref=f"U-{item['id']}")
    dialogue.handle(parent, action=f"fb:up:{asked['id']}")  # a 👍 puts nothing before the office
    assert [i for i in dialogue.office.unanswered() if i["text"] == question] == []


def test_the_desk_is_mounted_in_the_web_app_with_its_security_headers(advisor, bot_settings, untaught_engine):
    from bot.web.app import build_app

    with TestClient(build_app(bot_settings, advisor), base_url="http://127.0.0.1:8080") as web:
        page = web.get("/desk/")
        assert page.status_code == 200 and "Sign in to the office's desk" in text_of(page)
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert web.get("/desk/unanswered").status_code == 401
        assert web.get("/desk/static/desk.css").status_code == 200
        # A roster upload may be larger than a chat message (up to 1 MB), and no larger; any other desk form may not.
        big = {"content-type": "multipart/form-data; boundary=x", "content-length": str(300 * 1024)}
        assert web.post("/desk/roster/upload", content=b"x" * 300 * 1024, headers=big).status_code == 401  # reached the desk
        huge = {"content-type": "multipart/form-data; boundary=x", "content-length": str(2 * 1024 * 1024)}
        assert web.post("/desk/roster/upload", content=b"x" * 2 * 1024 * 1024, headers=huge).status_code == 413
        assert web.post("/desk/roster/match", content=b"x" * 300 * 1024, headers=big).status_code == 413


def test_a_link_asked_for_on_the_desk_is_emailed_by_the_schools_mail_server(settings, office, clock, smtp_server):
    mailing = replace(settings, smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_from="policybot@clearwell.example")
    app = Starlette(routes=[Mount("/desk", app=build_desk(mailing, lambda: office, clock=clock), name="desk")])
    with TestClient(app, base_url="http://127.0.0.1:8080") as client:
        page = client.get("/desk/")
        for email in ("Head.Office@school.example", "nobody@example.com"):
            client.post("/desk/request-link", data={"csrf": csrf(page.text), "email": email})
        [message] = smtp_server.messages
        assert smtp_server.recipients == [["head.office@school.example"]]
        body = message.get_content()
        url = re.search(r"http://\S+/desk/signin\?token=\S+", body).group(0)
        assert "policybot office desk-link" not in body and "{url}" not in body
        assert sign_in(client, url).history[0].status_code == 303
