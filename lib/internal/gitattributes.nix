# Which files `.gitattributes` sends to LFS (`filter=lfs`), with git's rules
# (gitattributes(5), wildmatch with WM_PATHNAME):
# - a pattern without `/` matches the basename at any depth below its file's
#   folder; with a leading or middle `/` it is anchored to that folder;
# - `*` and `?` do not cross `/`; `**/`, `/**/`, trailing `/**` span folders;
#   `[...]` classes (`!`/`^` negation, ranges, `[:space:]`…; never `/`);
#   `\` escapes; a pattern ending in `/` matches folders only (never a file);
#   `"..."` C-quoted patterns; `!pattern` is ignored (as git does);
# - within a file later lines win; deeper .gitattributes win over shallower;
#   `-filter`, `!filter` or `filter=other` mean "not LFS".
# Macros (`[attr]name ...`) are not expanded.
# Patterns become tokens: one-byte atoms (`?` → `[^/]`, classes, literals),
# `*` (`[^/]*`), `/`, `**/` (any folders) and a trailing `**` (anything).
# A pattern whose regex cannot backtrack far — at most one `*` per path
# component and at most one run across folders — is matched with
# `builtins.match` (grouped with its neighbours into one alternation); any
# other (`*a*b*`, `**/x/**/y`) with glob-match.nix, which does not backtrack:
# the patterns come from the repository, and ten stars against a 28-byte
# name took `builtins.match` 1.1 s.
let
  inherit (builtins) all any attrNames concatStringsSep elem elemAt filter foldl' genList head isString length
    listToAttrs match replaceStrings sort split stringLength substring tail;
  bytes = import ./bytes.nix;
  globMatch = import ./glob-match.nix;

  isSpecialOutside = c: elem c [ "." "[" "]" "(" ")" "*" "+" "?" "{" "}" "|" "^" "$" "\\" ];
  escapeOutside = c: if isSpecialOutside c then "\\" + c else c;

  posixClasses = [ "alnum" "alpha" "blank" "cntrl" "digit" "graph" "lower" "print" "punct" "space" "upper" "xdigit" ];

  # A range or single byte inside a bracket expression, as safe regex text.
  bracketUnsafe = c: elem c [ "]" "[" "-" "\\" "^" "/" ];
  rangeItems = lo: hi:
    let
      lv = bytes.ord.${lo} or null;
      hv = bytes.ord.${hi} or null;
      plain = c: c != null && !(bracketUnsafe c) && bytes.ord.${c} < 128;
    in
    if lv == null || hv == null || lv > hv then [ ]
    else if plain lo && plain hi && !(lv <= 47 && hv >= 47) then [ "${lo}-${hi}" ]
    else filter (c: c != null && c != "/") (genList (i: bytes.chr (lv + i)) (hv - lv + 1));

  # Items (single bytes, ranges "a-z", classes "[:alpha:]") → a bracket
  # expression that never matches `/`. `]` goes first, `[` and `-` last, `\`
  # doubled (libstdc++ reads it either way), `^` never first.
  renderBracket = negated: items:
    let
      singles = filter (i: stringLength i == 1) items;
      others = filter (i: stringLength i != 1) items;
      norm = filter (c: c != "]" && c != "[" && c != "-" && c != "^" && c != "\\" && c != "/") singles;
      has = c: elem c singles;
      body =
        (if has "]" then "]" else "")
        + concatStringsSep "" (norm ++ others)
        + (if has "\\" then "\\\\" else "")
        + (if has "^" then "^" else "")
        + (if has "[" then "[" else "")
        + (if has "-" then "-" else "");
    in
    if negated then "[^/" + body + "]"
    else if body == "" || body == "^" then (if has "^" then "\\^" else null)
    else "[" + body + "]";

  # Tokens: { atom = "<one-byte regex>"; }, "*", "/", "**/" (any folders, `(.*/)?`), "**" (anything, `.*`).
  atom = re: { atom = re; };
  tokenRegex = t: if t == "*" then "[^/]*" else if t == "/" then "/" else if t == "**/" then "(.*/)?" else if t == "**" then ".*" else t.atom;
  toRegex = tokens: concatStringsSep "" (map tokenRegex tokens);

  # Glob → tokens, or null when the glob can never match (unterminated
  # class, trailing `\`, unknown [:class:], an empty class).
  globToTokens = glob:
    let
      bs = bytes.toBytes glob;
      n = length bs;
      at = i: if i < n then elemAt bs i else "";
      skipStars = j: if at j == "*" then skipStars (j + 1) else j;

      # Parse a class starting after `[`: { regex, next } or null.
      parseClass = start:
        let
          negated = at start == "!" || at start == "^";
          first = if negated then start + 1 else start;
          loop = i: items: isFirst:
            let c = at i; in
            if i >= n then null
            else if c == "]" && !isFirst then { inherit items; next = i + 1; }
            else if c == "[" && at (i + 1) == ":" then
              let
                rest = substring (i + 2) (-1) glob;
                m = match "([a-z]+):].*" rest;
              in
              if m == null || !(elem (head m) posixClasses) then null
              else loop (i + 4 + stringLength (head m)) (items ++ [ "[:${head m}:]" ]) false
            else
              let
                lit = if c == "\\" then at (i + 1) else c;
                after = if c == "\\" then i + 2 else i + 1;
              in
              if lit == "" then null
              else if at after == "-" && at (after + 1) != "]" && at (after + 1) != "" then
                let
                  hiRaw = at (after + 1);
                  hi = if hiRaw == "\\" then at (after + 2) else hiRaw;
                  next = if hiRaw == "\\" then after + 3 else after + 2;
                in
                if hi == "" then null else loop next (items ++ rangeItems lit hi) false
              else loop after (items ++ [ lit ]) false;
          r = loop first [ ] true;
        in
        if r == null then null
        else
          let re = renderBracket negated r.items; in
          if re == null then null # empty class: the pattern matches nothing
          else { regex = re; inherit (r) next; };

      go = i: acc:
        let c = at i; in
        if i >= n then acc
        else if c == "\\" then (if i + 1 >= n then null else go (i + 2) (acc ++ [ (literal (at (i + 1))) ]))
        else if c == "*" && at (i + 1) == "*" then
          let
            j = skipStars i;
            atBoundaryBefore = i == 0 || at (i - 1) == "/";
          in
          if atBoundaryBefore && j >= n then acc ++ [ "**" ]
          else if atBoundaryBefore && at j == "/" then go (j + 1) (acc ++ [ "**/" ])
          else go j (acc ++ [ "*" ])
        else if c == "*" then go (i + 1) (acc ++ [ "*" ])
        else if c == "?" then go (i + 1) (acc ++ [ (atom "[^/]") ])
        else if c == "[" then
          let cls = parseClass (i + 1); in
          if cls == null then null else go cls.next (acc ++ [ (atom cls.regex) ])
        else go (i + 1) (acc ++ [ (literal c) ]);
    in
    go 0 [ ];

  literal = c: if c == "/" then "/" else atom (escapeOutside c);

  # Glob → regex text (null when it never matches), as `builtins.match` would take it.
  globToRegex = glob: let t = globToTokens glob; in if t == null then null else toRegex t;

  hasGlobChars = p: match ".*[][*?\\\\].*" p != null;
  escapeLiteral = p: concatStringsSep "" (map escapeOutside (bytes.toBytes p));
  literalTokens = p: map literal (bytes.toBytes p);

  # The tokens between `/`s (a `**/` starts a group of its own).
  components = tokens:
    let
      step = acc: t:
        if t == "/" then { done = acc.done ++ [ acc.cur ]; cur = [ ]; }
        else acc // { cur = acc.cur ++ [ t ]; };
      r = foldl' step { done = [ ]; cur = [ ]; } tokens;
    in
    r.done ++ [ r.cur ];

  # Whether `builtins.match` of these tokens' regex stays fast on any path: at most one run
  # across folders (`**/`, `**`), and at most one `*` in each component — or, in the last
  # one, `*` at both ends only (`*tfevents*`: the trailing `*` always reaches the end).
  backtracksLittle = tokens:
    let
      comps = components tokens;
      n = length comps;
      stars = c: length (filter (t: t == "*") c);
      bothEnds = c: let body = filter (t: t != "**/") c; in
        stars body == 2 && head body == "*" && elemAt body (length body - 1) == "*";
    in
    length (filter (t: t == "**/" || t == "**") tokens) <= 1
    && all (i: let c = elemAt comps i; in stars c <= 1 || (i == n - 1 && bothEnds c)) (genList (i: i) n);

  # A component pattern (atoms and `*`) → component → bool, without backtracking.
  componentMatcher = tokens:
    let
      step = acc: t:
        if t == "*" then { done = acc.done ++ [ acc.cur ]; cur = { re = ""; len = 0; }; }
        else acc // { cur = { re = acc.cur.re + t.atom; len = acc.cur.len + 1; }; };
      r = foldl' step { done = [ ]; cur = { re = ""; len = 0; }; } tokens;
    in
    globMatch.matchSegments (r.done ++ [ r.cur ]);

  # Tokens → (list of path components → bool), without backtracking: `**/` and `**` are stars
  # over components (`**` at least one), every other component is matched on its own.
  pathMatcher = tokens:
    let
      anyComponent = _: true;
      step = acc: group:
        let
          starts = group != [ ] && head group == "**/";
          acc' = if starts then { done = acc.done ++ [ acc.cur ]; cur = [ ]; } else acc;
          rest = if starts then tail group else group;
        in
        # A trailing `**`: one component, then any more.
        if rest == [ "**" ] then { done = acc'.done ++ [ (acc'.cur ++ [ anyComponent ]) ]; cur = [ ]; }
        else acc' // { cur = acc'.cur ++ [ (componentMatcher rest) ]; };
      r = foldl' step { done = [ ]; cur = [ ]; } (components tokens);
    in
    globMatch.matchList (r.done ++ [ r.cur ]);

  pathComponents = p: filter isString (split "/" p);

  # C-style unquoting of a `"..."` pattern (git's unquote_c_style).
  unquote = s:
    let
      bs = bytes.toBytes s;
      n = length bs;
      at = i: if i < n then elemAt bs i else "";
      # Nix has no octal or \a \b \f \v escapes: take those bytes from the table.
      simple = { "\\" = "\\"; "\"" = "\""; a = bytes.chr 7; b = bytes.chr 8; f = bytes.chr 12; n = "\n"; r = "\r"; t = "\t"; v = bytes.chr 11; };
      isOct = c: match "[0-7]" c != null;
      go = i: acc:
        let c = at i; in
        if i >= n then null # no closing quote
        else if c == "\"" then { pattern = acc; rest = substring (i + 1) (-1) s; }
        else if c == "\\" then
          let d = at (i + 1); in
          if simple ? ${d} then go (i + 2) (acc + simple.${d})
          else if isOct d && isOct (at (i + 2)) && isOct (at (i + 3)) then
            let v = bytes.hexValue.${d} * 64 + bytes.hexValue.${at (i + 2)} * 8 + bytes.hexValue.${at (i + 3)};
                ch = bytes.chr v;
            in if ch == null then null else go (i + 4) (acc + ch)
          else null
        else go (i + 1) (acc + c);
    in
    go 1 "";

  blank = "[ \t\r\n]";
  splitBlanks = s: filter (t: builtins.isString t && t != "") (builtins.split "${blank}+" s);

  # One line → { pattern, attrs } or null (blank, comment, macro, malformed).
  parseLine = line:
    let
      trimmed = head (match "${blank}*(.*)" line);
      quoted = substring 0 1 trimmed == "\"";
      uq = unquote trimmed;
      toks = splitBlanks trimmed;
    in
    if trimmed == "" || substring 0 1 trimmed == "#" then null
    else if quoted then (if uq == null then null else { pattern = uq.pattern; attrs = splitBlanks uq.rest; })
    else if substring 0 6 trimmed == "[attr]" then null
    else { pattern = head toks; attrs = tail toks; };

  # The line's verdict on `filter`: true (lfs), false (anything else), null (not mentioned).
  filterVerdict = attrs:
    foldl' (acc: a:
      if a == "filter=lfs" then true
      else if a == "filter" || a == "-filter" || a == "!filter" || substring 0 7 a == "filter=" then false
      else acc) null attrs;

  # A rule from a line of the .gitattributes in folder `dir` ("" or "a/b/").
  # Returns { lfs; full ? literal path; base ? literal basename (root file only);
  # regex ? (prefix included); match ? path → bool (complex patterns) } or null.
  mkRule = dir: line:
    let
      parsed = parseLine line;
      verdict = filterVerdict parsed.attrs;
      pat0 = parsed.pattern;
      anchored = match ".*/.*" pat0 != null;
      pat = if substring 0 1 pat0 == "/" then substring 1 (-1) pat0 else pat0;
      isLiteral = !(hasGlobChars pat);
      tokens0 = if isLiteral then literalTokens pat else globToTokens pat;
      # Not anchored: the pattern matches the basename, in any folder below `dir`.
      tokens = if anchored then tokens0 else [ "**/" ] ++ tokens0;
      prefix = escapeLiteral dir;
      dirLength = stringLength dir;
      matchPath = pathMatcher tokens;
    in
    if parsed == null || verdict == null || pat0 == "" then null
    else if substring 0 1 pat0 == "!" then null
    else if substring (stringLength pat0 - 1) 1 pat0 == "/" then null # folders only
    else if anchored && isLiteral then { lfs = verdict; full = dir + pat; }
    else if !anchored && isLiteral && dir == "" then { lfs = verdict; base = pat; }
    else if tokens0 == null then null
    else if backtracksLittle tokens then { lfs = verdict; regex = prefix + toRegex tokens; }
    else {
      lfs = verdict;
      match = path: substring 0 dirLength path == dir && matchPath (pathComponents (substring dirLength (-1) path));
    };

  baseName = p: let m = match ".*/([^/]*)" p; in if m == null then p else head m;

  # Consecutive rules with the same verdict become one group: literal lookups
  # plus one alternation regex, so a path costs one regex match per group.
  groupRules = rules:
    let
      step = groups: r:
        if groups != [ ] && (head groups).lfs == r.lfs
        then [ ((head groups) // { rules = (head groups).rules ++ [ r ]; }) ] ++ tail groups
        else [ { inherit (r) lfs; rules = [ r ]; } ] ++ groups;
      finish = g: {
        inherit (g) lfs;
        full = listToAttrs (map (r: { name = r.full; value = true; }) (filter (r: r ? full) g.rules));
        base = listToAttrs (map (r: { name = r.base; value = true; }) (filter (r: r ? base) g.rules));
        regex =
          let rs = map (r: r.regex) (filter (r: r ? regex) g.rules); in
          if rs == [ ] then null else concatStringsSep "|" (map (r: "(${r})") rs);
        matchers = map (r: r.match) (filter (r: r ? match) g.rules);
      };
    in
    map finish (builtins.foldl' step [ ] rules);
in
rec {
  inherit globToRegex unquote;

  /** Whether a glob's regex is matched directly (false: without backtracking, by glob-match.nix). */
  isSimple = glob: let t = globToTokens glob; in t != null && backtracksLittle (if match ".*/.*" glob != null then t else [ "**/" ] ++ t);

  /**
    Build the matcher.
    files: [ { dir = "" | "a/b/"; text = contents of dir/.gitattributes; } ]
    Returns path → bool (true when git would apply `filter=lfs`).
  */
  lfsMatcher = files:
    let
      depth = d: length (filter (c: c == "/") (bytes.toBytes d));
      byDepth = sort (a: b: depth a.dir > depth b.dir) files;
      linesOf = f: filter builtins.isString (builtins.split "\n" f.text);
      # Highest precedence first: deepest file, last line first.
      rules = builtins.concatMap (f:
        filter (r: r != null) (map (mkRule f.dir) (reverseList (linesOf f)))) byDepth;
      # groupRules folds left and prepends, so feed it lowest precedence first.
      groups = groupRules (reverseList rules);
      matchGroup = g: path:
        g.full ? ${path} || g.base ? ${baseName path} || (g.regex != null && match g.regex path != null)
        || any (m: m path) g.matchers;
      decide = gs: path:
        if gs == [ ] then false
        else if matchGroup (head gs) path then (head gs).lfs
        else decide (tail gs) path;
    in
    path: decide groups path;

  reverseList = l: let n = length l; in genList (i: elemAt l (n - 1 - i)) n;
}
