# The nix-hug library: `import ./lib { inherit pkgs; }`, or `pkgs.callPackage ./lib { }`.
# It takes from nixpkgs only `runCommand`, and `fetchgit` for pins with a
# `gitRepoHash` (arguments of their own, so callPackage fills them and
# `.override { … }` replaces them); everything else is Nix builtins.
# One file per public function; internals in ./internal. API: docs/library.md.
{ pkgs ? null
, runCommand ? (if pkgs == null then throw "nix-hug: the library needs nixpkgs: import ./lib { inherit pkgs; } or pkgs.callPackage ./lib { }" else pkgs.runCommand)
  # Looked up only when a pin has a gitRepoHash.
, fetchgit ? (if pkgs == null || !(pkgs ? fetchgit) then throw "nix-hug: gitRepoHash needs `fetchgit` from nixpkgs: import ./lib { inherit pkgs; } or pkgs.callPackage ./lib { }" else pkgs.fetchgit)
}:

let
  self = {
    buildCache = import ./build-cache.nix { inherit runCommand; };
    fetchDataset = import ./fetch-dataset.nix { inherit runCommand fetchgit; };
    fetchModel = import ./fetch-model.nix { inherit runCommand fetchgit; };
    fetchSpace = import ./fetch-space.nix { inherit runCommand fetchgit; };
    fromLock = import ./from-lock.nix { inherit (self) buildCache fetchDataset fetchModel fetchSpace; };
  };
in
self
