#!/usr/bin/env bash
# Installs, on Debian or Ubuntu (as root), everything `npm test` and the CI matrix need beyond
# Node and npm: Nix (Debian's nix-bin, 2.8 on Debian 12), git and git-lfs, zsh and fish (the
# completion tests load the generated scripts into them), python3 (docs/nix-usage.md's Python
# examples are compiled), bash-static (Debian's Nix maps /bin/sh to it inside the sandbox),
# openssh-server and nginx (started by the persist sharing tests on 127.0.0.1), a
# current Nix beside the system's (scripts/install-modern-nix.sh, into /opt/nix-2.26), and the
# normal user the multi-user tests run the CLI as (nix-hug-test, in the nix-users group).
# Idempotent: what is there already is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v nix >/dev/null 2>&1 || missing+=(nix-bin)
command -v git >/dev/null 2>&1 || missing+=(git)
git lfs version >/dev/null 2>&1 || missing+=(git-lfs)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The transport's TLS test makes a certificate for 127.0.0.1 with openssl.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v zsh >/dev/null 2>&1 || missing+=(zsh)
command -v fish >/dev/null 2>&1 || missing+=(fish)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
[ -x /usr/bin/bash-static ] || missing+=(bash-static)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
# The persist sharing tests start their own sshd and nginx on 127.0.0.1 (never the system's services;
# Debian enables those on install where an init system runs: `systemctl disable --now ssh nginx`).
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-test-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bash scripts/install-modern-nix.sh /opt/nix-2.26 >/dev/null

# The multi-user tests start their own nix-daemon and run the CLI as this user.
getent group nix-users >/dev/null || groupadd --system nix-users
if ! id nix-hug-test >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin --groups nix-users nix-hug-test
elif ! id -nG nix-hug-test | tr ' ' '\n' | grep -qx nix-users; then
  usermod -aG nix-users nix-hug-test
fi

echo "install-test-deps: $(nix --version), $(/opt/nix-2.26/bin/nix --version), $(git --version), user nix-hug-test ($(id -nG nix-hug-test))"
