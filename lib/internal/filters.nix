# File selection (docs/library.md, `filters`):
#   null or { }                 every file
#   { include = [ regex ]; }    LFS files matching one of them (+ every non-LFS file)
#   { exclude = [ regex ]; }    LFS files matching none of them (+ every non-LFS file)
#   { include; exclude; }       included minus excluded
#   { files = [ path ]; }       exactly these paths, LFS or not
#   file: bool                  a predicate over every file: file.path, and
#                               file.lfs = { sha256; size; } (size an integer) or null
# Regexes are POSIX extended, matched against the whole path (`builtins.match`).
# Those shaped like globs (`.*\.bin`, what `nix-hug fetch --include` prints)
# are matched without backtracking (glob-match.nix): ten stars cost what one does.
let
  inherit (builtins) any attrNames filter isAttrs isBool isFunction isList isString length listToAttrs match toJSON concatStringsSep all;

  # What a predicate sees: the path, and the LFS facts with the size as a number.
  view = file: {
    inherit (file) path;
    lfs = if file.lfs == null then null else { inherit (file.lfs) sha256; size = builtins.fromJSON file.lfs.size; };
  };

  predicateSelector = { predicate, describe }: file:
    let answer = predicate (view file); in
    if isBool answer then answer
    else throw "nix-hug: the filters function for ${describe} returned ${builtins.typeOf answer} for ${toJSON file.path}; it must return true or false (e.g. file: file.lfs == null || file.lfs.size < 1000000000)";
  glob = import ./glob-match.nix;
in
{
  /** Returns file → bool; throws on malformed filters or unknown `files` entries. */
  selector = { filters, files, describe }:
    if isFunction filters then predicateSelector { predicate = filters; inherit describe; }
    else
    let
      f = if filters == null then { } else filters;
      keys = if isAttrs f then attrNames f else [ ];
      unknown = filter (k: k != "include" && k != "exclude" && k != "files") keys;
      checkList = k:
        if !(f ? ${k}) then true
        else if isList f.${k} && all isString f.${k} then true
        else throw "nix-hug: filters.${k} for ${describe} must be a list of strings";
      existing = listToAttrs (map (x: { name = x.path; value = true; }) files);
      missing = if f ? files then filter (p: !(existing ? ${p})) f.files else [ ];
      wanted = if f ? files then listToAttrs (map (p: { name = p; value = true; }) f.files) else { };
      matchesAny = res: let matchers = map glob.regexMatcher res; in path: any (m: m path) matchers;
      included = matchesAny (f.include or [ ]);
      excluded = matchesAny (f.exclude or [ ]);
    in
    if !(isAttrs f) then throw "nix-hug: filters for ${describe} must be an attribute set like { include = [ \".*\\\\.safetensors\" ]; }, a function file: bool, or null"
    else if unknown != [ ] then throw "nix-hug: unknown filters key(s) ${toJSON unknown} for ${describe}: use include, exclude or files"
    else if f ? files && (f ? include || f ? exclude) then throw "nix-hug: filters for ${describe}: `files` cannot be combined with `include`/`exclude`"
    else if !(checkList "include" && checkList "exclude" && checkList "files") then throw "unreachable"
    else if missing != [ ] then
      throw "nix-hug: filters.files for ${describe} lists ${toString (length missing)} path(s) that do not exist at this revision: ${concatStringsSep ", " (map toJSON missing)} (run `nix-hug ls` to see the files)"
    else if f ? files then file: wanted ? ${file.path}
    else file:
      file.lfs == null
      || ((!(f ? include) || included file.path)
          && !(f ? exclude && excluded file.path));
}
