"""`policybot office …`: the office's work from a terminal, on the same database as the running bot.

  policybot office unanswered                  open unanswered questions
  policybot office answer U-12 6.13            answer with a section (the asker is sent it; the bot learns)
  policybot office answer U-12 --text "…"      answer in your own words (the bot gives it to the same question)
  policybot office answers                     the office's own answers the bot gives (A-3 …)
  policybot office unlearn A-3                 stop giving one of them
  policybot office reports                     open breach reports, referrals and alerts
  policybot office ack BR-2026-0001 [--by NAME]             acknowledge a case
  policybot office close BR-2026-0001 "NOTE" [--by NAME]    close a case (a named reporter is sent the note)
  policybot office export FOLDER|FILE.csv      CSV of the office's records, pseudonymised (names only with
                                               --with-names; cases about the head or the office only with
                                               --with-escalated), readable by you only
  policybot office backup FILE                 a consistent copy of the database, safe while the bot runs
  policybot office roster import FILE.csv      the people asked to sign (kind staff|parent, name, email, class)
  policybot office roster status [--csv FILE]  who has signed which version, who has not, who asked first
  policybot office roster remind               remind who has not signed the current version (Telegram, email)
  policybot office review --from 2025-09-01 --to 2026-08-31 --out review.pdf
                                               the governors' annual review (PDF)
  policybot office desk-link USER_ID|EMAIL     a single-use sign-in link to the office's desk (10 minutes)

Answers are queued in the outbox; the running bot delivers them and picks up what it learned (and what was
unlearned) within its outbox interval.
The model is not loaded: these commands are instant (except `review`, which groups questions with it).
"""

from __future__ import annotations

import contextlib
import sys

from bot.export import EXPORT_TABLES
from bot.protocol import ANSWER_WITH, decode

EXPORTS = ("all", *EXPORT_TABLES)


@contextlib.contextmanager
def _office(settings):
    """The office over the database and the pack, with no learner (the running bot learns from the database),
    for the body of a `with`; the database is closed after it."""
    from bot.office import Office
    from bot.store import Store
    from bot.texts import for_office, for_people
    from knowledge.pack import load_pack

    pack = load_pack(settings.policy_pack, settings.policy_packs_dir)
    store = Store(settings.database_path)
    try:
        yield Office(store, pack, settings, None, for_office(settings, pack), for_people(settings, pack))
    finally:
        store.close()


def _said(outcome) -> int:
    """An office action's message (stdout, or stderr when it failed) and the exit status."""
    print(outcome.message, file=sys.stdout if outcome.ok else sys.stderr)
    return 0 if outcome.ok else 1


def _actor(name: str | None = None) -> str:
    """Who acted, for the audit log: the name given with --by, else the terminal's login."""
    if name and name.strip():
        return f"cli:{name.strip()[:60]}"
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def cmd_unanswered(args) -> int:
    with _office(args.settings) as office:
        print(office.unanswered_listing())
        for item in office.unanswered():
            text, rows = office.unanswered_notice(item)
            suggestions = [label for row in rows for label, action in row if getattr(decode(action), "kind", "") == ANSWER_WITH]
            if suggestions:
                print(f"  U-{item['id']}: {', '.join(suggestions)}")
    return 0


def cmd_answer(args) -> int:
    from bot.office import parse_item_ref

    item_id = parse_item_ref(args.item)
    if item_id is None:
        print(f"policybot office answer: {args.item!r} is not an item like U-12", file=sys.stderr)
        return 2
    if not args.section and not args.text:
        print("policybot office answer: give a section (e.g. 6.13) or --text \"your answer\"", file=sys.stderr)
        return 2
    with _office(args.settings) as office:
        if args.text:
            outcome = office.answer_with_text(item_id, args.text, _actor())
        else:
            outcome = office.answer_with_clause(item_id, args.section, _actor())
    return _said(outcome)


def cmd_answers(args) -> int:
    with _office(args.settings) as office:
        print(office.office_answers_listing())
    return 0


def cmd_unlearn(args) -> int:
    from bot.office import parse_office_answer_ref

    answer_id = parse_office_answer_ref(args.answer)
    if answer_id is None:
        print(f"policybot office unlearn: {args.answer!r} is not an office answer like A-3 (see `policybot office answers`)", file=sys.stderr)
        return 2
    with _office(args.settings) as office:
        outcome = office.unlearn(answer_id, _actor())
    return _said(outcome)


def cmd_reports(args) -> int:
    with _office(args.settings) as office:
        print(office.reports_listing(include_escalated=args.all))
        if args.full:
            for case in office.reports(include_escalated=args.all):
                print()
                print(office.case_detail(case.ref, include_escalated=args.all).message)
    return 0


def cmd_ack(args) -> int:
    with _office(args.settings) as office:
        outcome = office.acknowledge(args.ref, _actor(args.by))
    return _said(outcome)


