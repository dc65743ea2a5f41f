"""A local mail server for the email tests (aiosmtpd, on 127.0.0.1), which can refuse the first messages it is
sent, and settings that point the bot at it."""

from __future__ import annotations

import email
import socket
from dataclasses import replace
from email.policy import default

import pytest


class Inbox:
    """aiosmtpd handler: keeps what it accepts; answers 451 ("try again later") to the first `refuse` messages."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.refuse = 0
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            self.refused += 1
            return "451 4.3.0 Try again later"
        self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content, policy=default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def email_settings(bot_settings, smtp_server):
    """The test's settings, with the office's mailbox on the local server (and the Telegram office chat too)."""
    return replace(
        bot_settings, smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_from="policybot@clearwell.example",
        office_email="office@clearwell.example",
    )
