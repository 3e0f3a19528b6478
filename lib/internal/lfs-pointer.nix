# Git LFS pointer files (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md),
# parsed strictly: exactly the three lines the Hub commits.
let
  re = "version https://git-lfs\\.github\\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (0|[1-9][0-9]{0,17})\n";
in
{
  /** Pointer text → { sha256; size; } (size as a decimal string), or null if it is not a pointer. */
  parse = text:
    let m = builtins.match re text; in
    if m == null then null
    else { sha256 = builtins.elemAt m 0; size = builtins.elemAt m 1; };
}