def cmd_close(args) -> int:
    with _office(args.settings) as office:
        outcome = office.close(args.ref, args.note, _actor(args.by))
    return _said(outcome)


def cmd_export(args) -> int:
    from bot.export import export_csv
    from bot.store import Store

    with Store(args.settings.database_path) as store:
        audience = "all" if args.with_escalated else "office"
        written = export_csv(store, args.destination, args.what, with_names=args.with_names, audience=audience)
    for path in written:
        print(path)
    return 0


def cmd_backup(args) -> int:
    from bot.store import Store

    with Store(args.settings.database_path) as store:
        path = store.backup(args.file)
    print(path)
    return 0


def _signing(settings):
    """The signing service over the database and the pack (no office: the CLI sends nothing)."""
    from bot.signatures import Signing
    from bot.store import Store
    from bot.texts import for_people
    from knowledge.pack import load_pack

    pack = load_pack(settings.policy_pack, settings.policy_packs_dir)
    return Signing(Store(settings.database_path), pack, for_people(settings, pack), settings)


def cmd_roster_import(args) -> int:
    from bot.roster import read_roster, telegram_link, web_link
    from bot.texts import for_office

    signing = _signing(args.settings)
    texts = for_office(args.settings, signing.pack)
    try:
        people, problems = read_roster(args.file, texts)
        if problems:
            for problem in problems:
                print(problem, file=sys.stderr)
            print(texts.get("roster.nothing_imported"), file=sys.stderr)
            return 1
        before = len(signing.store.signatures.roster())
        with signing.store.transaction():
            rows = [signing.store.signatures.add_to_roster(**person) for person in people]
        new = len(signing.store.signatures.roster()) - before
    finally:
        signing.store.close()
    print(texts.get("roster.imported", count=len(rows), new=new))
    for row in rows:
        url = telegram_link(args.bot, row["code"])
        print(texts.get("roster.person_line", kind=row["kind"], name=row["name"], email=row["email"] or "—",
                        classes=row["classes"] or "—", code=row["code"], link=url or "—",
                        web_link=web_link(args.settings, row["code"]) or "—"))
    return 0


def cmd_roster_status(args) -> int:
    from bot.roster import status_lines, write_rest_csv
    from bot.texts import for_office

    signing = _signing(args.settings)
    texts = for_office(args.settings, signing.pack)
    try:
        print("\n".join(status_lines(signing, texts)))
        if args.csv:
            count = write_rest_csv(signing, texts, args.csv, args.bot)
            print(texts.get("roster.rest_written", count=count, file=args.csv))
    finally:
        signing.store.close()
    return 0


def cmd_roster_remind(args) -> int:
    """Remind everyone on the roster who has not signed the current version (at most once a day each)."""
    from bot.texts import for_office

    signing = _signing(args.settings)
    texts = for_office(args.settings, signing.pack)
    try:
        done = signing.remind()
    finally:
        signing.store.close()
    print(texts.get("roster.reminded", telegram=done.telegram, email=done.email, unreachable=done.unreachable, recent=done.recent))
    return 0


def cmd_review(args) -> int:
    from datetime import date

    from bot.office import parse_item_ref
    from bot.review import write_review
    from bot.runtime import build_advisor
    from bot.store import Store

    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError as exc:
        print(f"policybot office review: dates are YYYY-MM-DD ({exc})", file=sys.stderr)
        return 2
    if end < start:
        print("policybot office review: --to is before --from", file=sys.stderr)
        return 2
    hidden = {parse_item_ref(ref) for ref in args.hide}
    if None in hidden:
        print("policybot office review: --hide takes unanswered items like U-12", file=sys.stderr)
        return 2
    advisor = build_advisor(args.settings, office_answers=False)
    with Store(args.settings.database_path) as store:
        # The examples hidden on the desk stay hidden here too.
        path = write_review(store, advisor.engine, args.settings, start, end, args.out, frozenset(hidden) | store.desk.hidden_examples())
    print(path)
    return 0


