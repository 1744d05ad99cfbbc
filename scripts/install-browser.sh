#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test (tests/browser), once.
# Idempotent: does nothing when /usr/bin/chromium already exists. Needs root
# (or sudo) and apt; never downloads a browser build from anywhere else.
# Where it cannot install (no apt, no root) it warns and exits 0: the browser
# test then skips itself with a loud message. An apt failure is an error.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium: already installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: WARNING apt-get not found; install Chromium at /usr/bin/chromium yourself (the browser test is skipped without it)" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "chromium: WARNING not root and no sudo: cannot install Debian's chromium (the browser test is skipped without it)" >&2
    exit 0
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
echo "chromium: installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
