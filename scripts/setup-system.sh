#!/usr/bin/env bash
# Debian packages the tests need: chromium, for the test that opens report.html headless.
# Skipped when /usr/bin/chromium exists; uses sudo when not root.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
