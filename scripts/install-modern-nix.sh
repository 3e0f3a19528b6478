#!/usr/bin/env bash
# Installs a current Nix (2.26, from Debian 13 "trixie" packages) beside Debian 12's own Nix 2.8,
# without touching the system's libraries: the second Nix version the tests run on (see the
# README's Development section; .ci/run and scripts/install-test-deps.sh call it).
#
#   bash scripts/install-modern-nix.sh [PREFIX]         # default PREFIX=/opt/nix-2.26
#   export PATH=PREFIX/bin:$PATH                        # then `nix --version` says 2.26.3
#   NIX_HUG_TEST_NIX=PREFIX/bin npm test                # or: the tests on that Nix
#
# How: apt downloads nix-bin and its library closure from the trixie suite of the same Debian
# mirror the machine already uses (a private apt state under PREFIX/.apt; the system's apt
# lists and packages are not changed), dpkg-deb extracts them into PREFIX, and patchelf points
# the nix binary at PREFIX's own glibc and libraries. `nix` re-executes itself (build hook,
# nix-daemon), which works because the binary itself is patched (no loader wrapper).
# Idempotent: a second run only re-checks. Needs root (apt-get install patchelf once).
#
# Both versions share /nix/store and its database (schema 10 in both); after 2.26 has used the
# store, 2.8 keeps working (checked with `nix-store --verify`).
set -euo pipefail
PREFIX=${1:-/opt/nix-2.26}
WANT=2.26

if [ -x "$PREFIX/bin/nix" ] && "$PREFIX/bin/nix" --version 2>/dev/null | grep -q " $WANT"; then
  echo "$("$PREFIX/bin/nix" --version) already in $PREFIX/bin"; exit 0
fi

command -v patchelf >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf >/dev/null; }
command -v patchelf >/dev/null || { echo "modern-nix: patchelf could not be installed" >&2; exit 1; }

# The mirror this machine's apt already uses for Debian itself.
mirror=$( { grep -rhs '^URIs:' /etc/apt/sources.list.d/ || true; grep -hs '^deb ' /etc/apt/sources.list | awk '{print "URIs: "$2}' || true; } \
  | awk '{print $2}' | grep -E '/debian/?$' | head -1 || true)
[ -n "$mirror" ] || { echo "modern-nix: no Debian mirror found in /etc/apt" >&2; exit 1; }

A=$PREFIX/.apt
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/debs"
echo "deb $mirror trixie main" >"$A/sources.list"
: >"$A/status"
APT=(-o "Dir::Etc::sourcelist=$A/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$A/lists"
     -o "Dir::Cache=$A/cache" -o "Dir::State::status=$A/status" -o "APT::Sandbox::User=root")
apt-get "${APT[@]}" update -qq
pkgs=$(apt-cache "${APT[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
         --no-replaces --no-enhances nix-bin | grep -v '^ ' | grep -v '^<' | sort -u)
(cd "$A/debs" && apt-get "${APT[@]}" download $pkgs >/dev/null)
for d in "$A"/debs/*.deb; do dpkg-deb -x "$d" "$PREFIX"; done

L=$PREFIX/usr/lib/x86_64-linux-gnu
patchelf --set-interpreter "$L/ld-linux-x86-64.so.2" --force-rpath \
  --set-rpath "$L:$PREFIX/lib/x86_64-linux-gnu" "$PREFIX/usr/bin/nix"
mkdir -p "$PREFIX/bin"
for n in nix nix-build nix-store nix-instantiate nix-hash nix-prefetch-url nix-collect-garbage \
         nix-env nix-shell nix-copy-closure nix-daemon nix-channel; do
  ln -sfn "$PREFIX/usr/bin/nix" "$PREFIX/bin/$n"
done
"$PREFIX/bin/nix" --version
echo "export PATH=$PREFIX/bin:\$PATH"
