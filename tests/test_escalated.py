"""Cases about the headteacher or the office are for ESCALATION_USER_IDS only, in every channel: the office's
listings and the CSV export leave them out, the escalation sees only them, and the terminal sees everything
when asked (`reports --all`, `export --with-escalated`). Over a fresh SQLite file, with no model."""

from __future__ import annotations

import csv

import pytest

from bot.export import cases_csv, export_csv
from bot.office import Office, visible_to
from bot.settings import Settings
from bot.store import Store
from bot.texts import for_office, for_people
from knowledge.pack import load_pack

ADMIN, CHAIR, GOVERNOR, STRANGER = 900, 950, 951, 4242
OFFICE_CHAT, ESCALATION_CHAT = -1001, -2002


@pytest.fixture(scope="module")
def pack():
    return load_pack("clearwell")


@pytest.fixture
def settings(tmp_path):
    return Settings(database_path=tmp_path / "policybot.db", office_chat_id=OFFICE_CHAT, escalation_chat_id=ESCALATION_CHAT,
                    admin_user_ids=(ADMIN,), escalation_user_ids=(CHAIR,))


@pytest.fixture
def office(settings, pack):
    store = Store(settings.database_path)
    yield Office(store, pack, settings, None, for_office(settings, pack), for_people(settings, pack))
    store.close()


def new_case(office, route="office", what="A photo of a pupil posted", name="Mrs Reporter"):
    fields = {"reporter_key": "", "reporter_channel": "telegram", "reporter_chat": "555", "reporter_name": name, "role": "staff",
              "routed_to": route, "urgent": 0, "anonymous": 0, "what": what, "where_": "Instagram", "when_": "today",
              "who": "a teacher", "about_leadership": int(route == "escalation"), "pupil_risk": "none", "data_protection": 0,
              "evidence": "[]", "clauses": '["6.5"]'}
    return office.store.cases.create("breach", fields)


def test_each_audience_sees_its_own_cases(office):
    ours, theirs = new_case(office), new_case(office, "escalation", "The head posted a pupil's photo")
    assert [c.ref for c in office.reports()] == [ours]
    assert [c.ref for c in office.reports(audience="escalation")] == [theirs]
    assert [c.ref for c in office.reports(include_escalated=True)] == [ours, theirs]  # the terminal, when asked
    assert ours in office.reports_listing() and theirs not in office.reports_listing()
    assert theirs in office.reports_listing(audience="escalation") and ours not in office.reports_listing(audience="escalation")
    assert not office.case_detail(theirs).ok and office.case_detail(theirs, audience="escalation").ok
    assert not office.case_detail(ours, audience="escalation").ok
    case = office.store.cases.get(theirs)
    assert visible_to(case, "all") and visible_to(case, "escalation") and not visible_to(case, "office")


def test_escalation_users_are_named_and_never_office_staff(office, settings):
    assert office.is_escalation(CHAIR, CHAIR) and office.is_escalation(CHAIR, ESCALATION_CHAT)
    assert not office.is_escalation(CHAIR, OFFICE_CHAT)  # not in the office's chat
    assert not office.is_escalation(GOVERNOR, ESCALATION_CHAT) and not office.is_escalation(ADMIN, ADMIN)
    theirs = office.store.cases.get(new_case(office, "escalation"))
    assert office.may_handle(theirs, CHAIR, ESCALATION_CHAT)
    # With ESCALATION_USER_IDS set, another member of the escalation chat may not handle it; the office never.
    assert not office.may_handle(theirs, GOVERNOR, ESCALATION_CHAT)
    assert not office.may_handle(theirs, ADMIN, ESCALATION_CHAT)
    # Without them (an older configuration), the escalation chat's members handle it, as before.
    from dataclasses import replace

    office.settings = replace(settings, escalation_user_ids=())
    assert office.may_handle(theirs, GOVERNOR, ESCALATION_CHAT) and not office.may_handle(theirs, ADMIN, ESCALATION_CHAT)


def rows_of(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_export_leaves_escalated_cases_and_their_audit_lines_out_for_the_office(office, tmp_path):
    ours, theirs = new_case(office), new_case(office, "escalation", "The head posted a pupil's photo")
    office.close(theirs, "Spoke to the head.", "tg:950")
    office.acknowledge(ours, "tg:900")
    written = export_csv(office.store, tmp_path / "office")
    breaches = rows_of(tmp_path / "office" / "breach.csv")
    assert [r["ref"] for r in breaches] == [ours]
    audit = rows_of(tmp_path / "office" / "audit.csv")
    assert [r["target"] for r in audit] == [ours] and "Spoke to the head" not in (tmp_path / "office" / "audit.csv").read_text()
    assert len(written) == 8

    export_csv(office.store, tmp_path / "escalation", audience="escalation")
    assert [r["ref"] for r in rows_of(tmp_path / "escalation" / "breach.csv")] == [theirs]
    export_csv(office.store, tmp_path / "all", audience="all")
    assert [r["ref"] for r in rows_of(tmp_path / "all" / "breach.csv")] == [ours, theirs]


def test_the_terminal_export_includes_escalated_cases_only_with_the_flag(office, settings, tmp_path, monkeypatch, capsys):
    from bot.cli import main

    ours, theirs = new_case(office), new_case(office, "escalation")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(settings.database_path))
    assert main(["office", "export", str(tmp_path / "plain.csv"), "--what", "breach"]) == 0
    assert [r["ref"] for r in rows_of(tmp_path / "plain.csv")] == [ours]
    assert main(["office", "export", str(tmp_path / "every.csv"), "--what", "breach", "--with-escalated"]) == 0
    assert [r["ref"] for r in rows_of(tmp_path / "every.csv")] == [ours, theirs]


def test_cases_csv_names_only_when_asked_and_no_formulas(office):
    ref = new_case(office, name="=HYPERLINK(\"http://evil\")")
    case = office.store.cases.get(ref)
    [row] = list(csv.DictReader(cases_csv([case]).splitlines()))
    assert row["ref"] == ref and row["kind"] == "breach" and "reporter_name" not in row and "reporter_chat" not in row
    [row] = list(csv.DictReader(cases_csv([case], with_names=True).splitlines()))
    assert row["reporter_name"].startswith("'=")
