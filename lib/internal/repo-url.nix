# Repository URLs → repository identity (the forms in docs/cli.md, "Naming a repository").
#   models:   org/repo, hf:org/repo, https://huggingface.co/org/repo[/tree/REF/...]
#   datasets: datasets/org/name, hf-datasets:org/name, https://huggingface.co/datasets/org/name
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

  usage = ''expected org/name, hf:org/name, https://huggingface.co/org/name (models) or datasets/org/name, hf-datasets:org/name, https://huggingface.co/datasets/org/name (datasets)'';
in
{
  inherit stripTrailingSlashes;

  /**
    Parse a repository URL.
    kind: "model" | "dataset" (the function called); endpoint: without trailing `/`.
    Returns { org, name, id, isDataset, kind, urlPrefix } where urlPrefix is
    the repository's URL path on the Hub ("org/name" or "datasets/org/name").
  */
  parse = { kind, endpoint, url }:
    let
      fnName = if kind == "dataset" then "fetchDataset" else "fetchModel";
      fail = why: throw "nix-hug ${fnName}: url ${toJSON url} ${why}";
      hosts = hubHosts ++ [ (endpoint + "/") ];
      matchedHost = filter (h: hasPrefix h url) hosts;
      isWeb = matchedHost != [ ];
      # (explicit kind or null, rest of the URL)
      classified =
        if hasPrefix "hf-datasets:" url then { k = "dataset"; rest = dropPrefix "hf-datasets:" url; }
        else if hasPrefix "hf:" url then { k = "model"; rest = dropPrefix "hf:" url; }
        else if isWeb then
          let p = dropPrefix (head matchedHost) url; in
          if hasPrefix "datasets/" p then { k = "dataset"; rest = dropPrefix "datasets/" p; }
          else if hasPrefix "spaces/" p then fail "names a Space; nix-hug fetches models and datasets"
          else { k = "model"; rest = p; }
        else if hasPrefix "datasets/" url then { k = "dataset"; rest = dropPrefix "datasets/" url; }
        else { k = null; rest = url; };
      parts = split "/" (if isWeb then stripTrailingSlashes classified.rest else classified.rest);
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
    else if effective != kind then
      (if kind == "model"
       then fail "names a dataset: use fetchDataset"
       else fail "names a model: use fetchModel")
    else rec {
      inherit org name kind;
      id = "${org}/${name}";
      isDataset = kind == "dataset";
      urlPrefix = (if isDataset then "datasets/" else "") + id;
    };
}
