# Flake face of the nixpkgs stand-in (see default.nix): use it with
#   nix build --override-input nixpkgs path:./test/nixpkgs-stub --no-write-lock-file ...
{
  description = "Minimal nixpkgs stand-in for nix-hug's tests (runCommand on the host's bash)";

  outputs = { self }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAll = f: builtins.listToAttrs (map (system: { name = system; value = f system; }) systems);
    in
    {
      legacyPackages = forAll (system: import ./default.nix { inherit system; });
      lib = (import ./default.nix { system = "x86_64-linux"; }).lib;
    };
}
