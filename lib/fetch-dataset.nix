# fetchDataset { url | repoId, rev, fileTreeHash, filters ? null, endpoint ? "https://huggingface.co",
#                gitRepoHash ? null, manifest ? null }
# A dataset repository at a pinned commit, as a store path (see docs/library.md).
{ runCommand, fetchgit }:
import ./internal/fetch-repo.nix { inherit runCommand fetchgit; } "dataset"
