# Glob matching without backtracking.
#
# `builtins.match` (std::regex) backtracks: a pattern with k stars takes time
# about n^k on an n-byte path that almost matches (ten stars against 28 bytes:
# 1.1 s on Nix 2.8). A glob is a list of fixed-length segments separated by
# stars, and for that shape the leftmost-greedy rule is exact: the first
# segment must match at the start, the last at the end, and each middle one
# can be taken at its leftmost place after the previous. Every step below is
# one `builtins.match` or `builtins.split` with a fixed-length regex: linear
# in the path.
#
# A segment is { re; len; }: a regex of exactly `len` one-byte atoms (a
# literal, `.`, `[^/]`, a bracket class), without groups.
let
  inherit (builtins) all concatStringsSep elemAt filter genList head isList isString length match split stringLength substring;

  # The text after the first element (match) of a `builtins.split` result, the matches spliced back.
  after = parts: concatStringsSep "" (map (x: if isList x then head x else x) (genList (i: elemAt parts (i + 2)) (length parts - 2)));

  matchesFixed = seg: s: if seg.len == 0 then s == "" else match seg.re s != null;

  # `s` after the leftmost occurrence of `seg`, or null.
  afterLeftmost = seg: s:
    if seg.len == 0 then s
    else let parts = split "(${seg.re})" s; in if length parts < 3 then null else after parts;

  # One token of a regex a glob could have been written as: `\X`, `.*`, `.`, or one byte.
  regexTokens = re: filter isList (split "(\\\\.|\\.\\*|.)" re);
in
rec {
  /** segments → string → bool: whole-string match, stars between the segments. */
  matchSegments = segments: s:
    let
      n = length segments;
      first = head segments;
      last = elemAt segments (n - 1);
      len = stringLength s;
      middles = i: rest:
        if rest == null then false
        else if i >= n - 1 then true
        else middles (i + 1) (afterLeftmost (elemAt segments i) rest);
    in
    if n == 1 then stringLength s == first.len && matchesFixed first s
    else len >= first.len + last.len
      && matchesFixed first (substring 0 first.len s)
      && matchesFixed last (substring (len - last.len) last.len s)
      && middles 1 (substring first.len (len - first.len - last.len) s);

  /**
    segments (lists of element predicates), separated by stars that match any
    run of elements → list → bool. The same rule one level up: path
    components matched against `**`-separated component patterns.
  */
  matchList = segments: xs:
    let
      n = length segments;
      len = length xs;
      fits = seg: at: all (k: (elemAt seg k) (elemAt xs (at + k))) (genList (k: k) (length seg));
      first = head segments;
      last = elemAt segments (n - 1);
      # The index after the leftmost fit of `seg` at `from` or later, ending by `to`; null if none.
      find = seg: from: to:
        let go = at: if at + length seg > to then null else if fits seg at then at + length seg else go (at + 1); in go from;
      middles = i: from:
        if from == null then false
        else if i >= n - 1 then true
        else middles (i + 1) (find (elemAt segments i) from (len - length last));
    in
    if n == 1 then len == length first && fits first 0
    else len >= length first + length last && fits first 0 && fits last (len - length last) && middles 1 (length first);

  /**
    A regex written the way a glob is (`\X` escapes, `.`, `.*`, other bytes
    that are not special) → its segments, split at each `.*`; null for any
    other regex (groups, brackets, alternatives, other repetitions).
  */
  segmentsOfRegex = re:
    let
      toks = map head (regexTokens re);
      bare = t: stringLength t == 1 && match "[][()+?{|^$*\\\\]" t != null;
      atom = t: t == "." || (stringLength t == 2 && match "\\\\[ -~]" t != null) || (stringLength t == 1 && !(bare t));
      step = acc: t:
        if t == ".*" then { done = acc.done ++ [ acc.cur ]; cur = { re = ""; len = 0; }; }
        else acc // { cur = { re = acc.cur.re + t; len = acc.cur.len + 1; }; };
      folded = builtins.foldl' step { done = [ ]; cur = { re = ""; len = 0; }; } toks;
    in
    if concatStringsSep "" toks != re || !(all (t: t == ".*" || atom t) toks) then null
    else folded.done ++ [ folded.cur ];

  /** regex → path → bool, as `builtins.match regex path != null`, without backtracking for glob-shaped regexes with stars. */
  regexMatcher = re:
    let segs = segmentsOfRegex re; in
    if segs != null && length segs >= 3 then matchSegments segs
    else p: match re p != null;
}
