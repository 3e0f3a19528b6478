# package-lock.json (parsed) → the same, with a `resolved` URL for every
# registry package that lacks one.
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
lock:

let
  inherit (builtins) elemAt mapAttrs match;

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
    then entry
    else entry // { resolved = tarball name entry.version; };
in
lock // { packages = mapAttrs complete (lock.packages or { }); }
