# The fetch shared by fetchModel, fetchDataset and fetchSpace (docs/design.md, "Where each file comes from"):
#  1. the file list: from `manifest` when given (checked against
#     `fileTreeHash` in pure Nix: no checkout at evaluation); otherwise from
#     builtins.fetchGit of the repository at `rev` (small files + LFS
#     pointers): list every file (readDir only), find LFS candidates with
#     .gitattributes, read only those, parse pointers strictly, and check the
#     canonical manifest against `fileTreeHash` (or take it as the original
#     tool's hash of the raw tree listing, after a trace line);
#  2. one fixed-output download per selected LFS file, named by its sha256;
#  3. the checkout the snapshot is assembled from: with `gitRepoHash`, a
#     fixed-output `fetchgit` built at build time (pointers, no .git); else
#     the fetchGit above;
#  4. assemble the snapshot: git files copied, LFS files linked to their
#     blobs — after checking the checkout against the manifest whenever
#     evaluation did not list that very checkout (check-checkout.sh).
{ runCommand, fetchgit }:

let
  inherit (builtins) attrNames concatMap concatStringsSep filter head length listToAttrs map
    match readFile substring toJSON;

  repoUrl = import ./repo-url.nix;
  listing = import ./list-files.nix;
  gitattributes = import ./gitattributes.nix;
  pointer = import ./lfs-pointer.nix;
  manifestLib = import ./manifest.nix;
  filtersLib = import ./filters.nix;
  percent = import ./percent-encode.nix;

  fakeHash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

  lines = xs: concatStringsSep "" (map (x: x + "\n") xs);
  dirOf' = p: let m = match "(.*)/[^/]*" p; in if m == null then null else head m;
  unique = xs: attrNames (listToAttrs (map (x: { name = x; value = true; }) xs));
in

kind:

{ url ? null
  # nixpkgs' fetchFromHuggingFace spelling: `repoId` for `url`, `repoType` naming the kind.
, repoId ? null
, repoType ? null
, rev
, fileTreeHash
, filters ? null
, endpoint ? "https://huggingface.co"
, gitRepoHash ? null
, manifest ? null
}:

