# Repository URLs → repository identity (the forms in docs/cli.md, "Naming a repository").
#   models:   org/repo, hf:org/repo, hf://org/repo, https://huggingface.co/org/repo[/tree/REF/...]
#   datasets: datasets/org/name, hf-datasets:org/name, hf://datasets/org/name, https://huggingface.co/datasets/org/name
#   Spaces:   spaces/org/name, hf-spaces:org/name, hf://spaces/org/name, https://huggingface.co/spaces/org/name
# URLs on the `endpoint` host are accepted like huggingface.co ones. A bare
# `org/name` means the kind of the function that was called.
let
  inherit (builtins) elem filter head length match substring stringLength tail toJSON;

  hasPrefix = p: s: substring 0 (stringLength p) s == p;
  dropPrefix = p: s: substring (stringLength p) (-1) s;
  split = sep: s: filter builtins.isString (builtins.split sep s);

  stripTrailingSlashes = s:
    if s != "" && substring (stringLength s - 1) 1 s == "/" then stripTrailingSlashes (substring 0 (stringLength s - 1) s) else s;

  hubHosts = [ "https://huggingface.co/" "http://huggingface.co/" "https://www.huggingface.co/" "https://hf.co/" ];

  # Hub names: letters, digits, `_ . -`, no `--` or `..`, not starting or ending with `.` or `-`.
  validName = n:
    match "[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?" n != null
    && match ".*(--|\\.\\.).*" n == null;

  # Page suffixes of a repository URL that name a revision or a file: ignored here.
  pageSuffixes = [ "tree" "blob" "resolve" ];

  # Per kind: the function that fetches it, its folder in URLs and prefixes.
  kinds = {
    model = { fn = "fetchModel"; folder = ""; word = "a model"; };
    dataset = { fn = "fetchDataset"; folder = "datasets/"; word = "a dataset"; };
    space = { fn = "fetchSpace"; folder = "spaces/"; word = "a Space"; };
  };

  # `PREFIX:org/name` forms and the type folders of paths, web URLs and hf:// URIs.
  schemePrefixes = [ { p = "hf-datasets:"; k = "dataset"; } { p = "hf-spaces:"; k = "space"; } { p = "hf:"; k = "model"; } ];
  typeFolders = [ { p = "datasets/"; k = "dataset"; } { p = "spaces/"; k = "space"; } ];

  # The first entry of `table` whose prefix `s` starts with, as { k; rest; }, or null.
  classify = table: s:
    let found = filter (e: hasPrefix e.p s) table; in
    if found == [ ] then null else { k = (head found).k; rest = dropPrefix (head found).p s; };

  usage = ''expected org/name, hf:org/name, hf://org/name or https://huggingface.co/org/name (models); datasets/org/name, hf-datasets:org/name, hf://datasets/org/name (datasets); spaces/org/name, hf-spaces:org/name, hf://spaces/org/name (Spaces)'';
in
{
  inherit stripTrailingSlashes kinds;

  /**
    Parse a repository URL.
    kind: "model" | "dataset" | "space" (the function called); endpoint: without trailing `/`.
    Returns { org, name, id, isDataset, isSpace, kind, urlPrefix } where urlPrefix is
    the repository's URL path on the Hub ("org/name", "datasets/org/name" or "spaces/org/name").
  */
  parse = { kind, endpoint, url }:
    let
      fnName = kinds.${kind}.fn;
      fail = why: throw "nix-hug ${fnName}: url ${toJSON url} ${why}";
      hosts = hubHosts ++ [ (endpoint + "/") ];
      matchedHost = filter (h: hasPrefix h url) hosts;
      isWeb = matchedHost != [ ];
      isUri = hasPrefix "hf://" url;
      uriBody = dropPrefix "hf://" url;
      # (explicit kind or null, rest of the URL)
      classified =
        if isUri then
          (if match "(models|buckets)/.*" uriBody != null then fail "uses an hf:// type nix-hug does not fetch; ${usage}"
           else if match "[^@]*@.*" uriBody != null then fail "names a revision after `@`: give the commit as `rev` instead"
           else let c = classify typeFolders uriBody; in if c == null then { k = "model"; rest = uriBody; } else c)
        else if classify schemePrefixes url != null then classify schemePrefixes url
        else if isWeb then
          let p = dropPrefix (head matchedHost) url; c = classify typeFolders p; in
          if c == null then { k = "model"; rest = p; } else c
        else
          let c = classify typeFolders url; in if c == null then { k = null; rest = url; } else c;
      parts = split "/" (if isWeb || isUri then stripTrailingSlashes classified.rest else classified.rest);
      extra = tail (tail parts);
      org = head parts;
      name = head (tail parts);
      effective = if classified.k == null then kind else classified.k;
    in
    if url == "" then fail "is empty; ${usage}"
    else if match ".*[[:space:]\"'`$\\\\].*" url != null then fail "contains spaces, quotes, `$` or `\\`; ${usage}"
    else if length parts < 2 then fail "has no org/name; ${usage}"
    else if extra != [ ] && !(isWeb && elem (head extra) pageSuffixes) then fail "has extra path segments; ${usage}"
    else if !(validName org && validName name) then fail "is not a valid org/name (letters, digits, `_`, `.`, `-`; no `..` or `--`); ${usage}"
    else if effective != kind then fail "names ${kinds.${effective}.word}: use ${kinds.${effective}.fn}"
    else rec {
      inherit org name kind;
      id = "${org}/${name}";
      isDataset = kind == "dataset";
      isSpace = kind == "space";
      urlPrefix = kinds.${kind}.folder + id;
    };
}
