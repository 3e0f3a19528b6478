# fetchModel { url | repoId, rev, fileTreeHash, filters ? null, endpoint ? "https://huggingface.co" }
# A model repository at a pinned commit, as a store path (see docs/library.md).
{ runCommand }:
import ./internal/fetch-repo.nix { inherit runCommand; } "model"