def cmd_desk_link(args) -> int:
    """A sign-in link for an admin (ADMIN_USER_IDS, ESCALATION_USER_IDS or OFFICE_ADMIN_EMAILS), printed here."""
    from bot.desk.access import DeskAccess, identity_of
    from bot.store import Store

    identity = identity_of(args.user)
    with Store(args.settings.database_path) as store:
        url = DeskAccess(args.settings, store).issue_link(identity, via=_actor())
    if url is None:
        print(f"policybot office desk-link: {args.user!r} is not in ADMIN_USER_IDS, ESCALATION_USER_IDS or OFFICE_ADMIN_EMAILS",
              file=sys.stderr)
        return 1
    print(url)
    print("It works once, within 10 minutes. Give it only to that person.", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    """Add `office unanswered|answer|answers|unlearn|reports|ack|close|export|backup|roster|review` to the CLI."""
    office = subparsers.add_parser(
        "office", help="the office's work from a terminal (unanswered, answer, answers, unlearn, reports, ack, close, export, backup, roster, review)"
    )
    sub = office.add_subparsers(dest="office_command", metavar="ACTION", required=True)

    unanswered = sub.add_parser("unanswered", help="open unanswered questions")
    unanswered.set_defaults(func=cmd_unanswered)

    answer = sub.add_parser("answer", help="answer an unanswered question (the asker is sent the answer)")
    answer.add_argument("item", help="the item, e.g. U-12")
    answer.add_argument("section", nargs="?", help="the section that answers it, e.g. 6.13 (the bot learns the question)")
    answer.add_argument("--text", help="an answer in your own words instead of a section (the bot gives it to the same question)")
    answer.set_defaults(func=cmd_answer)

    answers = sub.add_parser("answers", help="the office's own answers the bot gives to the same question")
    answers.set_defaults(func=cmd_answers)

    unlearn = sub.add_parser("unlearn", help="stop the bot giving one of the office's own answers")
    unlearn.add_argument("answer", help="the office answer, e.g. A-3 (see `policybot office answers`)")
    unlearn.set_defaults(func=cmd_unlearn)

    reports = sub.add_parser("reports", help="open breach reports, complaint referrals and safeguarding alerts")
    reports.add_argument("--full", action="store_true", help="show each case in full")
    reports.add_argument("--all", action="store_true", help="include reports about the headteacher or the office (escalated)")
    reports.set_defaults(func=cmd_reports)

    ack = sub.add_parser("ack", help="acknowledge a case (breach report, complaint referral or safeguarding alert)")
    ack.add_argument("ref", help="the case, e.g. BR-2026-0001")
    ack.add_argument("--by", help="who is acting, for the audit log (default: your login)")
    ack.set_defaults(func=cmd_ack)

    close = sub.add_parser("close", help="close a case with a note (a reporter who gave their name is sent it)")
    close.add_argument("ref", help="the case, e.g. BR-2026-0001")
    close.add_argument("note", help="the closing note, in quotes")
    close.add_argument("--by", help="who is acting, for the audit log (default: your login)")
    close.set_defaults(func=cmd_close)

    export = sub.add_parser("export", help="write CSV files (pseudonymised; mode 0600)")
    export.add_argument("destination", help="a folder (one CSV per table) or FILE.csv with --what")
    export.add_argument("--what", choices=EXPORTS, default="all", help="which records (default: all)")
    export.add_argument("--with-names", action="store_true", help="include the names reporters gave (left out by default)")
    export.add_argument("--with-escalated", action="store_true",
                        help="include the cases about the headteacher or the office, and their audit lines (left out by default)")
    export.set_defaults(func=cmd_export)

    backup = sub.add_parser("backup", help="a consistent copy of the database, safe while the bot runs")
    backup.add_argument("file", help="where to write the copy")
    backup.set_defaults(func=cmd_backup)

    roster = sub.add_parser("roster", help="the people asked to sign, and who has signed")
    roster_sub = roster.add_subparsers(dest="roster_command", metavar="ACTION", required=True)
    roster_import = roster_sub.add_parser("import", help="add people from a CSV (kind staff|parent, name, email, class)")
    roster_import.add_argument("file", help="the CSV file; its first row names the columns")
    roster_import.add_argument("--bot", default="", help="the bot's Telegram username, to print each person's t.me link")
    roster_import.set_defaults(func=cmd_roster_import)
    roster_status = roster_sub.add_parser("status", help="who has signed which version, who has not, who asked first")
    roster_status.add_argument("--csv", help="write the people still to sign (or to confirm again) to this CSV file")
    roster_status.add_argument("--bot", default="", help="the bot's Telegram username, for the links in the CSV")
    roster_status.set_defaults(func=cmd_roster_status)
    roster_remind = roster_sub.add_parser("remind", help="remind who has not signed the current version (Telegram, email; once a day)")
    roster_remind.set_defaults(func=cmd_roster_remind)
    review = sub.add_parser("review", help="the governors' annual review of the policy, as a PDF")
    review.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    review.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
    review.add_argument("--out", default="review.pdf", help="the PDF to write (default: review.pdf)")
    review.add_argument("--hide", action="append", default=[], metavar="U-12",
                        help="an unanswered question not to show as an example (repeat for more)")
    review.set_defaults(func=cmd_review)
    desk_link = sub.add_parser("desk-link", help="a single-use sign-in link to the office's desk (10 minutes)")
    desk_link.add_argument("user", help="a Telegram user id in ADMIN_USER_IDS or ESCALATION_USER_IDS, or an OFFICE_ADMIN_EMAILS address")
    desk_link.set_defaults(func=cmd_desk_link)
