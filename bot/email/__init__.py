"""Email: the office's notices and web askers' answers, sent from the outbox through the school's mail server.

`sender.py` composes a plain-text message and talks SMTP (smtplib, in a thread); `delivery.py` takes the
outbox's email rows, with retries and backoff, and `delivering_email` runs it beside an asyncio app. Which
notices go by email is decided where they are queued (bot/office_routes.py).
"""
