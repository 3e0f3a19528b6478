# buildCache { models ? [], datasets ? [], spaces ? [], hash ? null }
# An HF_HUB_CACHE directory holding fetched repositories (see docs/library.md):
#   models--ORG--REPO/refs/main               the commit, no trailing newline
#   models--ORG--REPO/snapshots/COMMIT/...    the snapshot
#   datasets--ORG--NAME/..., spaces--ORG--NAME/...   likewise
# No `trees/`, no `blobs/` (neither huggingface_hub nor huggingface.js needs
# them: snapshot files resolve directly to their store paths), no `hub/`.
# hash = null: a cheap tree of links into the fetched results.
# hash = "sha256-…" | "": a self-contained fixed-output copy checked against it.
{ runCommand }:

let
  inherit (builtins) attrNames concatMap concatStringsSep elemAt filter foldl' genList isString
    length listToAttrs map toJSON;

  lines = xs: concatStringsSep "" (map (x: x + "\n") xs);

  # Per kind: the list it goes in, the function that fetches it, its folder prefix.
  kinds = {
    model = { list = "models"; fn = "fetchModel"; };
    dataset = { list = "datasets"; fn = "fetchDataset"; };
    space = { list = "spaces"; fn = "fetchSpace"; };
  };
  # Results of older versions of the library carry isDataset only.
  kindOf = item: item.repoType or (if item.isDataset then "dataset" else "model");

  check = kind: item:
    if !(builtins.isAttrs item && item ? repoId && item ? revision && item ? isDataset && item ? outPath) then
      throw "nix-hug buildCache: every entry of `${kinds.${kind}.list}` must be a result of ${kinds.${kind}.fn} (got ${builtins.typeOf item})"
    else if kindOf item != kind then
      throw "nix-hug buildCache: ${item.repoId} is a ${kindOf item}; list it under `${kinds.${kindOf item}.list}`"
    else item;

  # huggingface_hub's folder name: `{type}s--org--name`.
  folderOf = item: kinds.${kindOf item}.list + "--" + item.org + "--" + item.repo;
in

{ models ? [ ], datasets ? [ ], spaces ? [ ], hash ? null }:

let
  items = map (check "model") models ++ map (check "dataset") datasets ++ map (check "space") spaces;

  # One snapshot per (folder, revision); the same result listed twice is fine,
  # two different results for one revision (e.g. other filters) are not.
  snapshots = foldl' (acc: item:
    let key = "${folderOf item}/${item.revision}"; in
    if acc ? ${key} then
      (if acc.${key}.outPath == item.outPath then acc
       else throw "nix-hug buildCache: ${item.repoId} at ${item.revision} is listed twice with different contents (different filters?); fetch it once with the files you need")
    else acc // { ${key} = item; }) { } items;

  # refs/main of each folder: the revision listed last.
  mains = foldl' (acc: item: acc // { ${folderOf item} = item.revision; }) { } items;

  hashed = hash != null;
in
if hash != null && !(isString hash) then throw "nix-hug buildCache: hash must be a string like \"sha256-…\" (or \"\" to be told the right one), or null"
else
runCommand "hf-hub-cache" ({
  # Env names carry a prefix: nixpkgs' stdenv setup runs in the same shell.
  hfCopy = if hashed then "1" else "";
  passAsFile = [ "hfSnapshots" "hfRefs" ];
  # Triples of lines: folder, commit, store path.
  hfSnapshots = lines (concatMap (k: let i = snapshots.${k}; in [ (folderOf i) i.revision "${i}" ]) (attrNames snapshots));
  # Pairs of lines: folder, commit.
  hfRefs = lines (concatMap (f: [ f mains.${f} ]) (attrNames mains));
} // (if hashed then {
  outputHashMode = "recursive";
  outputHashAlgo = "sha256";
  outputHash = hash;
} else { })) (builtins.readFile ./internal/build-cache.sh)
