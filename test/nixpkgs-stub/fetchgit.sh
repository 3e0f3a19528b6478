# The stand-in's fetchgit builder: what nixpkgs' `nix-prefetch-git --builder`
# does for a commit, with the host's git. Git runs without system or user
# config (so no git-lfs filter can smudge pointers) in a private HOME; a
# shallow fetch of the commit, all refs if the server refuses that; a
# checkout; every .git removed. Nix then checks the NAR hash of $out.
HOME=$(mktemp -d)
export HOME GIT_CONFIG_NOSYSTEM=1
unset XDG_CONFIG_HOME

mkdir -p "$out"
cd "$out"
git init -q --initial-branch=master
git remote add origin "$url"
git fetch -q --depth=1 origin "$rev" || git fetch -q -t origin || {
  echo "stand-in fetchgit: unable to fetch $rev from $url" >&2
  exit 1
}
git checkout -q -b fetchgit "$rev"
if [ -n "$fetchSubmodules" ]; then
  git submodule -q update --init --recursive --depth 1
fi
find "$out" -name .git -print0 | xargs -0 rm -rf