let
  fnName = repoUrl.kinds.${kind}.fn;
  url' =
    if url != null && repoId != null then throw "nix-hug ${fnName}: give either url or repoId (its other name), not both"
    else if url != null then url
    else if repoId != null then repoId
    else throw "nix-hug ${fnName}: url (or repoId) is required, e.g. url = \"org/name\"";
  kindChecked =
    if repoType == null || repoType == kind then kind
    else if repoUrl.kinds ? ${toString repoType} then throw "nix-hug ${fnName}: repoType = ${toJSON repoType}: use ${repoUrl.kinds.${repoType}.fn} for it"
    else throw "nix-hug ${fnName}: repoType must be \"model\", \"dataset\" or \"space\" (got ${toJSON repoType})";
  # scheme://host[:port][/path] only: a newline, space, `?`, `#` or `@` would make git or curl
  # reach another host (or path) than the one written.
  endpoint' =
    let e = repoUrl.stripTrailingSlashes endpoint; in
    if builtins.isString endpoint && match "https?://([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+])(:[0-9]+)?(/[A-Za-z0-9._~%!$&'()*+,;=:/-]*)?" e != null then e
    else throw "nix-hug ${fnName}: endpoint ${toJSON endpoint} must be scheme://host[:port][/path] (http or https, no spaces, query, fragment or credentials)";
  repo = repoUrl.parse { kind = kindChecked; url = url'; endpoint = endpoint'; };
  rev7 = substring 0 7 checkedRev;
  describe = "${repo.id} at ${checkedRev}";
  typeName = kind;
  storeName = "hf-${typeName}-${repo.org}--${repo.name}-${rev7}";

  checkedRev =
    if builtins.isString rev && match "[0-9a-f]{40}" rev != null then rev
    else throw "nix-hug ${fnName}: rev for ${repo.id} must be a full 40-hex commit (got ${toJSON rev}); run `nix-hug fetch ${repo.urlPrefix}` to get a pinned rev";

  checkedHash =
    if builtins.isString fileTreeHash && (fileTreeHash == "" || match "sha256-[A-Za-z0-9+/]{43}=" fileTreeHash != null) then fileTreeHash
    else throw "nix-hug ${fnName}: fileTreeHash for ${describe} must look like \"sha256-<44 base64 characters>\" (got ${toJSON fileTreeHash}); run `nix-hug fetch ${repo.urlPrefix}` to get it";

  checkedGitRepoHash =
    if gitRepoHash == null || (builtins.isString gitRepoHash && match "sha256-[A-Za-z0-9+/]{43}=" gitRepoHash != null) then gitRepoHash
    else throw "nix-hug ${fnName}: gitRepoHash for ${describe} must look like \"sha256-<44 base64 characters>\" (got ${toJSON gitRepoHash}); run `nix-hug fetch ${repo.urlPrefix} --ref ${checkedRev}` to get it";

  gitUrl = "${endpoint'}/${repo.urlPrefix}.git";
  checkoutName = "${storeName}-git";

  # At evaluation time. Its store path is the fixed-output checkout's when the
  # contents agree (same name, same NAR hash): one clone serves both.
  evalCheckout = builtins.fetchGit {
    url = gitUrl;
    rev = checkedRev;
    # Nix 2.8 otherwise fetches only `master`; the commit may be on any branch or refs/pr/N.
    allRefs = true;
    name = checkoutName;
  };
  root = evalCheckout.outPath;

  # At build time, checked against gitRepoHash by Nix. No LFS smudging: the
  # fetcher's git has no user config and no git-lfs.
  buildCheckout = fetchgit {
    url = gitUrl;
    rev = checkedRev;
    hash = checkedGitRepoHash;
    name = checkoutName;
    fetchSubmodules = false;
  };

  listed = listing.listFiles { inherit root describe; };

  # .gitattributes files (regular files only: git ignores symlinked ones).
  attrFiles = filter (f: f.type == "regular" && (f.path == ".gitattributes" || match ".*/\\.gitattributes" f.path != null)) listed;
  isLfsCandidate = gitattributes.lfsMatcher (map (f: {
    dir = let d = dirOf' f.path; in if d == null then "" else d + "/";
    text = readFile "${root}/${f.path}";
  }) attrFiles);

  # Only candidates are ever read: anything else may be binary.
  classified = map (f:
    let
      candidate = f.type == "regular" && isLfsCandidate f.path;
      # Lazy, and forced for candidates only: never deepSeq/toJSON these records.
      candidateText = readFile "${root}/${f.path}";
      lfs = if candidate then pointer.parse candidateText else null;
    in
    f // { inherit candidate lfs candidateText; }) listed;

  notPointers = filter (f: f.candidate && f.lfs == null) classified;

  manifestText = manifestLib.render classified;
  manifestHash = manifestLib.hash manifestText;
  manifestFile = builtins.toFile "${storeName}-manifest.tsv" manifestText;

  # A checkout smudged by git-lfs holds contents instead of pointers. Taking
  # every non-pointer candidate as the LFS file its content is, if that
  # manifest is the pinned one, the checkout was smudged and the files are
  # known exactly (hashFile reads any bytes).
  unsmudged = map (f:
    if f.candidate && f.lfs == null
    then f // { lfs = { sha256 = builtins.hashFile "sha256" "${root}/${f.path}"; size = toString (builtins.stringLength f.candidateText); }; }
    else f) classified;
  unsmudgedMatches = notPointers != [ ] && checkedHash == manifestLib.hash (manifestLib.render unsmudged);

  hashMatches = checkedHash == manifestHash || unsmudgedMatches;
  effective = if checkedHash == manifestHash || !unsmudgedMatches then classified else unsmudged;

  smudgeFacts = "${toString (length notPointers)} file(s) that .gitattributes sends to LFS are not LFS pointers in the checkout (e.g. ${toJSON (head notPointers).path}): the checkout looks smudged by git-lfs";
  smudgeAdvice = "run nix with GIT_LFS_SKIP_SMUDGE=1 in its environment (the nix-hug CLI always does), or use Nix >= 2.20";
  smudgeHint = if notPointers == [ ] then "" else " Also, ${smudgeFacts}; ${smudgeAdvice}.";
  smudgeWarning =
    "nix-hug: warning: ${describe}: ${smudgeFacts}. They match fileTreeHash and are fetched as LFS files, but git-lfs downloaded them during evaluation, and a binary one would have aborted it: ${smudgeAdvice}.";

  # The original nix-hug hashed the raw body of the recursive tree listing.
  legacyListing = import <nix/fetchurl.nix> {
    url = "${endpoint'}/api/${typeName}s/${repo.id}/tree/${checkedRev}?recursive=true";
    hash = checkedHash;
    name = "${storeName}-tree.json";
  };

  given = if manifest == null then null else manifestLib.fromArgument { value = manifest; inherit describe; };
  givenHash = manifestLib.hash given.text;

  # What the snapshot is planned from, and whether its checkout is checked
  # against a manifest at build time (always, unless evaluation listed that
  # very checkout: then the drv stays what it was before gitRepoHash existed).
  files = if given != null then given.files else effective;
  checked = given != null || checkedGitRepoHash != null;
  checkout = if checkedGitRepoHash != null then buildCheckout else evalCheckout;
  plannedText = if given != null then given.text else manifestText;

  selected = filter (filtersLib.selector { inherit filters describe files; }) files;
  selectedGit = filter (f: f.lfs == null) selected;
  selectedLfs = filter (f: f.lfs != null) selected;

  blob = sha256: path: import <nix/fetchurl.nix> {
    url = "${endpoint'}/${repo.urlPrefix}/resolve/${checkedRev}/${percent.encodePath path}";
    inherit sha256;
    name = "hf-blob-${sha256}";
  };

  passthru = {
    inherit (repo) org isDataset isSpace;
    repoType = kind;
    repo = repo.name;
    repoId = repo.id;
    revision = checkedRev;
  };

  # Env names carry a prefix: nixpkgs' stdenv setup runs in the same shell.
  plan = {
    hfCheckout = checkout;
    hfLabel = describe;
    hfGitFiles = lines (map (f: f.path) selectedGit);
    # Pairs of lines: link path, blob store path.
    hfLfsLinks = lines (concatMap (f: [ f.path "${blob f.lfs.sha256 f.path}" ]) selectedLfs);
    hfFolders = lines (unique (filter (d: d != null) (map (f: dirOf' f.path) selected)));
  } // (if given != null || hashMatches then { } else { hfLegacyListing = legacyListing; });

  drv =
    if checked then
      runCommand storeName (plan // {
        passAsFile = [ "hfManifest" "hfGitFiles" "hfLfsLinks" "hfFolders" ];
        hfManifest = plannedText;
      }) (readFile ./check-checkout.sh + readFile ./assemble.sh)
    else
      runCommand storeName (plan // {
        passAsFile = [ "hfGitFiles" "hfLfsLinks" "hfFolders" "hfSymlinks" ];
        hfSymlinks = lines (map (f: f.path) (filter (f: f.type == "symlink") classified));
      }) (readFile ./assemble.sh);

  mismatchLine =
    "nix-hug: fileTreeHash of ${describe} is ${checkedHash}, but the repository's canonical manifest hashes to ${manifestHash} (manifest: ${manifestFile}); trying ${checkedHash} as the original nix-hug's hash of the raw tree listing.${smudgeHint}";

  result = drv // passthru // { inherit passthru; };

  placeholder = checkedHash == "" || checkedHash == fakeHash;
in
if given != null then
  (if givenHash == checkedHash then result
  else if placeholder then throw "nix-hug ${fnName}: fileTreeHash for ${describe} is a placeholder; ${given.origin} hashes to ${givenHash}"
  else throw "nix-hug ${fnName}: ${given.origin} of ${describe} hashes to ${givenHash}, but fileTreeHash is ${checkedHash}: the manifest was changed or belongs to another revision; write it again with `nix-hug fetch ${repo.urlPrefix} --ref ${checkedRev} --vendor DIR` (or print it inline without --vendor)")
else if placeholder then
  throw "nix-hug ${fnName}: fileTreeHash for ${describe} is a placeholder; the repository's canonical manifest hashes to ${manifestHash} (manifest: ${manifestFile}).${smudgeHint}"
else if unsmudgedMatches && checkedHash != manifestHash then builtins.trace smudgeWarning result
else if hashMatches then result
else builtins.trace mismatchLine result
