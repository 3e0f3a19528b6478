{
  description = "nix-hug: pin Hugging Face models and datasets into the Nix store, declaratively";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      # builtins only at this level (no nixpkgs.lib): the tests evaluate this
      # flake with a tiny nixpkgs stand-in (test/nixpkgs-stub).
      forAllSystems = f: builtins.listToAttrs (map
        (system: { name = system; value = f system nixpkgs.legacyPackages.${system}; })
        systems);

      # The library the CLI uses too (the package ships these same files).
      libFor = pkgs: import ./lib { inherit pkgs; };
    in
    {
      packages = forAllSystems (_system: pkgs: rec {
        nix-hug = pkgs.callPackage ./nix/package.nix { nixpkgsPath = nixpkgs.outPath; };
        default = nix-hug;
      });

      apps = forAllSystems (system: _pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${system}.nix-hug}/bin/nix-hug";
          # Nix 2.18+ warns about an app without it in `nix flake check`.
          meta.description = "Pin Hugging Face models and datasets into the Nix store";
        };
      });

      # `nix-hug.lib.${system}.fetchModel { ... }` (API: docs/library.md).
      lib = forAllSystems (_system: libFor);

      overlays.default = final: prev: {
        nix-hug = final.callPackage ./nix/package.nix { nixpkgsPath = final.path; };
        nix-hug-lib = libFor final;
      };

      devShells = forAllSystems (_system: pkgs: {
        default = pkgs.mkShell {
          packages = [ pkgs.nodejs pkgs.nix pkgs.git pkgs.git-lfs pkgs.typescript ];
          # Nix < 2.20 would run git-lfs inside builtins.fetchGit (docs/library.md).
          GIT_LFS_SKIP_SMUDGE = "1";
          shellHook = ''
            echo "nix-hug dev shell: npm ci && npm test" >&2
          '';
        };
      });

      # Evaluation tests of the library's logic (and a real buildCache build);
      # they need only runCommand, so they also run against the stand-in.
      checks = forAllSystems (_system: pkgs: import ./nix/checks.nix {
        inherit (pkgs) runCommand;
        nix-hug-lib = libFor pkgs;
        libDir = ./lib;
      });

      formatter = forAllSystems (_system: pkgs: pkgs.nixfmt-tree);
    };
}
