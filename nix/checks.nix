# The flake's `checks`: tests of the library's logic that need neither the
# network nor more of nixpkgs than `runCommand` (and `fetchgit`, evaluated
# only). Each check's assertions run while Nix evaluates it (a failure stops
# `nix flake check` with a message naming the case); building it then records
# the cases that passed.
# `buildCache` is also built for real, from a stand-in fetch result.
{ runCommand, nix-hug-lib, libDir }:

let
  inherit (builtins) all attrNames concatStringsSep length map toJSON tryEval;

  internal = name: import (libDir + "/internal/${name}.nix");
  repoUrl = internal "repo-url";
  filters = internal "filters";
  manifest = internal "manifest";
  base64 = internal "base64";
  pointer = internal "lfs-pointer";
  gitattributes = internal "gitattributes";
  percent = internal "percent-encode";

  # { case = [ got want ]; } → true, or a throw naming the first failing case.
  expectAll = group: cases:
    all (name:
      let c = cases.${name}; got = builtins.elemAt c 0; want = builtins.elemAt c 1; in
      got == want || throw "nix-hug check ${group}/${name}: expected ${toJSON want}, got ${toJSON got}")
      (attrNames cases);

  # True when evaluating `v` (to its derivation path if it is one) throws.
  # Only `throw`/`assert` are caught: any other error (e.g. a fetch) fails the check.
  throws = v:
    let forced = if builtins.isAttrs v && v ? drvPath then v.drvPath else builtins.deepSeq v v; in
    !(tryEval (builtins.seq forced true)).success;

  # A check: its cases are evaluated before the derivation exists.
  check = group: cases:
    assert expectAll group cases;
    runCommand "nix-hug-check-${group}" { passAsFile = [ "hfCases" ]; hfCases = concatStringsSep "\n" (attrNames cases) + "\n"; } ''
      cp "$hfCasesPath" "$out"
    '';

  parse = kind: url: repoUrl.parse { inherit kind url; endpoint = "https://hub.example"; };
  id = kind: url: let r = parse kind url; in [ r.id r.isDataset r.urlPrefix ];

  rev = "0123456789abcdef0123456789abcdef01234567";
  # Well-formed, and not the placeholder (which would make the library fetch to report the right one).
  hash = "sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=";

  lfs = sha256: size: { inherit sha256 size; };
  files = [
    { path = "config.json"; lfs = null; }
    { path = "model.safetensors"; lfs = lfs (sha "ab") "1"; }
    { path = "onnx/model.onnx"; lfs = lfs (sha "cd") "2"; }
    { path = "README.md"; lfs = null; }
  ];
  select = f: map (x: x.path) (builtins.filter (filters.selector { filters = f; inherit files; describe = "o/r"; }) files);

  sha = c: builtins.concatStringsSep "" (builtins.genList (_: c) 32);
  sampleFiles = [
    { path = "sub/ünï.bin"; lfs = lfs (sha "cd") "5"; }
    { path = "model.safetensors"; lfs = lfs (sha "ab") "1234"; }
    { path = "config.json"; lfs = null; }
    { path = "README.md"; lfs = null; }
  ];
  sampleManifest = "README.md\tgit\nconfig.json\tgit\nmodel.safetensors\tlfs\t${sha "ab"}\t1234\nsub/ünï.bin\tlfs\t${sha "cd"}\t5\n";

  # A stand-in for a fetchModel result: buildCache needs only these attributes.
  fakeModel = runCommand "nix-hug-check-fake-model"
    { passthru = { org = "org"; repo = "tiny"; repoId = "org/tiny"; revision = rev; isDataset = false; }; } ''
      mkdir -p "$out/sub"
      printf '{}' > "$out/config.json"
      printf 'x' > "$out/sub/a b.txt"
    '';
  cache = nix-hug-lib.buildCache { models = [ fakeModel ]; };

  # A lock file as `nix-hug add` writes it (inline manifests; a file of the
  # flake's source, as a user's lock is): fromLock must evaluate it with no fetch at all.
  lockFile = ./fixtures/nix-hug.lock;
  locked = nix-hug-lib.fromLock lockFile;
