# The canonical manifest (docs/design.md, "Two manifests"): every file of the repository at `rev`,
# sorted by the UTF-8 bytes of its path (`builtins.lessThan` on strings
# compares bytes, like strcmp), one line each:
#   PATH<TAB>lfs<TAB>SHA256HEX<TAB>SIZE<LF>   for an LFS file
#   PATH<TAB>git<LF>                          for any other file
# fileTreeHash = "sha256-" + base64(sha256(manifest)).
let
  inherit (builtins) concatStringsSep lessThan sort;
  base64 = import ./base64.nix;
  line = f: if f.lfs != null then "${f.path}\tlfs\t${f.lfs.sha256}\t${f.lfs.size}\n" else "${f.path}\tgit\n";
in
{
  /** files: [ { path; lfs = null | { sha256; size; }; } ] (any order) → manifest text. */
  render = files: concatStringsSep "" (map line (sort (a: b: lessThan a.path b.path) files));

  /** Manifest text → its `fileTreeHash`. */
  hash = base64.sriOfString;
}
