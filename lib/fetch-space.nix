# fetchSpace { url | repoId, rev, fileTreeHash, filters ? null, endpoint ? "https://huggingface.co",
#              gitRepoHash ? null, manifest ? null }
# A Space repository (its app's files) at a pinned commit, as a store path (see docs/library.md).
{ runCommand, fetchgit }:
import ./internal/fetch-repo.nix { inherit runCommand fetchgit; } "space"
