# Assembles a snapshot: git files copied from the checkout, selected LFS files
# as links to their blob store paths. Every file name arrives as data (lines
# of the passAsFile lists); nothing here evaluates a name.
#   $checkout       the fetchGit store path
#   $gitFilesPath   git files to copy (regular files and symlinks)
#   $lfsLinksPath   pairs of lines: path, blob store path
#   $dirsPath       parent folders of every selected file
#   $symlinksPath   every git symlink of the repository (checked, selected or not)
set -euo pipefail

fail() {
  printf 'nix-hug: %s: %s\n' "$repoLabel" "$1" >&2
  exit 1
}

# Git symlinks must point inside the repository (resolved physically, so that
# a chain through another link cannot escape either).
cd "$checkout"
root=$(realpath -e .)
mapfile -t links < "$symlinksPath"
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
if [ -s "$dirsPath" ]; then
  xargs -d '\n' -a "$dirsPath" mkdir -p --
fi
cd "$checkout"
if [ -s "$gitFilesPath" ]; then
  xargs -d '\n' -a "$gitFilesPath" cp -P --parents -t "$out" --
fi

cd "$out"
mapfile -t lfs < "$lfsLinksPath"
for ((i = 0; i < ${#lfs[@]}; i += 2)); do
  ln -s -- "${lfs[i + 1]}" "${lfs[i]}"
done
