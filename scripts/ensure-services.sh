#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432, user postgres, trust) and Redis (127.0.0.1:6379)
# answer on loopback, and that chromium (for the browser test) and GNU gettext (for `make
# messages` and the translation tests) are installed. Starts the
# services when installed but stopped; installs what is missing with apt-get. Appends what it
# started to $STARTED_FILE so the caller can stop it afterwards.
set -euo pipefail

STARTED_FILE=${STARTED_FILE:-var/services-started}
mkdir -p "$(dirname "$STARTED_FILE")"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
fi

say() { echo "[services] $*"; }

apt_install() {
  say "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1; then
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q --no-install-recommends "$@" >/dev/null
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.1; done
  return 1
}

ensure_postgres() {
  if port_open 5432; then say "PostgreSQL is up"; return; fi
  if ! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
    apt_install postgresql postgresql-client
    local fresh=1
  fi
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    $SUDO pg_createcluster "$version" main >/dev/null
    fresh=1
  fi
  if [ "${fresh:-0}" = 1 ]; then
    # A cluster this script made: let the tests in over loopback without a password.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' \
      | $SUDO tee "$hba.tracker" >/dev/null
    $SUDO sh -c "cat '$hba' >> '$hba.tracker' && mv '$hba.tracker' '$hba'"
  fi
  say "starting PostgreSQL $version"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_port 5432 || { say "PostgreSQL did not come up"; exit 1; }
  echo "postgres $version" >> "$STARTED_FILE"
}

ensure_redis() {
  if port_open 6379; then say "Redis is up"; return; fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  say "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
    --pidfile "$PWD/var/redis-test.pid" --logfile "$PWD/var/redis-test.log" --dir /tmp
  wait_port 6379 || { say "Redis did not come up"; exit 1; }
  echo "redis $PWD/var/redis-test.pid" >> "$STARTED_FILE"
}

ensure_browser() {
  if command -v chromium >/dev/null 2>&1; then
    say "chromium is installed"
  else
    apt_install chromium fonts-liberation
  fi
  # The pages in Korean: without a font with Hangul, chromium draws boxes.
  if fc-list :lang=ko 2>/dev/null | grep -q .; then
    say "a Korean font is installed"
  else
    apt_install fonts-nanum
  fi
}

ensure_gettext() {
  if command -v xgettext >/dev/null 2>&1 && command -v msgmerge >/dev/null 2>&1; then
    say "gettext is installed"; return
  fi
  apt_install gettext
}

for service in "$@"; do
  case "$service" in
    postgres) ensure_postgres ;;
    redis) ensure_redis ;;
    browser) ensure_browser ;;
    gettext) ensure_gettext ;;
    *) say "unknown service $service"; exit 2 ;;
  esac
done
