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
