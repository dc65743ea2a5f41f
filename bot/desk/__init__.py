"""The office's desk: the school office's work in a browser (unanswered questions, cases, learned answers,
numbers), signed in with single-use links, over the same `Office` as the Telegram office. Mounted at /desk by
the web app (bot/web/app.py); its own templates, texts and styles live beside it."""
