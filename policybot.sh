#!/usr/bin/env bash
# Set everything up, then run the main job: the Telegram bot when TELEGRAM_BOT_TOKEN is set in .env,
# otherwise the console chat on the default policy pack with an embedded SQLite file (data/policybot.db).
# Any arguments are passed to `policybot` (e.g. ./policybot.sh ask "can I friend a parent?").
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/policybot "$@"
