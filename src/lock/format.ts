/**
 * The lock file (`nix-hug.lock`): what it holds, how it is read and how it
 * is written. JSON, meant to be read in a diff: a `version`, then one entry
 * per pinned repository, sorted by name, keys always in the same order, one
 * manifest line per file, a trailing newline. The same lock always renders
 * to the same bytes, so an entry nobody changed never shows in a diff.
 *
 * Reading checks everything (a hand edit gone wrong is reported, never
 * written back): field types, hashes, names, and that an inline manifest
 * hashes to the entry's `fileTreeHash`.
 */
import { NixHugError } from '../errors.js';
import { DEFAULT_ENDPOINT, hubEndpoint } from '../settings/endpoint.js';
import { isLegacyId, parseRepoUrl, validateRef } from '../hub/repo-id.js';
import { isRepoType } from '../hub/repo-type.js';
import { canonicalManifest, canonicalManifestHash, checkRepoPath, compareUtf8, type ManifestFile } from '../canonical-manifest.js';
import type { Filters, RepoType } from '../types.js';
import { quote } from '../ui/text.js';

/** The version this nix-hug writes and reads. A newer one is refused, never rewritten. */
export const LOCK_VERSION = 1;

/** How an entry carries its canonical manifest. */
export type LockManifest =
  /** In the lock itself: every file, in manifest order. */
  | { kind: 'inline'; files: ManifestFile[] }
  /** In a file of its own, `path` relative to the lock file's folder (`/`-separated). */
  | { kind: 'file'; path: string };

export interface LockEntry {
  /** Unique in the lock; the attribute name under `models` / `datasets` in Nix. */
  name: string;
  type: RepoType;
  /** `org/name`. */
  repoId: string;
  /** The Hub it comes from; null for the default (https://huggingface.co). */
  endpoint: string | null;
  /** The branch, tag or `refs/pr/N` it follows; null when pinned to a commit. */
  ref: string | null;
  /** 40-hex commit. */
  rev: string;
  filters: Filters | null;
  fileTreeHash: string;
  gitRepoHash: string;
  manifest: LockManifest;
}

export interface Lock {
  entries: LockEntry[];
}

/** What an entry may be called: a repository name's characters (as `models.<name>` reads in Nix, quoted when it holds a dot). */
export const ENTRY_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,95}$/;
const SRI_RE = /^sha256-[A-Za-z0-9+/]{43}=$/;
const REV_RE = /^[0-9a-f]{40}$/;
/** A vendored manifest's path: plain names only, so that it reads the same in a shell, in JSON and in Nix. */
const MANIFEST_PATH_RE = /^[A-Za-z0-9_+-][A-Za-z0-9._+-]*(\/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*$/;

const ENTRY_KEYS = ['name', 'type', 'repoId', 'endpoint', 'ref', 'rev', 'filters', 'fileTreeHash', 'gitRepoHash', 'manifest'] as const;

/** Why an entry name is not acceptable, or null. */
export function entryNameProblem(name: string): string | null {
  if (ENTRY_NAME_RE.test(name)) return null;
  return "a name has 1 to 96 letters, digits, '_', '-' or '.', and starts with a letter, digit or '_'";
}

function corrupt(file: string, why: string): NixHugError {
  return new NixHugError(
    `the lock file ${file} is not valid: ${why}`,
    `it was left untouched; fix it by hand, or restore it (e.g. \`git checkout -- ${file}\`)`,
  );
}

function newer(file: string, version: number): NixHugError {
  return new NixHugError(
    `the lock file ${file} has version ${version}, written by a newer nix-hug (this one reads version ${LOCK_VERSION})`,
    'upgrade nix-hug; the file was left untouched',
  );
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x !== '')) throw new Error(`${what} must be a non-empty list of strings`);
  return v as string[];
}

function readFilters(v: unknown): Filters | null {
  if (v === null) return null;
  if (!isObject(v)) throw new Error('"filters" must be null or an object');
  const keys = Object.keys(v);
  if (keys.includes('files')) {
    if (keys.length !== 1) throw new Error('"filters" with "files" cannot have "include" or "exclude"');
    const files = stringList(v.files, '"filters.files"');
    for (const f of files) checkRepoPath(f, '"filters.files"');
    return { files };
  }
  const extra = keys.filter((k) => k !== 'include' && k !== 'exclude');
  if (extra.length > 0 || keys.length === 0) throw new Error('"filters" takes "include" and/or "exclude", or "files"');
  const filters: Filters = {};
  if (v.include !== undefined) filters.include = stringList(v.include, '"filters.include"');
  if (v.exclude !== undefined) filters.exclude = stringList(v.exclude, '"filters.exclude"');
  return filters;
}

