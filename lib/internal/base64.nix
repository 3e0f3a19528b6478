# Hex → base64, for SRI hashes (`sha256-<base64>`): Nix 2.8 has no
# `builtins.convertHash`, and `builtins.hashString` only gives hex.
let
  inherit (builtins) foldl' genList stringLength substring concatStringsSep;
  inherit (import ./bytes.nix) hexValue;

  alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  # Value of a hex string (at most 6 digits here, so it fits easily).
  hexToInt = h: foldl' (acc: i: acc * 16 + hexValue.${substring i 1 h}) 0 (genList (i: i) (stringLength h));

  pow64 = [ 262144 4096 64 1 ];
  # 24-bit integer → 4 base64 characters.
  encode24 = v: concatStringsSep "" (map (p: substring (v / p - v / p / 64 * 64) 1 alphabet) pow64);

  hexToBase64 = hex:
    let
      len = stringLength hex;
      nBytes = len / 2;
      full = nBytes / 3;
      rest = nBytes - full * 3; # 0, 1 or 2 trailing bytes
      groups = genList (g: encode24 (hexToInt (substring (g * 6) 6 hex))) full;
      # The tail, padded with zero bits to 24, keeps rest+1 characters, then '=' padding.
      tailValue = hexToInt (substring (full * 6) (rest * 2) hex) * (if rest == 1 then 65536 else 256);
      tail =
        if rest == 0 then ""
        else substring 0 (rest + 1) (encode24 tailValue) + (if rest == 1 then "==" else "=");
    in
    if len != nBytes * 2 || builtins.match "[0-9a-fA-F]*" hex == null
    then throw "nix-hug internal error: not a hex string: ${hex}"
    else concatStringsSep "" groups + tail;
in
{
  inherit hexToBase64;

  /** `sha256-<base64>` (SRI) of a 64-digit hex sha256. */
  sriFromHex = hex: "sha256-" + hexToBase64 hex;

  /** SRI sha256 of a string. */
  sriOfString = s: "sha256-" + hexToBase64 (builtins.hashString "sha256" s);
}
