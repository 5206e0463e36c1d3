#!/usr/bin/env bash
# Makes sure a Docker engine answers on the local socket: installs Debian's docker.io when
# dockerd is missing, starts dockerd in the background when no socket answers. Idempotent.
set -euo pipefail

sock="${KIBOKO_DOCKER_SOCK:-/var/run/docker.sock}"

answers() { curl -sf --max-time 2 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1; }

if answers; then
  echo "docker engine: already running at $sock"
  exit 0
fi

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v busybox >/dev/null 2>&1 || need+=(busybox-static)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-docker: need ${need[*]} but not root; install them or run as root" >&2
    exit 1
  fi
  echo "docker engine: installing ${need[*]} (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

if answers; then exit 0; fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "docker engine: starting dockerd in the background (log: /var/log/kiboko-dockerd.log)"
  rm -f /var/run/docker.pid
  nohup dockerd >/var/log/kiboko-dockerd.log 2>&1 &
fi

for _ in $(seq 1 120); do
  if answers; then
    echo "docker engine: ready at $sock"
    exit 0
  fi
  sleep 0.5
done
echo "ensure-docker: dockerd did not answer on $sock within 60s; see /var/log/kiboko-dockerd.log" >&2
tail -n 20 /var/log/kiboko-dockerd.log >&2 || true
exit 1