function readInlineManifest(v: Record<string, unknown>): ManifestFile[] {
  const files = Object.keys(v).map((path): ManifestFile => {
    checkRepoPath(path, 'the manifest');
    const value = v[path];
    if (value === 'git') return { path, lfs: null };
    if (isObject(value) && Object.keys(value).length === 2 && typeof value.sha256 === 'string' && /^[0-9a-f]{64}$/.test(value.sha256) && Number.isSafeInteger(value.size) && (value.size as number) >= 0) {
      return { path, lfs: { sha256: value.sha256, size: value.size as number } };
    }
    throw new Error(`the manifest's ${quote(path)} must be "git" or {"sha256": "<64 hex>", "size": <bytes>}`);
  });
  return files.sort((a, b) => compareUtf8(a.path, b.path));
}

function readEntry(v: unknown): LockEntry {
  if (!isObject(v)) throw new Error('an entry must be an object');
  const unknown = Object.keys(v).filter((k) => !(ENTRY_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`unknown field ${quote(unknown[0]!)}`);
  const str = (key: string): string => {
    if (typeof v[key] !== 'string') throw new Error(`"${key}" must be a string`);
    return v[key] as string;
  };
  const name = str('name');
  const nameProblem = entryNameProblem(name);
  if (nameProblem) throw new Error(`the name ${quote(name)} is not allowed: ${nameProblem}`);
  const type = str('type');
  if (!isRepoType(type)) throw new Error(`"type" must be "model", "dataset" or "space", not ${quote(type)}`);
  const repoId = str('repoId');
  let parsedId: string;
  try {
    parsedId = parseRepoUrl(repoId).repoId;
  } catch (err) {
    throw new Error(`"repoId": ${(err as Error).message}`);
  }
  // The canonical org/name only: `add` resolves a legacy id (`gpt2`) before it records it, and the library takes org/name.
  if (parsedId !== repoId || isLegacyId(repoId)) throw new Error(`"repoId" must be org/name, not ${quote(repoId)}`);
  let endpoint: string | null = null;
  if (v.endpoint !== undefined) {
    const raw = str('endpoint');
    let normal: string;
    try {
      normal = hubEndpoint({ HF_ENDPOINT: raw });
    } catch (err) {
      throw new Error(`"endpoint": ${(err as Error).message}`);
    }
    if (normal !== raw) throw new Error(`"endpoint" must be written ${quote(normal)}`);
    endpoint = raw === DEFAULT_ENDPOINT ? null : raw;
  }
  let ref: string | null = null;
  if (v.ref !== null) {
    ref = str('ref');
    try {
      validateRef(ref, 'in "ref"');
    } catch (err) {
      throw new Error((err as Error).message);
    }
  }
  const rev = str('rev');
  if (!REV_RE.test(rev)) throw new Error('"rev" must be a commit: 40 lowercase hex digits');
  const fileTreeHash = str('fileTreeHash');
  if (!SRI_RE.test(fileTreeHash)) throw new Error('"fileTreeHash" must be "sha256-" and 44 base64 characters');
  const gitRepoHash = str('gitRepoHash');
  if (!SRI_RE.test(gitRepoHash)) throw new Error('"gitRepoHash" must be "sha256-" and 44 base64 characters');
  const filters = readFilters(v.filters === undefined ? null : v.filters);
  let manifest: LockManifest;
  if (typeof v.manifest === 'string') {
    const path = v.manifest;
    if (!MANIFEST_PATH_RE.test(path)) throw new Error(`"manifest" ${quote(path)} must be a relative path of plain names (letters, digits, . _ + -)`);
    manifest = { kind: 'file', path };
  } else if (isObject(v.manifest)) {
    const files = readInlineManifest(v.manifest);
    if (canonicalManifestHash(canonicalManifest(files)) !== fileTreeHash) throw new Error('its manifest does not hash to its "fileTreeHash" (edited by hand?)');
    manifest = { kind: 'inline', files };
  } else {
    throw new Error('"manifest" must be an object of files or the path of a manifest file');
  }
  return { name, type, repoId, endpoint, ref, rev, filters, fileTreeHash, gitRepoHash, manifest };
}

/** Parses and checks a lock file's text; `file` names it in errors. */
export function parseLock(text: string, file: string): Lock {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw corrupt(file, `not JSON (${(err as Error).message})`);
  }
  if (!isObject(data)) throw corrupt(file, 'expected a JSON object');
  if (typeof data.version !== 'number' || !Number.isInteger(data.version)) throw corrupt(file, 'no "version" number');
  if (data.version > LOCK_VERSION) throw newer(file, data.version);
  if (data.version !== LOCK_VERSION) throw corrupt(file, `unknown version ${data.version}`);
  const extra = Object.keys(data).filter((k) => k !== 'version' && k !== 'entries');
  if (extra.length > 0) throw corrupt(file, `unknown field ${quote(extra[0]!)}`);
  if (!Array.isArray(data.entries)) throw corrupt(file, '"entries" must be a list');
  const seen = new Set<string>();
  const entries = data.entries.map((e: unknown, i: number) => {
    const label = isObject(e) && typeof e.name === 'string' ? `entry ${quote(e.name)}` : `entry ${i + 1}`;
    let entry: LockEntry;
    try {
      entry = readEntry(e);
    } catch (err) {
      throw corrupt(file, `${label}: ${(err as Error).message}`);
    }
    if (seen.has(entry.name)) throw corrupt(file, `two entries are called ${quote(entry.name)}`);
    seen.add(entry.name);
    return entry;
  });
  return { entries: sortEntries(entries) };
}

