/**
 * `fetch` keeps what it built, as `nix build` does: a `result`-style symlink
 * that Nix registers as a GC root (an indirect root, which also works for a
 * normal user through the nix-daemon), so `nix-collect-garbage` leaves the
 * snapshot alone for as long as the link exists.
 */
import { lstat, readlink } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { quote } from '../ui/text.js';

/** What nix build names its link when given no --out-link. */
export const DEFAULT_OUT_LINK = 'result';

const STORE_DIR = '/nix/store/';

export interface OutLinkChoice {
  /** --out-link PATH, if given. */
  outLink?: string | undefined;
  /** false with --no-link. */
  link: boolean;
  /** Something is built (false with --no-build and --dry-run). */
  build: boolean;
  /** --out DIR: the copy is the user's result; no link unless --out-link asks for one. */
  out?: string | undefined;
}

/** The absolute link path this run makes, or null for none; UsageError for contradictions. */
export function chooseOutLink(choice: OutLinkChoice, cwd: string): string | null {
  if (choice.outLink !== undefined && !choice.link) throw new UsageError('--out-link and --no-link contradict each other', 'keep one of them');
  if (choice.outLink === '') throw new UsageError('--out-link needs a path', `e.g. --out-link ./${DEFAULT_OUT_LINK}`);
  if (!choice.build) {
    if (choice.outLink !== undefined) throw new UsageError('--out-link needs a build: it points at the built store path', 'drop --no-build (or --dry-run), or drop --out-link');
    return null;
  }
  if (!choice.link) return null;
  if (choice.outLink !== undefined) return resolve(cwd, choice.outLink);
  return choice.out === undefined ? resolve(cwd, DEFAULT_OUT_LINK) : null;
}

/** `./result` for a link below the current directory, else the absolute path. */
export function showLink(link: string, cwd: string): string {
  const rel = relative(cwd, link);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep) ? `.${sep}${rel}` : link;
}

/**
 * Before any request: the link may be made there. An existing entry is
 * replaced only when it is a link into the Nix store (an earlier result);
 * anything else is the user's and stays. Returns the store path it points
 * at now, if any (to say that it is no longer held).
 */
export async function checkOutLink(link: string, cwd: string): Promise<string | null> {
  const shown = showLink(link, cwd);
  const parent = await lstat(dirname(link)).catch(() => null);
  if (!parent?.isDirectory()) throw new UsageError(`cannot make the link ${shown}: ${quote(dirname(link))} is not a directory`, 'create it first, or give --out-link another path');
  const st = await lstat(link).catch(() => null);
  if (st === null) return null;
  const refuse = (what: string) =>
    new UsageError(`refusing to replace ${shown}: it is ${what}`, `move it away, or give another place with --out-link PATH (or --no-link for no GC root)`);
  if (!st.isSymbolicLink()) throw refuse(st.isDirectory() ? 'a directory, not a link to a store path' : 'a file, not a link to a store path');
  const target = await readlink(link);
  if (!target.startsWith(STORE_DIR)) throw refuse(`a link to ${quote(target)}, not to a store path`);
  return target;
}
