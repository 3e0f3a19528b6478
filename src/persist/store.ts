/**
 * The Nix commands persistence needs: copy paths to and from a store URL,
 * sign them, check signatures and validity. Each wraps one `nix` call and
 * turns its failure into a NixHugError that names the store and the path.
 */
import { InterruptedError, NixHugError } from '../errors.js';
import { capture, COMMON_FLAGS, nixEnv, stripAnsi } from '../nix/nix.js';

export interface PathInfo {
  path: string;
  /** `sha256-<base64>` (or `sha256:<base32>` from some versions). */
  narHash?: string;
  narSize?: number;
  references?: string[];
  signatures?: string[];
  /** Set for content-addressed paths (which need no signature). */
  ca?: string;
  /** The `.drv` that built it, when known. */
  deriver?: string;
}

/** Runs nix (or nix-store), returning stdout; a non-zero exit is returned to the caller. `signal` stops it. */
async function run(cmd: 'nix' | 'nix-store', args: string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const full = cmd === 'nix' ? [...COMMON_FLAGS, ...args] : args;
  try {
    const out = await capture(cmd, full, nixEnv(env), undefined, signal);
    return { ...out, stderr: stripAnsi(out.stderr) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NixHugError(`\`${cmd}\` was not found on PATH`, 'install Nix and make sure it is on PATH');
    }
    throw err;
  }
}

/**
 * Nix remembers for an hour that a binary cache lacks a path (and for a month
 * that it has one). A persist store's index changes under other machines'
 * exports: ask the store itself every time.
 */
export const FRESH_STORE_INFO = ['--option', 'narinfo-cache-negative-ttl', '0', '--option', 'narinfo-cache-positive-ttl', '0'];

/** Nix's `error: …` text, on one line. */
export function nixErrorText(stderr: string): string {
  const idx = stderr.lastIndexOf('error:');
  // A web server's error page (HTML) follows `response body:`: not for the terminal.
  const body = (idx >= 0 ? stderr.slice(idx + 'error:'.length) : stderr).split(/response body:/)[0] ?? '';
  return body.split('\n').map((l) => l.trim()).filter(Boolean).join(' ') || 'unknown error';
}

/** Nix refused a path for want of a trusted signature (2.8: "lacks a valid signature"; newer: "lacks a signature by a trusted key"). */
export function isSignatureRejection(text: string): boolean {
  return /lacks a (valid )?signature|signature by a trusted key/.test(text);
}

/** `ssh://` and `ssh-ng://` stores: another machine's Nix store, reached with `ssh`. */
export function isSshUrl(storeUrl: string): boolean {
  return /^ssh(-ng)?:\/\//i.test(storeUrl);
}

function storeHint(url: string, text: string): string {
  if (isSignatureRejection(text)) return 'Nix takes these paths only signed by a key it trusts, or from one of its trusted-users';
  if (/AccessDenied|credentials|InvalidAccessKeyId|NoSuchBucket/i.test(text)) return `check the S3 bucket and your AWS credentials for ${url}`;
  if (/ssh|Permission denied|Host key/i.test(text) && /^ssh/.test(url)) return `check that \`ssh\` to the host of ${url} works without a password prompt`;
  if (/No space left/i.test(text)) return 'free some disk space and try again';
  if (/^https?:/i.test(url) && /unable to upload|HTTP error 40[135]/.test(text)) {
    return `${url} does not take uploads (web servers usually serve a binary cache read-only): export on the machine that holds the directory it serves, with persist_dir set to that directory; this URL is for store ls, import and extra-substituters`;
  }
  return `check that ${url} is reachable and writable`;
}

/**
 * Parses `nix path-info --json`: Nix 2.8 prints an array of objects (an
 * invalid path as `{"path": P, "valid": false}`); newer Nix prints an object
 * keyed by path (an invalid path as `null`). Returns path → info, or null
 * when the path is not valid.
 */
export function parsePathInfoJson(text: string): Map<string, PathInfo | null> {
  const data: unknown = JSON.parse(text);
  const out = new Map<string, PathInfo | null>();
  if (Array.isArray(data)) {
    for (const item of data as Array<Record<string, unknown>>) {
      if (typeof item?.path !== 'string') continue;
      out.set(item.path, item.valid === false ? null : toInfo(item.path, item));
    }
  } else if (data && typeof data === 'object') {
    for (const [path, item] of Object.entries(data as Record<string, Record<string, unknown> | null>)) {
      out.set(path, item === null ? null : toInfo(path, item));
    }
  } else {
    throw new Error('unexpected JSON from nix path-info');
  }
  return out;
}

function toInfo(path: string, item: Record<string, unknown>): PathInfo {
  const info: PathInfo = { path };
  if (typeof item.narHash === 'string') info.narHash = item.narHash;
  if (typeof item.narSize === 'number') info.narSize = item.narSize;
  if (Array.isArray(item.references)) info.references = item.references.filter((r): r is string => typeof r === 'string');
  if (Array.isArray(item.signatures)) info.signatures = item.signatures.filter((s): s is string => typeof s === 'string');
  if (typeof item.ca === 'string' && item.ca) info.ca = item.ca;
  if (typeof item.deriver === 'string' && item.deriver) info.deriver = item.deriver;
  return info;
}

