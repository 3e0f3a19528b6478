# Checks a checkout against the manifest evaluation planned from (the vendored
# or inline manifest, or the one computed from another checkout), before
# assemble.sh copies from it: exactly the same files, and for every LFS file
# exactly the pointer of its sha256 and size. Fails naming the first file, in
# manifest order, that differs. File names arrive as data and stay data.
#   $hfCheckout         the checkout (fixed-output, or fetchGit's)
#   $hfManifestPath     the canonical manifest text
# Sets $hfSymlinksPath for assemble.sh: every symlink of the checkout.
set -euo pipefail
export LC_ALL=C

checkFail() {
  printf 'nix-hug: %s: the git checkout does not match the manifest: %s\n' "$hfLabel" "$1" >&2
  exit 1
}

mapfile -t want < "$hfManifestPath"
mapfile -d '' -t have < <(cd "$hfCheckout" && find . -mindepth 1 \( -type f -o -type l \) -printf '%P\0' | sort -z)

pointerRe=$'^version https://git-lfs\\.github\\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (0|[1-9][0-9]*)\n$'
i=0
j=0
while ((i < ${#want[@]} || j < ${#have[@]})); do
  line=${want[i]-}
  wanted=${line%%$'\t'*}
  had=${have[j]-}
  if ((i >= ${#want[@]})) || { ((j < ${#have[@]})) && [[ $had < $wanted ]]; }; then
    checkFail "the checkout has '$had', which the manifest does not list"
  fi
  if ((j >= ${#have[@]})) || [[ $wanted < $had ]]; then
    checkFail "the manifest lists '$wanted', which is not in the checkout"
  fi
  kind=${line#*$'\t'}
  if [[ $kind == lfs$'\t'* ]]; then
    IFS=$'\t' read -r _ sha size <<< "$kind"
    if [[ -L $hfCheckout/$had ]]; then
      checkFail "'$had' is an LFS file (sha256 $sha) in the manifest, a symlink in the checkout"
    fi
    content=
    IFS= read -r -d '' -N 1024 content < "$hfCheckout/$had" || true
    if [[ $content =~ $pointerRe ]]; then
      if [[ ${BASH_REMATCH[1]} != "$sha" || ${BASH_REMATCH[2]} != "$size" ]]; then
        checkFail "'$had' is the LFS file sha256 $sha, $size bytes in the manifest, but sha256 ${BASH_REMATCH[1]}, ${BASH_REMATCH[2]} bytes in the checkout"
      fi
    else
      checkFail "'$had' is an LFS file (sha256 $sha) in the manifest, but no LFS pointer in the checkout; if git-lfs replaced the pointer with its content, run nix with GIT_LFS_SKIP_SMUDGE=1 in its environment (or use Nix >= 2.20)"
    fi
  fi
  i=$((i + 1))
  j=$((j + 1))
done

hfSymlinksPath=$(mktemp)
(cd "$hfCheckout" && find . -mindepth 1 -type l -printf '%P\n') > "$hfSymlinksPath"
