"""The web chat: a channel adapter like the console and Telegram, for parents and staff without Telegram.

`app.py` wires the Starlette app (routes in one list, middleware, lifespan); `security.py` the secret key, the
CSRF token and the security headers; `view.py` turns the dialogue's `Outgoing` items (in the layout every
channel shares, bot/dialogue/layout.py) into what the templates show; `transcripts.py` keeps what each session's
page shows; `static/chat.js` only enhances the forms. No answer logic here: every message and button press goes
to `Dialogue.handle`.
"""
