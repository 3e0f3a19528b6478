"""The Python peer: huggingface_hub's snapshot_download (what `hf download REPO`
runs) into a fresh HF cache, in its own process. Prints {"seconds": N} on
stdout, timed around the download alone (interpreter start and imports
excluded, as bench/peer.mjs does for @huggingface/hub); the bench also
times the whole process, spawn to exit, as it times nix-hug.
The Hub is HF_ENDPOINT; progress bars are off (HF_HUB_DISABLE_PROGRESS_BARS).

    python bench/peer.py '{"repo": "org/name", "revision": "...", "cacheDir": "..."}'
"""
import json
import sys
import time

from huggingface_hub import snapshot_download

params = json.loads(sys.argv[1])
start = time.perf_counter()
snapshot_download(params["repo"], revision=params["revision"], cache_dir=params["cacheDir"])
print(json.dumps({"seconds": time.perf_counter() - start}))
