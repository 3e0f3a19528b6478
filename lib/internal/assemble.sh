# Assembles a snapshot: git files copied from the checkout, selected LFS files
# as links to their blob store paths. Every file name arrives as data (lines
# of the passAsFile lists); nothing here evaluates a name.
#   $hfCheckout       the fetchGit store path
#   $hfGitFilesPath   git files to copy (regular files and symlinks)
#   $hfLfsLinksPath   pairs of lines: path, blob store path
#   $hfFoldersPath    parent folders of every selected file
#   $hfSymlinksPath   every git symlink of the repository (checked, selected or not)
set -euo pipefail

fail() {
  printf 'nix-hug: %s: %s\n' "$hfLabel" "$1" >&2
  exit 1
}

# Git symlinks must point inside the repository (resolved physically, so that
# a chain through another link cannot escape either).
cd "$hfCheckout"
root=$(realpath -e .)
mapfile -t links < "$hfSymlinksPath"
for link in "${links[@]}"; do
  target=$(readlink -- "$link")
  case "$target" in
    /*) fail "the git symlink '$link' points to the absolute path '$target'; symlinks must stay inside the repository" ;;
  esac
  resolved=$(realpath -m -- "$link") || fail "cannot resolve the git symlink '$link' (target '$target')"
  case "$resolved" in
    "$root" | "$root"/*) ;;
    *) fail "the git symlink '$link' points outside the repository ('$target')" ;;
  esac
done

# Folders first: `cp --parents` would give the folders it creates the
# checkout's read-only mode, and a later batch could not write into them.
mkdir -p "$out"
cd "$out"
if [ -s "$hfFoldersPath" ]; then
  xargs -d '\n' -a "$hfFoldersPath" mkdir -p --
fi
cd "$hfCheckout"
if [ -s "$hfGitFilesPath" ]; then
  xargs -d '\n' -a "$hfGitFilesPath" cp -P --parents -t "$out" --
fi

cd "$out"
mapfile -t lfs < "$hfLfsLinksPath"
for ((i = 0; i < ${#lfs[@]}; i += 2)); do
  ln -s -- "${lfs[i + 1]}" "${lfs[i]}"
done
