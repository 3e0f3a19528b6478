# File selection (docs/library.md, `filters`):
#   null or { }                 every file
#   { include = [ regex ]; }    LFS files matching one of them (+ every non-LFS file)
#   { exclude = [ regex ]; }    LFS files matching none of them (+ every non-LFS file)
#   { include; exclude; }       included minus excluded
#   { files = [ path ]; }       exactly these paths, LFS or not
# Regexes are POSIX extended, matched against the whole path (`builtins.match`).
let
  inherit (builtins) any attrNames filter isAttrs isList isString length listToAttrs match toJSON concatStringsSep all;
in
{
  /** Returns file → bool; throws on malformed filters or unknown `files` entries. */
  selector = { filters, files, describe }:
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
      matchesAny = res: path: any (re: match re path != null) res;
    in
    if !(isAttrs f) then throw "nix-hug: filters for ${describe} must be an attribute set like { include = [ \".*\\\\.safetensors\" ]; }, or null"
    else if unknown != [ ] then throw "nix-hug: unknown filters key(s) ${toJSON unknown} for ${describe}: use include, exclude or files"
    else if f ? files && (f ? include || f ? exclude) then throw "nix-hug: filters for ${describe}: `files` cannot be combined with `include`/`exclude`"
    else if !(checkList "include" && checkList "exclude" && checkList "files") then throw "unreachable"
    else if missing != [ ] then
      throw "nix-hug: filters.files for ${describe} lists ${toString (length missing)} path(s) that do not exist at this revision: ${concatStringsSep ", " (map toJSON missing)} (run `nix-hug ls` to see the files)"
    else if f ? files then file: wanted ? ${file.path}
    else file:
      file.lfs == null
      || ((!(f ? include) || matchesAny f.include file.path)
          && !(f ? exclude && matchesAny f.exclude file.path));
}
