#!/usr/bin/env bash
# Stop the services that ensure-services.sh started (and only those).
set -uo pipefail
STARTED_FILE=${STARTED_FILE:-var/services-started}
[ -f "$STARTED_FILE" ] || exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
while read -r name arg; do
  case "$name" in
    postgres) echo "[services] stopping PostgreSQL $arg"; $SUDO pg_ctlcluster --skip-systemctl-redirect "$arg" main stop ;;
    redis) echo "[services] stopping Redis"; [ -f "$arg" ] && kill "$(cat "$arg")" ;;
  esac
done < "$STARTED_FILE"
rm -f "$STARTED_FILE"
