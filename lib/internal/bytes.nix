# Bytes as Nix strings. Nix strings are byte strings and `builtins.substring`
# counts bytes, but Nix has no `chr`/`ord`: we build them from JSON escapes.
# Every byte that can occur in valid UTF-8 (1–0x7F, 0x80–0xBF, 0xC2–0xF4) is
# taken out of the UTF-8 encoding of a suitable code point.
let
  inherit (builtins) fromJSON genList listToAttrs substring stringLength;

  hexDigits = "0123456789abcdef";

  # 0–255 → two lowercase hex digits.
  hex2 = n: substring (n / 16) 1 hexDigits + substring (n - n / 16 * 16) 1 hexDigits;

  # A code point ≤ 0xFFFF as a JSON string literal body, e.g. "\u00e9".
  jsonEscape = cp: "\\u" + hex2 (cp / 256) + hex2 (cp - cp / 256 * 256);
  utf8 = cp: fromJSON ''"${jsonEscape cp}"'';

  # Four-byte sequences need a surrogate pair in JSON.
  utf8Astral = cp:
    let v = cp - 65536; hi = 55296 + v / 1024; lo = 56320 + (v - v / 1024 * 1024);
    in fromJSON ''"${jsonEscape hi}${jsonEscape lo}"'';

  # The single-byte string for byte n, or null for bytes no valid UTF-8 text contains.
  byteString = n:
    if n >= 1 && n < 128 then utf8 n
    else if n >= 128 && n < 192 then substring 1 1 (utf8 n) # continuation byte: 2nd byte of U+0080..U+00BF
    else if n >= 194 && n < 224 then substring 0 1 (utf8 ((n - 192) * 64))
    else if n >= 224 && n < 240 then substring 0 1 (utf8 ((n - 224) * 4096 + (if n == 224 then 2048 else 0)))
    else if n >= 240 && n < 245 then substring 0 1 (utf8Astral ((n - 240) * 262144 + (if n == 240 then 65536 else 0)))
    else null;

  known = builtins.filter (n: byteString n != null) (genList (n: n) 256);
in
rec {
  inherit hex2 hexDigits;

  /** Single-byte string → its value 0–255 (attrset; bytes 0, 0xC0, 0xC1, 0xF5–0xFF are absent). */
  ord = listToAttrs (map (n: { name = byteString n; value = n; }) known);

  /** 0–255 → single-byte string, or null (see above). */
  chr = byteString;

  /** The bytes of a string as a list of single-byte strings. */
  toBytes = s: genList (i: substring i 1 s) (stringLength s);

  /** Hex digit (either case) → 0–15. */
  hexValue = listToAttrs (genList (i: { name = substring i 1 hexDigits; value = i; }) 16)
    // listToAttrs (genList (i: { name = substring i 1 "ABCDEF"; value = i + 10; }) 6);
}
