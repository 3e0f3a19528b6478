# `.git` as a case-insensitive file system (macOS, Windows) reads a name: any
# case, NTFS's trailing dots and spaces and its short name `git~1`, HFS+'s
# ignored code points. Copied out to such a system, a folder of that name is a
# git directory to every git run there.
let
  inherit (builtins) any filter fromJSON isString map match replaceStrings split;
  hfsIgnored = map (c: fromJSON ''"\u${c}"'') [ "200c" "200d" "200e" "200f" "202a" "202b" "202c" "202d" "202e" "206a" "206b" "206c" "206d" "206e" "206f" "feff" ];
  none = map (_: "") hfsIgnored;
  visible = replaceStrings hfsIgnored none;
  isGitDir = n: match "\\.[gG][iI][tT][. ]*" n != null || match "[gG][iI][tT]~1" n != null;
in
{
  /** Whether one path segment is `.git` to such a file system. */
  segment = name: isGitDir (visible name);

  /**
    Whether any segment of a `/`-separated path is. Linear in the path; for
    large manifests, ASCII paths skip the code point removal and only paths
    that hold `git` in some case are split.
  */
  anySegment = path:
    let p = if match "[ -~]*" path != null then path else visible path; in
    match ".*[gG][iI][tT].*" p != null && any isGitDir (filter isString (split "/" p));
}
