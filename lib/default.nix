# The nix-hug library: `import ./lib { inherit pkgs; }`.
# From `pkgs` it uses only `runCommand`; everything else is Nix builtins.
# One file per public function; internals in ./internal. API: docs/library.md.
{ pkgs }:

let
  inherit (pkgs) runCommand;
in
{
  buildCache = import ./build-cache.nix { inherit runCommand; };
  fetchDataset = import ./fetch-dataset.nix { inherit runCommand; };
  fetchModel = import ./fetch-model.nix { inherit runCommand; };
}
