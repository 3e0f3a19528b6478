# Every file of a checkout, by reading directories only (`builtins.readDir`):
# a file's content is never read here (binary files with NUL bytes abort
# evaluation in Nix 2.8, uncatchably).
let
  inherit (builtins) attrNames concatMap fromJSON match readDir toJSON;

  # Bytes 0x01–0x1F and 0x7F, as a bracket expression.
  controls = fromJSON ''"[\u0001-\u001f\u007f]"'';

  namesGitDir = (import ./names-git-dir.nix).segment;
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
