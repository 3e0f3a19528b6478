# Percent-encoding of repository paths for `resolve` URLs, as Python's
# `urllib.parse.quote(path)` does it (what huggingface_hub sends): every byte
# except A-Z a-z 0-9 `_.-~` and the `/` between segments becomes `%XX`.
let
  inherit (builtins) concatStringsSep match;
  bytes = import ./bytes.nix;
  upper = s: builtins.replaceStrings [ "a" "b" "c" "d" "e" "f" ] [ "A" "B" "C" "D" "E" "F" ] s;
  unreserved = "[A-Za-z0-9_.~/-]";
  encodeByte = c:
    if match unreserved c != null then c
    else if bytes.ord ? ${c} then "%" + upper (bytes.hex2 bytes.ord.${c})
    else throw "nix-hug: cannot percent-encode a byte of a path that is not valid UTF-8";
in
{
  /** Path → URL path (most paths need no encoding: checked with one regex first). */
  encodePath = path:
    if match "${unreserved}*" path != null then path
    else concatStringsSep "" (map encodeByte (bytes.toBytes path));
}