/** `nix path-info --json [--store URL] [--sigs] [-r] PATHS`: path → info or null (not in that store). */
export async function pathInfo(
  paths: string[],
  env: NodeJS.ProcessEnv,
  opts: { storeUrl?: string; recursive?: boolean; sigs?: boolean } = {},
): Promise<Map<string, PathInfo | null>> {
  if (paths.length === 0) return new Map();
  const args = ['path-info', '--json'];
  if (opts.storeUrl) args.push('--store', opts.storeUrl, ...FRESH_STORE_INFO);
  if (opts.sigs) args.push('--sigs');
  if (opts.recursive) args.push('-r');
  const out = await run('nix', [...args, ...paths], env);
  if (out.code !== 0) {
    // Newer Nix exits non-zero for a missing path; that is an answer, not a failure.
    if (/is not valid|does not exist|don't know how to build/.test(out.stderr) && !opts.recursive) {
      const missing = new Map<string, PathInfo | null>();
      for (const p of paths) missing.set(p, null);
      return missing;
    }
    const where = opts.storeUrl ?? 'the local store';
    throw new NixHugError(`nix path-info failed on ${where}: ${nixErrorText(out.stderr)}`, opts.storeUrl ? storeHint(opts.storeUrl, out.stderr) : undefined);
  }
  try {
    return parsePathInfoJson(out.stdout);
  } catch {
    throw new NixHugError(`unexpected output from nix path-info: ${out.stdout.slice(0, 200)}`);
  }
}

/**
 * Where `nix copy --to` writes: a `file://` binary cache gets zstd unless the
 * URL chooses a compression. Nix's default, xz, packs weights (which do not
 * compress) at 1.4 MB/s here — 33 s for 48 MB, hours for a 7B model — where
 * zstd takes 0.4 s; any Nix since 2.4 reads both.
 */
export function copyDestination(storeUrl: string): string {
  if (!/^file:\/\//i.test(storeUrl) || /[?&]compression=/.test(storeUrl)) return storeUrl;
  return `${storeUrl}${storeUrl.includes('?') ? '&' : '?'}compression=zstd`;
}

export interface CopyToOptions {
  /** Stops the copy (InterruptedError). */
  signal?: AbortSignal;
  /**
   * Asks the receiving store not to check signatures (`--no-check-sigs`).
   * Another machine's store honours it only for a user it trusts; others
   * still need a signature by a key it trusts.
   */
  noCheckSigs?: boolean;
  /** The hint when the receiving store refuses the paths for want of a trusted signature. */
  rejectedHint?: string;
  /** Copy from this store instead of the local one (`nix copy --from`). */
  from?: string;
  /** PATHS are `.drv` files, copied themselves with their closures (sources, other `.drv` files), not built. */
  derivations?: boolean;
}

/** `nix copy --to URL PATHS` (the paths' closures). */
export async function copyTo(storeUrl: string, paths: string[], env: NodeJS.ProcessEnv, opts: CopyToOptions = {}): Promise<void> {
  const args = ['copy', ...(opts.derivations ? ['--derivation'] : []), '--to', copyDestination(storeUrl)];
  if (opts.from) args.push('--from', opts.from, ...FRESH_STORE_INFO);
  if (opts.noCheckSigs) args.push('--no-check-sigs');
  const out = await run('nix', [...args, ...paths], env, opts.signal);
  if (opts.signal?.aborted) throw new InterruptedError(`copying to ${storeUrl}`);
  if (out.code !== 0) {
    const hint = opts.rejectedHint && isSignatureRejection(out.stderr) ? opts.rejectedHint : storeHint(storeUrl, out.stderr);
    throw new NixHugError(`could not copy ${paths.join(' ')} to ${storeUrl}: ${nixErrorText(out.stderr)}`, hint);
  }
}

/**
 * Which of PATHS the store at URL holds. `nix-store --check-validity` asks
 * only that: `nix path-info` would also make an ssh-ng remote ask its own
 * substituters about every missing path (seconds each without network).
 */
export async function validIn(storeUrl: string, paths: string[], env: NodeJS.ProcessEnv): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const out = await run('nix-store', ['--store', storeUrl, ...FRESH_STORE_INFO, '--check-validity', '--print-invalid', ...paths], env);
  if (out.code !== 0) {
    throw new NixHugError(`could not look into the persist store ${storeUrl}: ${nixErrorText(out.stderr)}`, storeHint(storeUrl, out.stderr));
  }
  const invalid = new Set(out.stdout.split('\n').filter(Boolean));
  return new Set(paths.filter((p) => !invalid.has(p)));
}

export interface CopyFromOptions {
  /** Keys accepted for this run, on top of the user's own `trusted-public-keys`. */
  trustedKeys: string[];
  /** Only after the user explicitly trusted the store. */
  noCheckSigs: boolean;
  /** Stops the copy (InterruptedError). */
  signal?: AbortSignal;
  /** PATHS are `.drv` files, copied themselves (with their closures), not built. */
  derivations?: boolean;
}

