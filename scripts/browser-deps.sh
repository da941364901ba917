#!/usr/bin/env bash
# npm packages for the browser tests (playwright-core drives Debian's Chromium; posthog-js is
# the SDK under test). Installed from package-lock.json when it changes.
set -euo pipefail
[ -f package.json ] || exit 0
stamp="node_modules/.installed-$(sha1sum package.json package-lock.json 2>/dev/null | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
