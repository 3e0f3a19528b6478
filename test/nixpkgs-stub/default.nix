# A minimal stand-in for nixpkgs, for tests on machines without nixpkgs.
#
# It provides only what the nix-hug library uses, with nixpkgs' calling
# conventions, so that the library's production code runs unchanged:
#   runCommand name env buildCommand
#     a raw `derivation` built by the host's /bin/bash with PATH=/usr/bin:/bin
#     (sandbox off), `buildCommand` passed as a file and sourced (as nixpkgs'
#     stdenv does), `passAsFile` and `outputHash*` passed through, `passthru`
#     merged into the result (top level and `.passthru`), `set -eu -o pipefail`.
#   fetchgit { url, rev, hash | sha256, name ? "source", fetchSubmodules ? true, … }
#     a recursive fixed-output derivation built by fetchgit.sh with the host's
#     git, as nixpkgs' nix-prefetch-git builds it: isolated git config (no
#     LFS smudging), shallow fetch of the commit, checkout, no .git. LFS
#     fetching, a kept .git and deep clones are refused, not faked.
#   lib.fakeHash, lib.fakeSha256
# Non-flake:  import ./lib { pkgs = import ./test/nixpkgs-stub { }; }
# Flake:      --override-input nixpkgs path:./test/nixpkgs-stub (see flake.nix)
#
# For the repository's own flake.nix (so that `nix flake check` can evaluate
# every output here), it also has evaluation-only stand-ins: derivations that
# take the same arguments as nixpkgs' and evaluate to a .drv, but whose
# builder only fails with "stand-in: … needs real nixpkgs". `nix flake check`
# builds nothing but `checks`, which use `runCommand` alone:
#   callPackage (plain function application: intersectAttrs + overrides),
#   buildNpmPackage, importNpmLock (+ .npmConfigHook), makeWrapper, mkShell,
#   nodejs, nix, git, git-lfs, typescript, nixfmt-tree,
#   stdenv.{build,host}Platform.system, lib.makeBinPath, lib.licenses.mit, path.
# `system` is an argument so that pure evaluation can pass it; it defaults to
# the current system when Nix offers one.
{ system ? builtins.currentSystem or "x86_64-linux", ... }:

let
  runCommand = name: env: buildCommand:
    let
      passthru = env.passthru or { };
      drv = derivation ((removeAttrs env [ "passthru" ]) // {
        inherit name system buildCommand;
        builder = "/bin/bash";
        args = [ "-eu" "-o" "pipefail" "-c" "source \"$buildCommandPath\"" ];
        PATH = "/usr/bin:/bin";
        passAsFile = [ "buildCommand" ] ++ (env.passAsFile or [ ]);
      });
    in
    drv // passthru // { inherit passthru; };

  # Every attribute that can be a derivation input reaches the .drv, so
  # evaluation errors in them show up here as they would with nixpkgs.
  fetchgit = { url, rev ? "HEAD", hash ? null, sha256 ? null, name ? "source", fetchSubmodules ? true
             , fetchLFS ? false, leaveDotGit ? false, deepClone ? false }:
    if fetchLFS || leaveDotGit || deepClone then
      throw "stand-in fetchgit: fetchLFS, leaveDotGit and deepClone need real nixpkgs (this is test/nixpkgs-stub)"
    else derivation {
      inherit name system url rev;
      builder = "/bin/bash";
      args = [ "-eu" "-o" "pipefail" ./fetchgit.sh ];
      PATH = "/usr/bin:/bin";
      fetchSubmodules = if fetchSubmodules then "1" else "";
      outputHashMode = "recursive";
      outputHashAlgo = "sha256";
      outputHash = if hash != null then hash else if sha256 != null then sha256 else throw "stand-in fetchgit: give hash or sha256";
    };

  standIn = name: attrs:
    let
      inputs = removeAttrs attrs [ "name" "meta" "passthru" ];
      drv = derivation (inputs // {
        inherit name system;
        builder = "/bin/sh";
        args = [ "-c" "echo 'stand-in: ${name} needs real nixpkgs (this is test/nixpkgs-stub)' >&2; exit 1" ];
      });
    in
    drv // (attrs.passthru or { }) // { meta = attrs.meta or { }; };

  tool = pname: standIn pname { };

  pkgs = {
    inherit system runCommand fetchgit;
    runCommandLocal = runCommand;
    path = ./.;
    stdenv = { buildPlatform = { inherit system; }; hostPlatform = { inherit system; }; };

    callPackage = fn: overrides:
      let f = if builtins.isFunction fn then fn else import fn;
      in f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides);

    buildNpmPackage = attrs: standIn "${attrs.pname}-${attrs.version}" attrs;
    importNpmLock = {
      __functor = _: { npmRoot ? null, package ? null, packageLock ? null, ... }:
        standIn "npm-deps" { packageLock = builtins.toJSON packageLock; };
      npmConfigHook = tool "npm-config-hook";
    };
    mkShell = attrs: standIn (attrs.name or "nix-shell") attrs;
    makeWrapper = tool "make-wrapper-hook";
    nodejs = tool "nodejs";
    nix = tool "nix";
    git = tool "git";
    git-lfs = tool "git-lfs";
    typescript = tool "typescript";
    nixfmt-tree = tool "nixfmt-tree";

    lib = {
      fakeHash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
      fakeSha256 = "0000000000000000000000000000000000000000000000000000";
      makeBinPath = ps: builtins.concatStringsSep ":" (map (p: "${p}/bin") ps);
      licenses.mit = { spdxId = "MIT"; shortName = "mit"; fullName = "MIT License"; free = true; };
    };
  };
in
pkgs
