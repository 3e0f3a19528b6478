/**
 * `fetch --vendor DIR`: the canonical manifest written to a file of its own
 * (exactly the text `fileTreeHash` hashes), for the library to read by a
 * relative path, so that evaluation needs no network for repositories of
 * any size. One file per repository and commit, named so that a person can
 * tell which (`models--org--name--0123456789ab.tsv`, the HF cache's folder
 * name and the commit) and so that the name is a plain Nix path literal.
 * Written to a temporary sibling and renamed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { NixHugError, UsageError } from './errors.js';
import { relativeNixPath } from './nix/expr.js';
import { cacheFolderName } from './hub/repo-type.js';
import type { RepoRef } from './types.js';

/** `models--org--name--<12 hex of the commit>.tsv` (`datasets--…`, `spaces--…`): the HF cache's folder name and the commit. */
export function vendoredFileName(repo: RepoRef, rev: string): string {
  return `${cacheFolderName(repo)}--${rev.slice(0, 12)}.tsv`;
}

/** Refuses a DIR that cannot hold the file, before any request. Returns its absolute path. */
export async function checkVendorDir(dir: string, cwd: string): Promise<string> {
  const abs = resolve(cwd, dir);
  if (abs === '/nix/store' || abs.startsWith('/nix/store/')) {
    throw new UsageError(`refusing --vendor ${dir}: it is inside the Nix store`, 'choose a folder beside your Nix files, e.g. --vendor ./nix-hug');
  }
  const st = await stat(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (st && !st.isDirectory()) throw new UsageError(`--vendor ${dir} exists and is not a folder`, 'give a folder (it is created when missing)');
  return abs;
}

export interface VendoredManifest {
  /** Absolute path of the file. */
  file: string;
  /** What the printed expression reads: a Nix path relative to `cwd`, where the expression is saved. */
  nixPath: string;
  /** The file existed with other text and was replaced. */
  replaced: boolean;
  /** The file existed with exactly this text (nothing written). */
  unchanged: boolean;
}

export async function vendorManifest(opts: { dir: string; cwd: string; repo: RepoRef; rev: string; text: string }): Promise<VendoredManifest> {
  const dir = await checkVendorDir(opts.dir, opts.cwd);
  const file = join(dir, vendoredFileName(opts.repo, opts.rev));
  const nixPath = relativeNixPath(relative(opts.cwd, file));
  const old = await readFile(file, 'utf8').catch(() => null);
  if (old === opts.text) return { file, nixPath, replaced: false, unchanged: true };
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(tmp, opts.text, { flag: 'wx' });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new NixHugError(`cannot write the manifest of ${opts.repo.type} ${opts.repo.repoId} to ${file}: ${(err as Error).message}`, 'check that the --vendor folder is writable');
  }
  return { file, nixPath, replaced: old !== null, unchanged: false };
}
