"""`policybot serve` refuses to start without its settings, with one line naming the missing one, before
loading anything heavy. (With no settings at all it serves the web chat: tests/test_web_serve.py.)"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.serve import run_serve
from bot.settings import Settings


@pytest.mark.parametrize(
    "changes, named",
    [
        ({"web_port": None}, "TELEGRAM_BOT_TOKEN"),  # no web chat and no bot: nothing to serve
        ({"web_host": "0.0.0.0", "web_secret_key": "k" * 48}, "TELEGRAM_BOT_TOKEN"),  # public, and no office to tell
        ({"telegram_bot_token": "nonsense"}, "TELEGRAM_BOT_TOKEN"),
        ({"telegram_bot_token": "1:a"}, "OFFICE_CHAT_ID"),
        ({"telegram_bot_token": "1:a", "office_chat_id": -1}, "ESCALATION_CHAT_ID"),  # no route for reports about the head
        ({"telegram_bot_token": "1:a", "office_chat_id": -1, "escalation_chat_id": -2}, "ADMIN_USER_IDS"),
        ({"telegram_bot_token": "1:a", "office_chat_id": -1, "escalation_chat_id": -2, "admin_user_ids": (1,),
          "webhook_url": "https://x/y"}, "WEBHOOK_SECRET"),
        ({"telegram_bot_token": "1:a", "office_chat_id": -1, "escalation_chat_id": -2, "admin_user_ids": (1,),
          "webhook_url": "https://x/", "webhook_secret": "s"}, "WEBHOOK_URL"),  # with the web on, it needs a path
        ({"web_host": "0.0.0.0"}, "WEB_SECRET_KEY"),
        ({"web_embed_origins": ("https://school.example",), "web_host": "0.0.0.0", "web_secret_key": "k" * 48}, "WEB_EMBED_ORIGINS"),
    ],
)
def test_missing_settings_stop_start_up_with_one_line(changes, named, capsys):
    assert run_serve(replace(Settings(), **changes)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err


READY = {"telegram_bot_token": "1:a", "office_chat_id": -1, "escalation_chat_id": -2, "admin_user_ids": (1,)}


@pytest.mark.parametrize("dsl", ["", "the Designated Safeguarding Lead (ask the school office for their number)", None])
def test_serve_refuses_to_run_without_the_schools_own_dsl(dsl, capsys):
    """The default (or the old example's text) gives people something to act on, but a live bot must name its DSL."""
    settings = replace(Settings(), **READY) if dsl is None else replace(Settings(), dsl_contact=dsl, **READY)
    assert run_serve(settings) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "DSL_CONTACT" in err


def test_the_env_example_as_copied_is_refused_for_real_use(tmp_path):
    """.env.example leaves DSL_CONTACT empty: with a token (or a web chat others can reach) the check refuses it."""
    from bot.settings import SettingsError, check_dsl_contact, check_serve_settings, load_settings

    example = load_settings(Path(__file__).resolve().parent.parent / ".env.example", environ={})
    check_dsl_contact(example)  # the console and a loopback web chat need nothing
    for live in (replace(example, **READY), replace(example, web_host="0.0.0.0")):
        with pytest.raises(SettingsError, match="DSL_CONTACT"):
            check_dsl_contact(live)
    check_serve_settings(replace(example, dsl_contact="Ms Rivera, 01234 567891", **READY))


def test_the_default_dsl_contact_still_says_what_to_do_now():
    from bot.settings import DEFAULT_DSL_CONTACT

    assert Settings().dsl_contact == DEFAULT_DSL_CONTACT
    assert all(what in DEFAULT_DSL_CONTACT for what in ("999", "0808 800 5000", "CEOP"))


LIVE_ENV = {"TELEGRAM_BOT_TOKEN": "1:a", "OFFICE_CHAT_ID": "-1", "ESCALATION_CHAT_ID": "-2", "ADMIN_USER_IDS": "1",
            "DSL_CONTACT": "Ms Rivera, 01234 567891"}


def test_serve_answers_from_the_pack_it_is_given(monkeypatch, tmp_path, capsys):
    """`serve --pack NAME [--packs-dir DIR]` serves that pack (it was once accepted and ignored)."""
    import bot.runtime
    from bot.cli import main
    from knowledge.pack import PackError

    monkeypatch.chdir(tmp_path)
    for key, value in LIVE_ENV.items():
        monkeypatch.setenv(key, value)
    served = []

    def build_advisor(settings, *args, **kwargs):  # stands in for the model: what would be served, then stop
        served.append((settings.policy_pack, settings.policy_packs_dir))
        raise PackError("stopped before loading the model")

    monkeypatch.setattr(bot.runtime, "build_advisor", build_advisor)
    assert main(["serve", "--pack", "ourschool", "--packs-dir", str(tmp_path)]) == 2
    assert served == [("ourschool", tmp_path)]


def test_serve_with_an_unknown_pack_says_so_in_one_line(monkeypatch, tmp_path, capsys):
    import bot.runtime
    from bot.cli import main

    def load_encoder(*args, **kwargs):
        raise AssertionError("the model is loaded although the pack asked for does not exist")

    monkeypatch.setattr(bot.runtime, "load_encoder", load_encoder)
    monkeypatch.chdir(tmp_path)
    for key, value in LIVE_ENV.items():
        monkeypatch.setenv(key, value)
    assert main(["serve", "--pack", "no-such-school"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no-such-school" in err


@pytest.mark.slow
async def test_policybot_serve_runs_from_any_folder_and_stops_cleanly(fake_bot_api, tmp_path):
    """The real command in its own process: long polling against the fake Bot API, then SIGTERM."""
    import asyncio
    import os
    import sys
    import signal
    import subprocess

    fake = fake_bot_api
    fake.add_chat(-1001, "supergroup")
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_BASE_URL": fake.base_url,
        "OFFICE_CHAT_ID": "-1001",
        "ESCALATION_CHAT_ID": "-1002",
        "ADMIN_USER_IDS": "900",
        "SCHOOL_NAME": "Clearwell School",
        "DSL_CONTACT": "Ms Rivera, 01234 567891",
        "WEB_PORT": "off",  # the Telegram bot alone, as before the web chat (both at once: test_web_serve.py)
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),  # this checkout's code
        # The embeddings cache is keyed by model and text, so the suite's shared one is safe to reuse.
        "CACHE_DIR": str(Path(__file__).resolve().parent.parent / "data" / "cache"),
    }
    # The installed console script beside this interpreter (the venv need not be on PATH, as in CI).
    policybot = Path(sys.executable).with_name("policybot")
    assert policybot.exists(), "the project is installed with its console script"
    process = subprocess.Popen([str(policybot), "serve"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        await fake.wait_for(method="getUpdates", timeout=120)
        fake.send_text(77, "/start")
        welcome, ask_role = await fake.wait_for_messages(77, 2, timeout=30)
        assert "Clearwell School" in welcome["text"] and "staff or a parent" in ask_role["text"]
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.to_thread(process.communicate, timeout=60)
    assert process.returncode == 0, output
    assert fake.token.split(":")[1] not in output  # the token never reaches the log
    assert (tmp_path / "data" / "policybot.db").exists()
