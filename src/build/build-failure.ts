/**
 * A failed `nix build` of a pinned repo, said in the repo's terms: which
 * file could not be downloaded (Nix only names `hf-blob-<sha256>.drv`, and
 * says why only in that builder's log), that the git repository could not
 * be fetched, or what the library refused.
 */
import { NixHugError } from '../errors.js';
import type { NixBuildError } from '../nix/nix.js';
import type { RepoFile } from '../types.js';
import { quote } from '../ui/text.js';

const BLOB_DRV = /-hf-blob-([0-9a-f]{64})\.drv$/;
/** The library's fixed-output checkout, `hf-<type>-<org>--<name>-<rev7>-git.drv`. */
const CHECKOUT_DRV = /-hf-(?:model|dataset)-[^/]*-[0-9a-f]{7}-git\.drv$/;

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** `err` for the user. `what` is e.g. `model org/name`; `files` every file of the repo at the pinned commit. */
export function explainBuildFailure(err: NixBuildError, what: string, files: readonly RepoFile[]): NixHugError {
  const text = err.nixErrors.join('\n');
  for (const drv of err.failedDerivations.filter((d) => CHECKOUT_DRV.test(d))) {
    const at = text.indexOf(`hash mismatch in fixed-output derivation '${drv}'`);
    const m = at < 0 ? null : /specified:\s*(\S+)\s*got:\s*(\S+)/.exec(text.slice(at));
    if (m) {
      return new NixHugError(
        `the git checkout of ${what} hashes to ${m[2]}, but its gitRepoHash is ${m[1]}`,
        'the pinned gitRepoHash is wrong (or git-lfs smudged the checkout); run `nix-hug fetch` for the same revision to print the right one',
      );
    }
  }
  for (const drv of err.failedDerivations) {
    const sha = BLOB_DRV.exec(drv)?.[1];
    if (!sha) continue;
    const paths = files.filter((f) => f.lfs?.sha256 === sha).map((f) => quote(f.path));
    const name = paths.length > 0 ? paths.join(', ') : `the LFS file with sha256 ${sha}`;
    if (text.includes(`hash mismatch in fixed-output derivation '${drv}'`)) {
      return new NixHugError(
        `the bytes downloaded for ${name} of ${what} do not match its pinned sha256 ${sha}`,
        'the Hub or its CDN served other bytes; retry later, or re-pin with `nix-hug fetch`',
      );
    }
    const log = err.buildLogs.get(drv) ?? [];
    const line = log.find((l) => /unable to download/.test(l)) ?? log.find((l) => /error:/.test(l));
    // "error: unable to download 'URL': HTTP error 503 (…)": the URL is long and names the same file.
    const reason = line ? oneLine(line.replace(/^.*?error:\s*/, '').replace(/^unable to download '[^']*':\s*/, '')) : err.message;
    return new NixHugError(
      `could not download ${name} of ${what}: ${reason}`,
      'the Hub or its CDN did not deliver it, retries included (NIX_HUG_MAX_RETRIES); run the command again later (finished downloads are kept)',
    );
  }
  const git = err.gitFailure;
  if (git) {
    return new NixHugError(`could not fetch the git repository of ${what}: ${oneLine(git.reason)}`, 'check your network, HF_ENDPOINT and HF_TOKEN, then run the command again');
  }
  // Another builder failed (e.g. the library refusing a symlink that leaves the repository): its last words.
  for (const drv of err.failedDerivations) {
    const log = (err.buildLogs.get(drv) ?? []).filter((l) => l.trim() !== '');
    const last = [...log].reverse().find((l) => /^nix-hug: /.test(l)) ?? log[log.length - 1];
    if (last) return new NixHugError(`building ${what} failed: ${oneLine(last.replace(/^nix-hug:\s*/, ''))}`, err.hint);
  }
  return err;
}
