#!/usr/bin/env bash
# Makes sure this host has what kiboko and its tests use — Debian's docker.io engine, iptables,
# nftables, iproute2 (tc), util-linux (nsenter, unshare), stress-ng, a static busybox, etcd, chromium,
# docker-registry with htpasswd and openssl (the registry tests), docker-compose v1 — and that
# a Docker engine answers on the local socket (dockerd started in the background if not).
# Idempotent: installs only what is missing, starts only what is not running.
set -euo pipefail

sock="${KIBOKO_DOCKER_SOCK:-/var/run/docker.sock}"
answers() { curl -sf --max-time 2 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1; }

need=()
want() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }
want curl curl
want git git
want dockerd docker.io
want iptables iptables
want nft nftables
want tc iproute2
want nsenter util-linux
want stress-ng stress-ng
# etcd v3 server for the `kiboko template --backend etcd` tests (they start their own on loopback).
want etcd etcd-server
# Headless browser for the dashboard tests (driven by playwright-core).
want chromium chromium
# A registry on loopback for the watch and pull tests (Debian's docker-registry, htpasswd auth, TLS by openssl).
want docker-registry docker-registry
want htpasswd apache2-utils
want openssl openssl
# docker-compose v1 (Debian's): the compose tests check that it sees kiboko's projects as its own.
want docker-compose docker-compose
# A dynamic busybox names its loader near the start of the file; the test images need a static one.
if [ ! -x /bin/busybox ] || head -c 4096 /bin/busybox | grep -qa ld-linux; then need+=(busybox-static); fi

if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-docker: need ${need[*]} but not root; install them or run as root" >&2
    exit 1
  fi
  echo "host tools: installing ${need[*]} (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

if answers; then
  echo "docker engine: running at $sock"
  exit 0
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "docker engine: starting dockerd in the background (log: /var/log/kiboko-dockerd.log)"
  rm -f /var/run/docker.pid
  # Descriptors 3-9 closed: a lock held by the caller (e.g. `flock … ensure-docker.sh`) must not live on in dockerd.
  nohup dockerd >/var/log/kiboko-dockerd.log 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
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
