# A minimal stand-in for nixpkgs, for tests on machines without nixpkgs.
#
# It provides only what the nix-hug library uses, with nixpkgs' calling
# conventions, so that the library's production code runs unchanged:
#   runCommand name env buildCommand
#     a raw `derivation` built by the host's /bin/bash with PATH=/usr/bin:/bin
#     (sandbox off), `buildCommand` passed as a file and sourced (as nixpkgs'
#     stdenv does), `passAsFile` and `outputHash*` passed through, `passthru`
#     merged into the result (top level and `.passthru`), `set -eu -o pipefail`.
#   lib.fakeHash, lib.fakeSha256
# Non-flake:  import ./lib { pkgs = import ./test/nixpkgs-stub { }; }
# Flake:      --override-input nixpkgs path:./test/nixpkgs-stub (see flake.nix)
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
in
{
  inherit system runCommand;
  runCommandLocal = runCommand;
  lib = {
    fakeHash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    fakeSha256 = "0000000000000000000000000000000000000000000000000000";
  };
}
