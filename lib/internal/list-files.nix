# Every file of a checkout, by reading directories only (`builtins.readDir`):
# a file's content is never read here (binary files with NUL bytes abort
# evaluation in Nix 2.8, uncatchably).
let
  inherit (builtins) attrNames concatMap fromJSON match readDir replaceStrings toJSON;

  # Bytes 0x01–0x1F and 0x7F, as a bracket expression.
  controls = fromJSON ''"[\u0001-\u001f\u007f]"'';

  # `.git` as a case-insensitive file system (macOS, Windows) reads a name: any case, NTFS's
  # trailing dots and spaces and short name `git~1`, HFS+'s ignored code points.
  hfsIgnored = map (c: fromJSON ''"\u${c}"'') [ "200c" "200d" "200e" "200f" "202a" "202b" "202c" "202d" "202e" "206a" "206b" "206c" "206d" "206e" "206f" "feff" ];
  namesGitDir = name:
    let n = replaceStrings hfsIgnored (map (_: "") hfsIgnored) name; in
    match "\\.[gG][iI][tT][. ]*" n != null || match "[gG][iI][tT]~1" n != null;
in
{
  /**
    root: a store path (string). Returns [ { path; type; } ] where type is
    "regular" or "symlink"; folders are walked, never listed.
    describe: how to name the repository in errors.
  */
  listFiles = { root, describe }:
    let
      go = prefix: dir:
        let entries = readDir dir; in
        concatMap (name:
          let
            type = entries.${name};
            path = prefix + name;
          in
          if match ".*${controls}.*" name != null then
            throw "nix-hug: ${describe} has a path with a TAB, newline or other control character (${toJSON path}); such paths cannot be listed in the manifest and nix-hug refuses them"
          else if namesGitDir name || name == ".." || name == "." then
            throw "nix-hug: ${describe} has a forbidden path ${toJSON path} (`.git` in any case or spelling, `.` and `..` are not allowed)"
          else if type == "directory" then go (path + "/") (dir + "/" + name)
          else if type == "regular" || type == "symlink" then [ { inherit path type; } ]
          else throw "nix-hug: ${describe} has ${toJSON path} of unsupported type ${type}"
        ) (attrNames entries);
    in
    go "" root;
}