/** `nix copy --from URL PATHS`, verifying signatures unless the user trusted the store. */
export async function copyFrom(storeUrl: string, paths: string[], env: NodeJS.ProcessEnv, opts: CopyFromOptions): Promise<void> {
  const args = ['copy', '--from', storeUrl, ...(opts.derivations ? ['--derivation'] : [])];
  if (opts.noCheckSigs) args.push('--no-check-sigs');
  else if (opts.trustedKeys.length > 0) args.push('--option', 'extra-trusted-public-keys', opts.trustedKeys.join(' '));
  const out = await run('nix', [...args, ...paths], env, opts.signal);
  if (opts.signal?.aborted) throw new InterruptedError(`copying from ${storeUrl}`);
  if (out.code !== 0) {
    throw new NixHugError(`could not copy ${paths.join(' ')} from ${storeUrl}: ${nixErrorText(out.stderr)}`, storeHint(storeUrl, out.stderr));
  }
}

/**
 * Signs PATHS and their closures with the secret key: in the local store
 * (`storeUrl` undefined) or directly in a binary cache (`nix store sign
 * --store URL`, which rewrites the `.narinfo` files).
 */
export async function sign(keyFile: string, paths: string[], env: NodeJS.ProcessEnv, storeUrl?: string): Promise<void> {
  const args = ['store', 'sign', '-r', '--key-file', keyFile];
  if (storeUrl) args.push('--store', storeUrl);
  const out = await run('nix', [...args, ...paths], env);
  if (out.code !== 0) {
    throw new NixHugError(`could not sign ${paths.join(' ')}${storeUrl ? ` in ${storeUrl}` : ''}: ${nixErrorText(out.stderr)}`, storeUrl ? storeHint(storeUrl, out.stderr) : undefined);
  }
}

export type Trust = { trusted: true } | { trusted: false; untrusted: string[] };

/**
 * Nix's own judgement of whether PATHS (with closures) in the store at URL
 * may be imported without `--no-check-sigs`: each path content-addressed, or
 * signed by a trusted key (the user's, plus `trustedKeys`). Reads only the
 * `.narinfo` files (`--no-contents`). Exit status bit 2 means "untrusted".
 */
export async function verifyTrust(storeUrl: string, paths: string[], env: NodeJS.ProcessEnv, trustedKeys: string[]): Promise<Trust> {
  const args = ['store', 'verify', '--store', storeUrl, '--no-contents', '-r'];
  if (trustedKeys.length > 0) args.push('--option', 'extra-trusted-public-keys', trustedKeys.join(' '));
  const out = await run('nix', [...args, ...paths], env);
  if (out.code === 0) return { trusted: true };
  const untrusted = [...out.stderr.matchAll(/path '([^']+)' is untrusted/g)].map((m) => m[1] ?? '');
  if (out.code === 2 && untrusted.length > 0) return { trusted: false, untrusted };
  throw new NixHugError(`could not check the signatures of ${paths.join(' ')} in ${storeUrl}: ${nixErrorText(out.stderr)}`, storeHint(storeUrl, out.stderr));
}

/** The output paths a `.drv` in the local store declares (`nix-store -q --outputs`). */
export async function derivationOutputs(drv: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const out = await run('nix-store', ['-q', '--outputs', drv], env);
  if (out.code !== 0) throw new NixHugError(`could not read the derivation ${drv}: ${nixErrorText(out.stderr)}`);
  return out.stdout.split('\n').filter(Boolean);
}

/**
 * The `.drv` lines under "… will be built:" in the dry run of `nix-store --realise`: Nix 2.8 and
 * 2.26 both say "these N derivations will be built:" (2.26 "this derivation …" for one); paths
 * "… will be fetched" are substitutes, not builds.
 */
export function parsePlannedBuilds(dryRunStderr: string): string[] {
  const builds: string[] = [];
  let inBuildList = false;
  for (const line of dryRunStderr.split('\n')) {
    if (/will be built:?$/.test(line.trim())) inBuildList = true;
    else if (/^\s+\/nix\/store\/\S+$/.test(line)) {
      if (inBuildList) builds.push(line.trim());
    } else inBuildList = false;
  }
  return builds;
}

/** The derivations `nix-store --realise DRV` would build (DRV itself among them unless its outputs are valid). */
export async function plannedBuilds(drv: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const out = await run('nix-store', ['--realise', '--dry-run', drv], env);
  if (out.code !== 0) throw new NixHugError(`could not plan the build of ${drv}: ${nixErrorText(out.stderr)}`);
  return parsePlannedBuilds(out.stderr);
}

/** `nix-store --realise DRV`: builds it (by the daemon, when there is one). */
export async function realise(drv: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  const out = await run('nix-store', ['--realise', drv], env, signal);
  if (signal?.aborted) throw new InterruptedError(`building ${drv}`);
  if (out.code !== 0) throw new NixHugError(`could not build ${drv}: ${nixErrorText(out.stderr)}`);
}