export function sortEntries(entries: readonly LockEntry[]): LockEntry[] {
  return [...entries].sort((a, b) => compareUtf8(a.name, b.name));
}

/** One line of JSON with a space after `:` and `,` (filters, a manifest line). */
function inline(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (isObject(value)) return `{ ${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`).join(', ')} }`;
  return JSON.stringify(value);
}

function renderFiltersJson(filters: Filters): string {
  const ordered: Record<string, Json> = {};
  if (filters.files) ordered.files = filters.files;
  if (filters.include) ordered.include = filters.include;
  if (filters.exclude) ordered.exclude = filters.exclude;
  return inline(ordered);
}

function renderManifest(manifest: LockManifest, indent: string): string {
  if (manifest.kind === 'file') return JSON.stringify(manifest.path);
  if (manifest.files.length === 0) return '{}';
  // Keys written in manifest order (an object built in JS would move "0", "1"… first).
  const lines = manifest.files.map(
    (f) => `${indent}  ${JSON.stringify(f.path)}: ${f.lfs ? inline({ sha256: f.lfs.sha256, size: f.lfs.size }) : '"git"'}`,
  );
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

function renderEntry(e: LockEntry): string {
  const ind = '      ';
  const fields: [string, string][] = [
    ['name', JSON.stringify(e.name)],
    ['type', JSON.stringify(e.type)],
    ['repoId', JSON.stringify(e.repoId)],
  ];
  if (e.endpoint !== null && e.endpoint !== DEFAULT_ENDPOINT) fields.push(['endpoint', JSON.stringify(e.endpoint)]);
  fields.push(
    ['ref', JSON.stringify(e.ref)],
    ['rev', JSON.stringify(e.rev)],
    ['filters', e.filters ? renderFiltersJson(e.filters) : 'null'],
    ['fileTreeHash', JSON.stringify(e.fileTreeHash)],
    ['gitRepoHash', JSON.stringify(e.gitRepoHash)],
    ['manifest', renderManifest(e.manifest, ind)],
  );
  return `    {\n${fields.map(([k, v]) => `${ind}${JSON.stringify(k)}: ${v}`).join(',\n')}\n    }`;
}

/** The lock's text: entries sorted by name, a trailing newline. */
export function renderLock(lock: Lock): string {
  const entries = sortEntries(lock.entries);
  const body = entries.length === 0 ? '[]' : `[\n${entries.map(renderEntry).join(',\n')}\n  ]`;
  return `{\n  "version": ${LOCK_VERSION},\n  "entries": ${body}\n}\n`;
}
