"""The Telegram adapter: the only package that imports `telegram`. Handlers stay thin; behaviour lives in
`bot.dialogue` (people) and `bot.office` (the school office)."""
