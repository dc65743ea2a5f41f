"""Sending plain-text email with smtplib: one connection per round of the outbox, TLS whenever it can be had.

Blocking by nature; the delivery loop calls it in a thread. Nothing here logs: an error's class and SMTP code
are what the caller records (never an address or a message's words).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from bot.settings import email_sender, is_loopback

IMPLICIT_TLS_PORT = 465


class InsecureServer(smtplib.SMTPException):
    """The server offers no TLS, and a password would go in the clear to another machine."""


def compose(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message (UTF-8; long lines are encoded, not wrapped). Header values cannot carry a line
    break (EmailMessage refuses one), so nothing a person typed can add a header."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = " ".join(subject.split())
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to the bot
    message.set_content(body, subtype="plain", charset="utf-8")
    return message


class SmtpSender:
    """SMTP_HOST:SMTP_PORT, with STARTTLS when offered (required before a password to another machine)."""

    def __init__(self, settings, timeout: float = 30.0):
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.user = settings.smtp_user
        self.password = settings.smtp_password
        self.sender = email_sender(settings)
        self.timeout = timeout

    def connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.port == IMPLICIT_TLS_PORT:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.port != IMPLICIT_TLS_PORT:
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                elif self.user and not is_loopback(self.host):
                    raise InsecureServer("no STARTTLS offered")
            if self.user:
                smtp.login(self.user, self.password)
        except BaseException:
            close(smtp)
            raise
        return smtp

    def send(self, smtp: smtplib.SMTP, to: str, subject: str, body: str) -> None:
        smtp.send_message(compose(self.sender, to, subject, body))


def close(smtp: smtplib.SMTP | None) -> None:
    """Say goodbye if the server still listens; a connection already gone is no error."""
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        try:
            smtp.close()
        except OSError:
            pass
