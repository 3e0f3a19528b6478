# fromLock (./nix-hug.lock | { lock = ./nix-hug.lock; })
# Every entry of a lock file written by `nix-hug add` / `nix-hug update`,
# by name: { models.<name>; datasets.<name>; spaces.<name>; cache; } where
# `cache` is buildCache of all of them (see docs/library.md). Each entry carries its
# gitRepoHash and manifest (inline, or a file beside the lock), so
# evaluation needs no network and no import-from-derivation.
{ fetchModel, fetchDataset, fetchSpace, buildCache }:

let
  inherit (builtins) attrValues filter fromJSON isAttrs isPath isString length listToAttrs map match
    readFile toJSON toString;

  supportedVersion = 1;
  # Relative paths of plain names only (as the CLI writes them): no `..`, nothing absolute.
  manifestPathRe = "[A-Za-z0-9_+-][A-Za-z0-9._+-]*(/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*";
in

arg:

let
  lockPath =
    if isAttrs arg then (arg.lock or (throw "nix-hug fromLock: give the lock file, as fromLock ./nix-hug.lock or fromLock { lock = ./nix-hug.lock; }"))
    else arg;
  where = "the lock file ${toString lockPath}";
  data = fromJSON (readFile lockPath);
  version = data.version or null;

  entries =
    if !(isAttrs data) || version == null then throw "nix-hug fromLock: ${where} is not a nix-hug lock file (no \"version\")"
    else if version > supportedVersion then throw "nix-hug fromLock: ${where} has version ${toJSON version}, written by a newer nix-hug; update the nix-hug library (this one reads version ${toString supportedVersion})"
    else if version != supportedVersion then throw "nix-hug fromLock: ${where} has the unknown version ${toJSON version}"
    else data.entries;

  # A vendored manifest is read beside the lock (a path stays a path: pure evaluation reads it from the same source).
  manifestOf = e:
    if isAttrs e.manifest then e.manifest
    else if isString e.manifest && match manifestPathRe e.manifest != null then
      (if isPath lockPath then dirOf lockPath + "/${e.manifest}" else "${dirOf (toString lockPath)}/${e.manifest}")
    else throw "nix-hug fromLock: in ${where}, the manifest of ${toJSON e.name} must be an object of files or a relative path of plain names";

  fetchers = { model = fetchModel; dataset = fetchDataset; space = fetchSpace; };
  fetch = e:
    (fetchers.${e.type} or (throw "nix-hug fromLock: in ${where}, ${toJSON e.name} has the unknown type ${toJSON e.type}"))
    ({
      url = e.repoId;
      inherit (e) rev fileTreeHash gitRepoHash;
      filters = e.filters or null;
      manifest = manifestOf e;
    } // (if e ? endpoint then { inherit (e) endpoint; } else { }));

  byName = type:
    let
      chosen = filter (e: e.type == type) entries;
      set = listToAttrs (map (e: { name = e.name; value = fetch e; }) chosen);
    in
    if length (attrValues set) != length chosen then throw "nix-hug fromLock: ${where} has two entries with the same name"
    else set;

  models = byName "model";
  datasets = byName "dataset";
  spaces = byName "space";
in
{
  inherit models datasets spaces;
  # One HF_HUB_CACHE with every entry (several revisions of one repo: refs/main names the entry whose name sorts last).
  cache = buildCache { models = attrValues models; datasets = attrValues datasets; spaces = attrValues spaces; };
}
