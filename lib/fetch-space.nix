# fetchSpace { url | repoId, rev, fileTreeHash, filters ? null, endpoint ? "https://huggingface.co" }
# A Space repository (its app's files) at a pinned commit, as a store path (see docs/library.md).
{ runCommand }:
import ./internal/fetch-repo.nix { inherit runCommand; } "space"
