#!/usr/bin/env bash
# Set everything up, then run the whole test suite (real model, real SQLite, real PTB against a local fake
# Bot API on 127.0.0.1). Extra arguments go to pytest. "No tests ran" (pytest exit 5) counts as a failure.
set -uo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh || exit 1
# The browser tests drive Debian's Chromium through its own chromedriver (same version, same archive: nothing
# comes from a browser vendor). As root on a machine without them, install them; otherwise those tests skip
# with a message saying what to install (with CI=true a missing browser fails them).
if { ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; } && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
    || echo "run-tests.sh: could not install chromium and chromium-driver; the browser tests will say so" >&2
fi
.venv/bin/python -m pytest -q "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "run-tests.sh: pytest collected no tests — treating that as a failure" >&2
  exit 1
fi
exit "$status"
