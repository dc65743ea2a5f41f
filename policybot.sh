#!/usr/bin/env bash
# Set everything up, then run the main job (`policybot serve`): the web chat on http://127.0.0.1:8080 (it prints
# the address; WEB_HOST, WEB_PORT), on the default policy pack with an embedded SQLite file (data/policybot.db),
# and the Telegram bot in the same process when TELEGRAM_BOT_TOKEN is set in .env.
# Any arguments are passed to `policybot` (e.g. ./policybot.sh ask "can I friend a parent?").
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/policybot "$@"
