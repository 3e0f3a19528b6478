# The nix-hug library: `import ./lib { inherit pkgs; }`, or `pkgs.callPackage ./lib { }`.
# It takes from nixpkgs only `runCommand` (an argument of its own, so callPackage
# fills it and `.override { runCommand = …; }` replaces it); everything else is
# Nix builtins. One file per public function; internals in ./internal. API: docs/library.md.
{ pkgs ? null
, runCommand ? (if pkgs == null then throw "nix-hug: the library needs nixpkgs: import ./lib { inherit pkgs; } or pkgs.callPackage ./lib { }" else pkgs.runCommand)
}:

{
  buildCache = import ./build-cache.nix { inherit runCommand; };
  fetchDataset = import ./fetch-dataset.nix { inherit runCommand; };
  fetchModel = import ./fetch-model.nix { inherit runCommand; };
  fetchSpace = import ./fetch-space.nix { inherit runCommand; };
}
