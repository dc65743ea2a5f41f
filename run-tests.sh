#!/usr/bin/env bash
# Set everything up, then run the whole test suite (real model, real SQLite, real PTB against a local fake
# Bot API on 127.0.0.1). Extra arguments go to pytest. "No tests ran" (pytest exit 5) counts as a failure.
set -uo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh || exit 1
.venv/bin/python -m pytest -q "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "run-tests.sh: pytest collected no tests — treating that as a failure" >&2
  exit 1
fi
exit "$status"
