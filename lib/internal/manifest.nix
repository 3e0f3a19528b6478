# The canonical manifest (docs/design.md, "Two manifests"): every file of the
# repository at `rev`, sorted by the UTF-8 bytes of its path (`lessThan` on
# strings compares bytes, like strcmp), one line each:
#   PATH<TAB>lfs<TAB>SHA256HEX<TAB>SIZE<LF>   for an LFS file
#   PATH<TAB>git<LF>                          for any other file
# fileTreeHash = "sha256-" + base64(sha256(manifest)).
let
  inherit (builtins) all attrNames concatStringsSep elemAt filter fromJSON genList isAttrs isInt
    isPath isString length lessThan map match readFile replaceStrings sort split toJSON;
  base64 = import ./base64.nix;
  namesGitDir = import ./names-git-dir.nix;
  line = f: if f.lfs != null then "${f.path}\tlfs\t${f.lfs.sha256}\t${f.lfs.size}\n" else "${f.path}\tgit\n";

  render = files: concatStringsSep "" (map line (sort (a: b: lessThan a.path b.path) files));

  # A path: no control character (bytes 0x01-0x1F, 0x7F; NUL cannot occur in
  # a Nix string), not absolute, no empty, `.`, `..` or `.git` segment — nor
  # one a case-insensitive file system reads as `.git`.
  pathChar = fromJSON ''"[^\u0001-\u001f\u007f]"'';
  lineRe = "(${pathChar}+)\t(git|lfs\t([0-9a-f]{64})\t(0|[1-9][0-9]{0,17}))";
  badPathRe = "/.*|.*/|.*//.*|(.*/)?(\\.|\\.\\.|\\.git)(/.*)?";

  checkPath = where: path:
    if match badPathRe path != null then
      throw "nix-hug: ${where}: the path ${toJSON path} is absolute, has an empty segment, or a `.`, `..` or `.git` segment; nix-hug refuses such paths"
    else if namesGitDir.anySegment path then
      throw "nix-hug: ${where}: the path ${toJSON path} has a segment that a case-insensitive file system (macOS, Windows) reads as `.git` (`.GIT`, `.git.`, `git~1`, …); nix-hug refuses such paths"
    else path;

  # Sorted by bytes, no path twice: what the canonical text always is.
  checkOrder = where: files:
    let
      n = length files;
      bad = filter (i: !(lessThan (elemAt files (i - 1)).path (elemAt files i).path)) (genList (i: i + 1) (if n > 0 then n - 1 else 0));
    in
    if bad == [ ] then files
    else
      let i = elemAt bad 0; in
      throw "nix-hug: ${where}: ${toJSON (elemAt files i).path} comes after ${toJSON (elemAt files (i - 1)).path}; a manifest lists every path once, sorted by bytes (write it again with `nix-hug fetch --vendor`)";

  fromText = where: text:
    let
      pieces = filter isString (split "\n" text);
      count = length pieces - 1;
      parseLine = i:
        let
          l = elemAt pieces i;
          m = match lineRe l;
        in
        if m == null then
          throw "nix-hug: ${where}, line ${toString (i + 1)}: ${toJSON l} is neither `PATH<TAB>git` nor `PATH<TAB>lfs<TAB>SHA256<TAB>SIZE`"
        else {
          path = checkPath where (elemAt m 0);
          lfs = if elemAt m 2 == null then null else { sha256 = elemAt m 2; size = elemAt m 3; };
        };
    in
    if text != "" && elemAt pieces count != "" then
      throw "nix-hug: ${where}: the text must end with a newline (each line ends with one)"
    else checkOrder where (genList parseLine count);

  fromEntry = where: path: value:
    if value == "git" then { path = checkPath where path; lfs = null; }
    else if isAttrs value && attrNames value == [ "sha256" "size" ]
      && isString value.sha256 && match "[0-9a-f]{64}" value.sha256 != null
      && ((isInt value.size && value.size >= 0) || (isString value.size && match "0|[1-9][0-9]{0,17}" value.size != null)) then
      { path = checkPath where path; lfs = { inherit (value) sha256; size = toString value.size; }; }
    else
      throw "nix-hug: ${where}: the entry ${toJSON path} must be \"git\" or { sha256 = \"<64 hex>\"; size = <bytes>; }";
in
{
  inherit render;

  /** Manifest text → its `fileTreeHash`. */
  hash = base64.sriOfString;

  /**
    The `manifest` argument of fetchModel/fetchDataset, in any of its forms:
      a path (or a string naming one) of a vendored file holding the text;
      the text itself (a string with a newline);
      an attribute set { "config.json" = "git"; "model.safetensors" = { sha256 = "…"; size = 123; }; }.
    Returns { text; files = [ { path; lfs = null | { sha256; size; }; } ]; origin; }
    with the files in manifest order; throws on anything malformed.
  */
  fromArgument = { value, describe }:
    let
      # Not `match ".*\n.*"`: std::regex recurses per byte and overflows the stack on a large text.
      isText = isString value && (value == "" || replaceStrings [ "\n" ] [ "" ] value != value);
      origin =
        if isPath value || (isString value && !isText) then "the manifest file ${toString value}"
        else if isAttrs value then "the inline manifest"
        else "the manifest text";
      where = "${origin} of ${describe}";
    in
    if isAttrs value then
      let files = map (p: fromEntry where p value.${p}) (attrNames value); in
      { text = render files; inherit files origin; }
    else if isPath value || isString value then
      let text = if isText then value else readFile value; in
      { inherit text origin; files = fromText where text; }
    else
      throw "nix-hug: the manifest of ${describe} must be a path to a vendored manifest file, the manifest text, or an attribute set of files (got ${builtins.typeOf value}); `nix-hug fetch` prints it";
}