in
{
  repo-url = check "repo-url" {
    bare = [ (id "model" "org/repo") [ "org/repo" false "org/repo" ] ];
    hf = [ (id "model" "hf:org/repo") [ "org/repo" false "org/repo" ] ];
    web = [ (id "model" "https://huggingface.co/org/repo") [ "org/repo" false "org/repo" ] ];
    webTree = [ (id "model" "https://huggingface.co/org/repo/tree/v1.0/sub") [ "org/repo" false "org/repo" ] ];
    webResolve = [ (id "model" "https://huggingface.co/org/repo/resolve/main/config.json") [ "org/repo" false "org/repo" ] ];
    endpointHost = [ (id "model" "https://hub.example/org/repo") [ "org/repo" false "org/repo" ] ];
    dataset = [ (id "dataset" "datasets/org/set") [ "org/set" true "datasets/org/set" ] ];
    datasetScheme = [ (id "dataset" "hf-datasets:org/set") [ "org/set" true "datasets/org/set" ] ];
    datasetWeb = [ (id "dataset" "https://huggingface.co/datasets/org/set") [ "org/set" true "datasets/org/set" ] ];
    bareDataset = [ (id "dataset" "org/set") [ "org/set" true "datasets/org/set" ] ];
    rejectsOneSegment = [ (throws (parse "model" "repo")) true ];
    rejectsDotDot = [ (throws (parse "model" "org/..")) true ];
    rejectsWhitespace = [ (throws (parse "model" "org/re po")) true ];
    rejectsInterpolation = [ (throws (parse "model" "org/\${x}")) true ];
    rejectsExtraSegments = [ (throws (parse "model" "org/repo/extra")) true ];
    rejectsDatasetAsModel = [ (throws (parse "model" "datasets/org/set")) true ];
    rejectsSpaces = [ (throws (parse "model" "https://huggingface.co/spaces/org/app")) true ];
  };

  filters = check "filters" {
    none = [ (select null) [ "config.json" "model.safetensors" "onnx/model.onnx" "README.md" ] ];
    include = [ (select { include = [ ".*\\.safetensors" ]; }) [ "config.json" "model.safetensors" "README.md" ] ];
    exclude = [ (select { exclude = [ "onnx/.*" ]; }) [ "config.json" "model.safetensors" "README.md" ] ];
    includeMinusExclude = [ (select { include = [ ".*" ]; exclude = [ ".*\\.onnx" ]; }) [ "config.json" "model.safetensors" "README.md" ] ];
    anchored = [ (select { include = [ "model" ]; }) [ "config.json" "README.md" ] ];
    files = [ (select { files = [ "README.md" "onnx/model.onnx" ]; }) [ "onnx/model.onnx" "README.md" ] ];
    rejectsUnknownKey = [ (throws (select { only = [ "x" ]; })) true ];
    rejectsFilesWithInclude = [ (throws (select { files = [ "README.md" ]; include = [ ".*" ]; })) true ];
    rejectsMissingFile = [ (throws (select { files = [ "nope.bin" ]; })) true ];
    rejectsNonList = [ (throws (select { include = ".*"; })) true ];
  };

  manifest = check "manifest" {
    # Expected bytes and hash computed independently (Node's sha256 and base64).
    render = [ (manifest.render sampleFiles) sampleManifest ];
    hash = [ (manifest.hash sampleManifest) "sha256-B/BU5blW9lyuIFE6IpYkXN5kIKjZ7OdwOqWH1/WsVos=" ];
    # RFC 4648 §10 test vectors, given as hex.
    base64Empty = [ (base64.hexToBase64 "") "" ];
    base64F = [ (base64.hexToBase64 "66") "Zg==" ];
    base64Fo = [ (base64.hexToBase64 "666f") "Zm8=" ];
    base64Foo = [ (base64.hexToBase64 "666f6f") "Zm9v" ];
    base64Foob = [ (base64.hexToBase64 "666f6f62") "Zm9vYg==" ];
    base64Fooba = [ (base64.hexToBase64 "666f6f6261") "Zm9vYmE=" ];
    base64Foobar = [ (base64.hexToBase64 "666f6f626172") "Zm9vYmFy" ];
    sriOfEmpty = [ (base64.sriOfString "") "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" ];
    pointer = [
      (pointer.parse "version https://git-lfs.github.com/spec/v1\noid sha256:${sha "ab"}\nsize 1234\n")
      { sha256 = sha "ab"; size = "1234"; }
    ];
    notAPointer = [ (pointer.parse "{\"a\": 1}\n") null ];
    pointerWithExtraLine = [ (pointer.parse "version https://git-lfs.github.com/spec/v1\noid sha256:${sha "ab"}\nsize 1\nx\n") null ];
  };

  gitattributes =
    let
      lfsFor = gitattributes.lfsMatcher [
        { dir = ""; text = "*.safetensors filter=lfs diff=lfs merge=lfs -text\n/top.bin filter=lfs\nnotes/** filter=lfs\n"; }
        { dir = "sub/"; text = "*.safetensors -filter\n"; }
      ];
    in
    check "gitattributes" {
      basenameAnyDepth = [ (lfsFor "a/b/model.safetensors") true ];
      anchored = [ (lfsFor "top.bin") true ];
      anchoredNotDeeper = [ (lfsFor "x/top.bin") false ];
      doubleStar = [ (lfsFor "notes/a/b.txt") true ];
      deeperFileWins = [ (lfsFor "sub/model.safetensors") false ];
      other = [ (lfsFor "config.json") false ];
    };

  percent-encode = check "percent-encode" {
    plain = [ (percent.encodePath "onnx/model.onnx") "onnx/model.onnx" ];
    space = [ (percent.encodePath "a b.txt") "a%20b.txt" ];
    hostile = [ (percent.encodePath "$(rm -rf ~).txt") "%24%28rm%20-rf%20~%29.txt" ];
    unicode = [ (percent.encodePath "ünï.bin") "%C3%BCn%C3%AF.bin" ];
  };

  # The public functions' argument checks, which come before any fetch.
  fetchModel = check "fetchModel" {
    rejectsBranchAsRev = [ (throws (nix-hug-lib.fetchModel { url = "org/repo"; rev = "main"; fileTreeHash = hash; })) true ];
    rejectsShortRev = [ (throws (nix-hug-lib.fetchModel { url = "org/repo"; rev = "0123456"; fileTreeHash = hash; })) true ];
    rejectsBadHash = [ (throws (nix-hug-lib.fetchModel { url = "org/repo"; inherit rev; fileTreeHash = "abc"; })) true ];
    rejectsBadUrl = [ (throws (nix-hug-lib.fetchModel { url = "org"; inherit rev; fileTreeHash = hash; })) true ];
    rejectsDataset = [ (throws (nix-hug-lib.fetchModel { url = "datasets/org/set"; inherit rev; fileTreeHash = hash; })) true ];
  };

  fetchDataset = check "fetchDataset" {
    rejectsBranchAsRev = [ (throws (nix-hug-lib.fetchDataset { url = "org/set"; rev = "main"; fileTreeHash = hash; })) true ];
    rejectsModelUrl = [ (throws (nix-hug-lib.fetchDataset { url = "hf:org/repo"; inherit rev; fileTreeHash = hash; })) true ];
  };

  fromLock = check "fromLock" {
    models = [ (attrNames locked.models) [ "tiny" ] ];
    datasets = [ (attrNames locked.datasets) [ "set" ] ];
    revision = [ locked.models.tiny.revision rev ];
    repoId = [ locked.datasets.set.repoId "org/set" ];
    evaluatesToDerivations = [ (builtins.all builtins.isString [ locked.models.tiny.drvPath locked.datasets.set.drvPath locked.cache.drvPath ]) true ];
    attrArgument = [ (nix-hug-lib.fromLock { lock = lockFile; }).models.tiny.drvPath locked.models.tiny.drvPath ];
    rejectsNewerVersion = [ (throws (nix-hug-lib.fromLock ./fixtures/newer.lock).models) true ];
  };

  # Built, not only evaluated: the layout huggingface_hub reads.
  buildCache = assert expectAll "buildCache" {
    rejectsNonResult = [ (throws (nix-hug-lib.buildCache { models = [ "org/repo" ]; })) true ];
    rejectsModelAsDataset = [ (throws (nix-hug-lib.buildCache { datasets = [ fakeModel ]; })) true ];
    rejectsNonStringHash = [ (throws (nix-hug-lib.buildCache { models = [ fakeModel ]; hash = 1; })) true ];
  };
    runCommand "nix-hug-check-buildCache" { hfCache = cache; hfRev = rev; } ''
      dir="$hfCache/models--org--tiny"
      [ "$(cat "$dir/refs/main")" = "$hfRev" ] || { echo "refs/main is not $hfRev" >&2; exit 1; }
      [ "$(wc -c < "$dir/refs/main")" -eq 40 ] || { echo "refs/main must have no trailing newline" >&2; exit 1; }
      [ "$(cat "$dir/snapshots/$hfRev/config.json")" = "{}" ] || { echo "config.json missing from the snapshot" >&2; exit 1; }
      [ "$(cat "$dir/snapshots/$hfRev/sub/a b.txt")" = "x" ] || { echo "sub/a b.txt missing from the snapshot" >&2; exit 1; }
      [ ! -e "$hfCache/hub" ] || { echo "no hub/ folder: HF_HUB_CACHE is the cache itself" >&2; exit 1; }
      echo ok > "$out"
    '';
}
