# Lays out an HF_HUB_CACHE folder. Inputs arrive as data (passAsFile lists):
#   $hfSnapshotsPath  triples of lines: repo folder, commit, snapshot store path
#   $hfRefsPath       pairs of lines: repo folder, commit for refs/main
#   $hfCopy           "1": copy everything, links dereferenced (fixed-output,
#                     no references); "": link the snapshots
set -euo pipefail

mkdir -p "$out"
mapfile -t snaps < "$hfSnapshotsPath"
for ((i = 0; i < ${#snaps[@]}; i += 3)); do
  dir="$out/${snaps[i]}/snapshots"
  mkdir -p "$dir"
  if [ -n "$hfCopy" ]; then
    cp -rL -- "${snaps[i + 2]}" "$dir/${snaps[i + 1]}"
  else
    ln -s -- "${snaps[i + 2]}" "$dir/${snaps[i + 1]}"
  fi
done

mapfile -t refs < "$hfRefsPath"
for ((i = 0; i < ${#refs[@]}; i += 2)); do
  mkdir -p "$out/${refs[i]}/refs"
  # huggingface_hub reads refs with f.read(): no trailing newline.
  printf '%s' "${refs[i + 1]}" > "$out/${refs[i]}/refs/main"
done
chmod -R u+w "$out"
