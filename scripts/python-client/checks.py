"""Checks run by scripts/python-client.ts with the real huggingface_hub.

    python checks.py hub   EXPECT_JSON   # against the Hub emulator (HF_ENDPOINT)
    python checks.py cache EXPECT_JSON   # a cache nix-hug made (HF_HUB_CACHE), offline

Prints one line per check, `ok NAME` or `FAIL NAME: why` (and `-- …` for a
check it could not make: transformers not installed), and exits 0 (the
caller counts the lines). EXPECT_JSON says what the answers must be.
"""
import hashlib
import importlib.util
import json
import os
import sys
import tempfile

import huggingface_hub as hh
from huggingface_hub import errors

api = hh.HfApi()


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check(name, fn):
    try:
        fn()
        print(f"ok {name}", flush=True)
    except Exception as e:  # every failure is a line: the caller counts them
        print(f"FAIL {name}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:400], flush=True)


def equal(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, expected {want!r}")


def raises(exc, fn):
    try:
        fn()
    except exc:
        return
    raise AssertionError(f"expected {exc.__name__}")


def same_files(folder, files, what):
    """Every expected file is in `folder` with its sha256."""
    for path, digest in files.items():
        equal(sha256_of(os.path.join(folder, path)), digest, f"{what}: sha256 of {path}")


def hub_checks(x):
    cache = tempfile.mkdtemp(prefix="nix-hug-python-client-")
    model, dataset, gated, private = x["model"], x["dataset"], x["gated"], x["private"]
    check("snapshot_download of the model (what `hf download` runs): every file and its sha256",
          lambda: same_files(hh.snapshot_download(model["id"], cache_dir=cache), model["files"], "main"))
    check("hf_hub_download at a tag", lambda: equal(
        open(hh.hf_hub_download(model["id"], "config.json", revision=model["tag"], cache_dir=cache)).read(), model["tagConfig"], "config.json"))
    check("hf_hub_download at refs/pr/1", lambda: equal(
        open(hh.hf_hub_download(model["id"], "config.json", revision="refs/pr/1", cache_dir=cache)).read(), model["prConfig"], "config.json"))
    check("model_info(files_metadata=True): the LFS sha256 of every LFS file", lambda: equal(
        {s.rfilename: s.lfs.sha256 for s in api.model_info(model["id"], files_metadata=True).siblings if s.lfs}, model["lfs"], "siblings"))
    check("list_repo_commits of the model: its history, newest first", lambda: equal(
        [c.commit_id for c in api.list_repo_commits(model["id"])], model["history"], "commits"))
    check("list_repo_tree of the dataset, recursive, over several pages", lambda: equal(
        sum(1 for e in api.list_repo_tree(dataset["id"], repo_type="dataset", recursive=True) if isinstance(e, hh.hf_api.RepoFile)), dataset["fileCount"], "files"))
    check("an unknown repo: RepositoryNotFoundError", lambda: raises(errors.RepositoryNotFoundError, lambda: api.model_info(model["id"] + "-nope")))
    check("an unknown revision: RevisionNotFoundError", lambda: raises(errors.RevisionNotFoundError, lambda: api.model_info(model["id"], revision="nope")))
    check("an unknown file: EntryNotFoundError", lambda: raises(errors.EntryNotFoundError, lambda: hh.hf_hub_download(model["id"], "nope.json", cache_dir=cache)))
    check("a gated repo without a token: GatedRepoError", lambda: raises(errors.GatedRepoError, lambda: hh.hf_hub_download(gated["id"], gated["lfsPath"], cache_dir=cache, token=False)))
    check("a gated repo with a token not granted: GatedRepoError", lambda: raises(errors.GatedRepoError, lambda: hh.hf_hub_download(gated["id"], gated["lfsPath"], cache_dir=cache, token=x["otherToken"])))
    check("a gated repo with a granted token: the LFS file's sha256", lambda: equal(
        sha256_of(hh.hf_hub_download(gated["id"], gated["lfsPath"], cache_dir=cache, token=x["token"])), gated["sha256"], gated["lfsPath"]))
    check("a private repo without a token: RepositoryNotFoundError", lambda: raises(errors.RepositoryNotFoundError, lambda: api.model_info(private["id"], token=False)))


def cache_checks(x):
    cache = os.environ["HF_HUB_CACHE"]
    for repo in x["repos"]:
        rid, kind, commit, files = repo["id"], repo["type"], repo["commit"], repo["files"]
        what = f"{kind} {rid} at {commit[:8]}"
        check(f"{what}: snapshot_download(local_files_only=True), every file and its sha256", lambda: same_files(
            hh.snapshot_download(rid, repo_type=kind, revision=commit, local_files_only=True), files, what))
        check(f"{what}: hf_hub_download of every file by path, offline, at the commit and at {repo['ref']}", lambda: [
            equal(sha256_of(hh.hf_hub_download(rid, p, repo_type=kind, revision=rev, local_files_only=True)), d, p)
            for p, d in files.items() for rev in (commit, repo["ref"])])
        check(f"{what}: try_to_load_from_cache finds every file", lambda: [
            equal(isinstance(hh.try_to_load_from_cache(rid, p, repo_type=kind, revision=commit), str), True, p) for p in files])

        def scanned():
            info = hh.scan_cache_dir(cache)
            equal([str(w) for w in info.warnings], [], "scan_cache_dir warnings")
            found = [r for r in info.repos if r.repo_id == rid and r.repo_type == kind]
            equal(len(found), 1, "repos found")
            refs = {ref: rev.commit_hash for rev in found[0].revisions for ref in rev.refs}
            equal(refs.get(repo["ref"]), commit, f"refs/{repo['ref']}")
        check(f"{what}: scan_cache_dir, no warnings, refs/{repo['ref']} at the commit", scanned)

        def verified():
            # Online on purpose: the Hub's checksums against the files in the cache.
            result = api.verify_repo_checksums(rid, repo_type=kind, revision=commit, cache_dir=cache)
            equal(result.mismatches, [], "mismatches")
            # A filtered fetch holds only the files it selected: the Hub lists the others as missing.
            equal(sorted(result.missing_paths), sorted(repo["notSelected"]), "missing files")
            equal(result.checked_count, len(files), "files checked")
        check(f"{what}: verify_repo_checksums (what `hf cache verify` runs) against the Hub", verified)

        if kind == "model" and "modelType" in repo:
            if importlib.util.find_spec("transformers") is None:
                print(f"-- {what}: transformers is not installed: AutoConfig not checked", flush=True)
            else:
                def config():
                    from transformers import AutoConfig
                    equal(AutoConfig.from_pretrained(rid, revision=commit, local_files_only=True).model_type, repo["modelType"], "model_type")
                check(f"{what}: transformers' AutoConfig.from_pretrained, offline", config)


if __name__ == "__main__":
    print(f"huggingface_hub {hh.__version__}", flush=True)
    {"hub": hub_checks, "cache": cache_checks}[sys.argv[1]](json.loads(sys.argv[2]))
