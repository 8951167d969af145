#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine as root: installs what the tests need, builds, runs
# every test with Node's built-in runner (its summary closes the output).
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v etcd >/dev/null 2>&1 || need_pkgs+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need_pkgs+=(etcd-client)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
command -v script >/dev/null 2>&1 || need_pkgs+=(bsdutils)
# The datastore partition test puts members in network namespaces (ip netns, veth, bridge).
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
# The pod network loads br_netfilter where it is not loaded yet.
command -v modprobe >/dev/null 2>&1 || need_pkgs+=(kmod)
command -v containerd >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 && [ -x /usr/lib/cni/bridge ] && [ -x /bin/busybox ] && command -v iptables >/dev/null 2>&1 || need_pkgs+=(containerd runc containernetworking-plugins busybox-static iptables)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

npm ci --no-fund --no-audit
npm run build

mapfile -t files < <(find dist -name '*.test.js' | sort)
# Test files run in parallel up to the machine's two cores; each one starts its own servers on free ports.
# --test-timeout: no single test may wait for ever (suites set their own, shorter, timeouts). Not
# --test-force-exit: with it, runs here reported a varying number of tests (3,224 / 3,232 / 3,241) — some
# files' tests were never run and nothing failed; a leaked handle must be fixed where it leaks instead.
exec node --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"
