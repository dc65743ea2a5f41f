"""`policybot`: the command line. With no subcommand it runs the main job, `serve`: the web chat on
http://127.0.0.1:8080 (WEB_HOST, WEB_PORT), and the Telegram bot too when a token is set in `.env`.

  policybot ask "QUESTION" [--role staff|parent] [--json]   answer one question (no QUESTION: one per stdin line)
  policybot chat [--role staff|parent]                      the console chat
  policybot eval [FILE]                                     metrics on a labelled question file
  policybot serve                                           the web chat, plus the Telegram bot with a token
  policybot web                                             the web chat alone (WEB_HOST:WEB_PORT)
  policybot ingest FILE --pack NAME                         turn a policy document into a pack
  policybot pack show NAME [--json]                         what the bot understood of a pack
  policybot office unanswered|answer|reports|export|backup  the office's work from a terminal
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from bot.settings import SettingsError, load_settings

EXIT_USAGE = 2


def _pack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pack", help="policy pack name (default: POLICY_PACK, or clearwell)")
    parser.add_argument("--packs-dir", type=Path, help="folder holding packs (default: POLICY_PACKS_DIR, or the project's own)")


def _role_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", choices=("staff", "parent"), default="staff", help="who is asking (default: staff)")


def _advisor(args):
    from bot.runtime import build_advisor

    return build_advisor(args.settings, getattr(args, "pack", None), getattr(args, "packs_dir", None))


def _print_replies(replies, as_json: bool, out) -> None:
    for reply in replies:
        if as_json:
            out.write(json.dumps(reply.to_json(), ensure_ascii=False) + "\n")
        else:
            out.write(reply.reply + "\n\n")
    out.flush()


def cmd_ask(args) -> int:
    advisor = _advisor(args)
    out = sys.stdout
    if args.question is not None:
        _print_replies([advisor.respond(args.question, args.role)], args.json, out)
        return 0
    if sys.stdin.isatty():
        for line in sys.stdin:
            _print_replies([advisor.respond(line.rstrip("\n"), args.role)], args.json, out)
        return 0
    lines = sys.stdin.read().splitlines()
    batch = 64  # one encode per batch: far cheaper per question than one by one
    for start in range(0, len(lines), batch):
        _print_replies(advisor.respond_many(lines[start : start + batch], args.role), args.json, out)
    return 0


def cmd_chat(args) -> int:
    from bot.console import run_chat

    return run_chat(_advisor(args), args.settings, args.role, sys.stdin, sys.stdout)


def cmd_eval(args) -> int:
    from intents.evaluate import evaluate, format_report

    advisor = _advisor(args)
    path = args.file or advisor.pack.folder / "eval.yaml"
    if not Path(path).exists():
        print(f"policybot eval: no labelled question file at {path}", file=sys.stderr)
        return EXIT_USAGE
    report = evaluate(advisor, Path(path))
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(format_report(report, args.failures))
    return 0


def cmd_serve(args) -> int:
    from dataclasses import replace

    from bot.serve import run_serve

    # --pack / --packs-dir choose what the bot answers from, as POLICY_PACK / POLICY_PACKS_DIR would.
    pack = getattr(args, "pack", None) or args.settings.policy_pack
    packs_dir = getattr(args, "packs_dir", None) or args.settings.policy_packs_dir
    return run_serve(replace(args.settings, policy_pack=pack, policy_packs_dir=packs_dir))


def cmd_web(args) -> int:
    from bot.serve import run_web

    return run_web(args.settings, lambda settings: _advisor(args))


def cmd_main_job(args) -> int:
    """No subcommand: `serve` (the web chat, and the Telegram bot when a token is set)."""
    return cmd_serve(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policybot", description="Policy Advisor: answers from the school's own policy, quoting the clause.")
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env in this folder)")
    parser.set_defaults(func=cmd_main_job)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer a question (or one per line of standard input)")
    ask.add_argument("question", nargs="?", help="the question; omit to read questions from standard input")
    _role_option(ask)
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    _pack_options(ask)
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="the console chat")
    _role_option(chat)
    _pack_options(chat)
    chat.set_defaults(func=cmd_chat)

    ev = sub.add_parser("eval", help="metrics on a labelled question file (default: the pack's eval.yaml)")
    ev.add_argument("file", nargs="?", type=Path)
    ev.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    ev.add_argument("--failures", type=int, default=40, help="how many failures to list (default 40)")
    _pack_options(ev)
    ev.set_defaults(func=cmd_eval)

    serve = sub.add_parser("serve", help="run the web chat (WEB_HOST:WEB_PORT, or WEB_PORT=off) and, with TELEGRAM_BOT_TOKEN, the Telegram bot, in one process")
    _pack_options(serve)
    serve.set_defaults(func=cmd_serve)

    web = sub.add_parser("web", help="run the web chat alone, on WEB_HOST:WEB_PORT (default 127.0.0.1:8080)")
    _pack_options(web)
    web.set_defaults(func=cmd_web)

    # Subcommands that live with the code they drive.
    for module in ("knowledge.ingest_cli", "bot.office_cli"):
        try:
            importlib.import_module(module).register(sub)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.settings = load_settings(args.env_file)
        if getattr(args, "pack", None) is None and hasattr(args, "pack"):
            args.pack = args.settings.policy_pack
        if getattr(args, "packs_dir", None) is None and hasattr(args, "packs_dir"):
            args.packs_dir = args.settings.policy_packs_dir
        return args.func(args)
    except SettingsError as exc:
        print(f"policybot: setting problem: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a clear line, not a traceback, for errors people can fix
        from knowledge.pack import PackError

        if isinstance(exc, PackError):
            print(f"policybot: {exc}", file=sys.stderr)
            return EXIT_USAGE
        raise


if __name__ == "__main__":
    sys.exit(main())
