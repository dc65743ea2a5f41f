"""`policybot serve` refuses to start without its settings, with one line naming the missing one, before
loading anything heavy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.serve import run_serve
from bot.settings import Settings


@pytest.mark.parametrize(
    "changes, named",
    [
        ({}, "TELEGRAM_BOT_TOKEN"),
        ({"telegram_bot_token": "nonsense"}, "TELEGRAM_BOT_TOKEN"),
        ({"telegram_bot_token": "1:a"}, "OFFICE_CHAT_ID"),
        ({"telegram_bot_token": "1:a", "office_chat_id": -1}, "ADMIN_USER_IDS"),
        ({"telegram_bot_token": "1:a", "office_chat_id": -1, "admin_user_ids": (1,), "webhook_url": "https://x/y"}, "WEBHOOK_SECRET"),
    ],
)
def test_missing_settings_stop_start_up_with_one_line(changes, named, capsys):
    assert run_serve(replace(Settings(), **changes)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err
