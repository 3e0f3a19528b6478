# package-lock.json (parsed) → the same, with a `resolved` URL for every
# registry package that npm would install on `system`.
#
# npm leaves `resolved` out when `omit-lockfile-registry-resolved` is set
# (it is on the machines this project is developed on) and then fetches
# name@version from whatever registry is configured. nixpkgs' importNpmLock
# needs the URL to fetch each package with its `integrity` hash, so we add
# the public registry's tarball address, the one npm itself derives:
#   https://registry.npmjs.org/NAME/-/BASENAME-VERSION.tgz
# (BASENAME is NAME without its @scope/). Aliased packages carry their real
# `name` in the entry. Links, the root package and entries that already have a
# URL are kept as they are.
#
# Optional packages for another platform (`os`/`cpu`, e.g. the 25 other
# @esbuild/* binaries) get no URL: importNpmLock then does not download them,
# and npm skips them anyway.
{ system }:
lock:

let
  inherit (builtins) any all elemAt filter mapAttrs match substring;

  # Nix system → npm's process.arch / process.platform.
  parts = match "([^-]+)-(.+)" system;
  npmCpu = { x86_64 = "x64"; aarch64 = "arm64"; i686 = "ia32"; armv7l = "arm"; armv6l = "arm"; riscv64 = "riscv64"; powerpc64le = "ppc64"; s390x = "s390x"; }.${elemAt parts 0} or (elemAt parts 0);
  npmOs = elemAt parts 1;

  # npm's rule: ["linux"] allows only linux; ["!win32"] allows all but win32.
  allows = list: value:
    let
      negated = filter (x: substring 0 1 x == "!") list;
      plain = filter (x: substring 0 1 x != "!") list;
    in
    all (x: x != "!${value}") negated && (plain == [ ] || any (x: x == value) plain);
  forThisPlatform = entry: allows (entry.os or [ ]) npmOs && allows (entry.cpu or [ ]) npmCpu;

  # "node_modules/a/node_modules/@s/b" → "@s/b"; null for keys outside node_modules.
  installedName = key:
    let m = match "(.*/)?node_modules/((@[^/]+/)?[^/]+)" key; in
    if m == null then null else elemAt m 1;

  tarball = name: version:
    let base = elemAt (match "(@[^/]+/)?([^/]+)" name) 1; in
    "https://registry.npmjs.org/${name}/-/${base}-${version}.tgz";

  complete = key: entry:
    let name = entry.name or (installedName key); in
    if entry ? resolved || (entry.link or false) || !(entry ? integrity) || !(entry ? version) || name == null
      || ((entry.optional or false) && !(forThisPlatform entry))
    then entry
    else entry // { resolved = tarball name entry.version; };
in
assert parts != null || throw "nix-hug npm-lock.nix: cannot read the system ${system}";
lock // { packages = mapAttrs complete (lock.packages or { }); }
