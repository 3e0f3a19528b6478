/**
 * The export index: the records of what was exported, kept in the persist
 * store itself, so that every machine using the store sees them — a
 * directory, an ssh store, an HTTP or S3 binary cache alike.
 *
 * Record N is a small store object at a fixed, computable path
 * (`slotPath(N)`, named `nix-hug-export-N`) holding one JSON file. A
 * directory and an ssh store keep the first object written at a path: an
 * export claims the lowest free slot, and when another machine claimed it
 * first (the object holds other bytes) it takes the next one. So concurrent
 * exports never overwrite each other and no record is rewritten. (S3 and
 * HTTP caches keep the last write instead: there a record is read back
 * again after a pause.) Readers ask which slots exist until 64 in a row are
 * free, and copy those objects out.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NixHugError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { withInterrupt } from '../interrupt.js';
import { makeStorePath } from '../nix/store-path.js';
import type { PersistConfig } from '../settings/persist.js';
import { fileOfNar, narOfFile } from './nar.js';
import { fingerprint, nixSha256, renderNarInfo, signWithSecretKey, sriSha256, type NarInfo } from './narinfo.js';
import { checkRecord, type ExportRecord } from './records.js';
import { copyTo, isSshUrl, pathInfo, validIn } from './store.js';

/** `kind` of every record: a JSON file in a store saying what it is. */
export const RECORD_KIND = 'nix-hug-export';
/**
 * Raised only for a change older readers would misread; added fields keep
 * it (readers ignore fields they do not know).
 */
export const RECORD_VERSION = 1;
/** Reading stops after this many free slots in a row (holes appear where an ssh store collected records). */
const GAP = 64;
/** A bound on the probe loop (64 000 exports), so that a broken store cannot keep us asking forever. */
const MAX_SLOTS = 64_000;
const STORE_DIR = '/nix/store';

/** The store path of record N: the same in every store and for every version of nix-hug. */
export function slotPath(n: number): string {
  const name = `nix-hug-export-${n}`;
  return makeStorePath(RECORD_KIND, createHash('sha256').update(name).digest('hex'), name, STORE_DIR);
}

/** The JSON of a record, as stored. */
export function encodeRecord(record: ExportRecord): Buffer {
  const { slot: _slot, ...fields } = record;
  return Buffer.from(JSON.stringify({ kind: RECORD_KIND, version: RECORD_VERSION, ...fields }, null, 2) + '\n', 'utf8');
}

export type Decoded = { record: ExportRecord } | { skipped: string };

/** A record from its stored bytes, or why it is skipped (not a record, a newer format, a bad field). */
export function decodeRecord(bytes: Uint8Array): Decoded {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    return { skipped: `not valid JSON (${(err as Error).message})` };
  }
  const d = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (d.kind !== RECORD_KIND) return { skipped: 'not a nix-hug export record' };
  if (typeof d.version !== 'number' || !Number.isInteger(d.version) || d.version < 1) return { skipped: 'no valid "version"' };
  if (d.version > RECORD_VERSION) return { skipped: `written by a newer nix-hug (record version ${d.version}; this one reads ${RECORD_VERSION}): upgrade nix-hug to see it` };
  try {
    return { record: checkRecord(d) };
  } catch (err) {
    return { skipped: (err as Error).message };
  }
}

/**
 * The slots the store holds (ascending), from `from` on, until GAP free slots
 * in a row. Each question covers 2 × GAP slots, so a store with fewer than
 * GAP records is read with one (an ssh connection each, about a second).
 */
export async function probeSlots(storeUrl: string, env: NodeJS.ProcessEnv, from = 0): Promise<number[]> {
  const found: number[] = [];
  for (let start = from; start < from + MAX_SLOTS; start += 2 * GAP) {
    const paths = Array.from({ length: 2 * GAP }, (_, i) => slotPath(start + i));
    const valid = await validIn(storeUrl, paths, env);
    found.push(...paths.flatMap((p, i) => (valid.has(p) ? [start + i] : [])));
    const last = found.length > 0 ? (found[found.length - 1] as number) : from - 1;
    if (start + 2 * GAP - 1 - last >= GAP) break;
  }
  return found;
}

export interface IndexContents {
  records: ExportRecord[];
  /** Slots that hold no record this nix-hug can use, and why. */
  skipped: Array<{ slot: number; why: string }>;
}

/** Copies slot objects into a scratch binary cache (uncompressed) and reads each one's JSON. */
async function readSlots(storeUrl: string, slots: number[], env: NodeJS.ProcessEnv): Promise<IndexContents> {
  const dir = await mkdtemp(join(tmpdir(), 'nix-hug-index-'));
  const out: IndexContents = { records: [], skipped: [] };
  try {
    const scratch = `file://${dir}?compression=none`;
    const paths = slots.map(slotPath);
    try {
      await copyTo(scratch, paths, env, { from: storeUrl });
    } catch {
      // One unreadable object fails the whole copy: copy one by one to find it, keep the others.
      for (const [i, p] of paths.entries()) {
        await copyTo(scratch, [p], env, { from: storeUrl }).catch((err: unknown) => {
          out.skipped.push({ slot: slots[i] ?? -1, why: err instanceof NixHugError ? err.message : String(err) });
        });
      }
    }
    for (const slot of slots) {
      if (out.skipped.some((s) => s.slot === slot)) continue;
      const hashPart = slotPath(slot).slice(STORE_DIR.length + 1, STORE_DIR.length + 33);
      try {
        const narinfo = await readFile(join(dir, `${hashPart}.narinfo`), 'utf8');
        const url = /^URL: (.+)$/m.exec(narinfo)?.[1];
        if (!url || url.includes('..')) throw new Error('no URL in its .narinfo');
        const decoded = decodeRecord(fileOfNar(await readFile(join(dir, url))));
        if ('record' in decoded) out.records.push({ ...decoded.record, slot });
        else out.skipped.push({ slot, why: decoded.skipped });
      } catch (err) {
        out.skipped.push({ slot, why: `unreadable: ${(err as Error).message}` });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  out.skipped.sort((a, b) => a.slot - b.slot);
  return out;
}

/** Every record in the store's index. */
export async function readIndex(storeUrl: string, env: NodeJS.ProcessEnv): Promise<IndexContents> {
  const slots = await probeSlots(storeUrl, env);
  if (slots.length === 0) return { records: [], skipped: [] };
  return readSlots(storeUrl, slots, env);
}

/** The signed `.narinfo` and NAR of record bytes at slot N. */
function slotObject(n: number, bytes: Buffer, secretKey: { text: string; file: string }): { info: NarInfo; nar: Buffer } {
  const nar = narOfFile(bytes);
  const narHash = nixSha256(nar);
  const info: NarInfo = {
    storePath: slotPath(n),
    url: `nar/${narHash.slice('sha256:'.length)}.nar`,
    compression: 'none',
    fileHash: narHash,
    fileSize: nar.length,
    narHash,
    narSize: nar.length,
    references: [],
    sigs: [],
  };
  info.sigs.push(signWithSecretKey(secretKey.text, fingerprint(info), secretKey.file));
  return { info, nar };
}

/**
 * Claims slot `info.storePath` in a binary cache directory: the `.narinfo`
 * appears complete or not at all (`link` of a finished temporary file), and
 * `link` fails when the name exists — the first machine wins, on a local
 * disk as on NFS.
 */
async function claimInDirectory(dir: string, info: NarInfo, nar: Buffer): Promise<boolean> {
  await mkdir(join(dir, 'nar'), { recursive: true });
  // A cache nix has never written to lacks this; nix reads the directory only with it.
  await writeFile(join(dir, 'nix-cache-info'), `StoreDir: ${STORE_DIR}\n`, { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  await writeFileAtomic(join(dir, info.url), nar); // named by its hash: a second writer of the same bytes changes nothing
  const hashPart = info.storePath.slice(STORE_DIR.length + 1, STORE_DIR.length + 33);
  const tmp = join(dir, `.${hashPart}.narinfo.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(tmp, renderNarInfo(info), { flag: 'wx', mode: 0o644 });
    await link(tmp, join(dir, `${hashPart}.narinfo`));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Taken: by these very bytes (a retry), or by another record.
    const theirs = await readFile(join(dir, `${hashPart}.narinfo`), 'utf8').catch(() => '');
    return new RegExp(`^NarHash: ${info.narHash}$`, 'm').test(theirs);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Whether the store's object at `path` holds exactly `nar` (its NAR hash, in either form Nix prints). */
async function holds(storeUrl: string, path: string, nar: Buffer, env: NodeJS.ProcessEnv): Promise<boolean> {
  const info = (await pathInfo([path], env, { storeUrl })).get(path);
  return info?.narHash === sriSha256(nar) || info?.narHash === nixSha256(nar);
}

export interface PublishOptions {
  cfg: PersistConfig;
  env: NodeJS.ProcessEnv;
  record: ExportRecord;
  secretKey: { text: string; file: string };
  /** The hint when another machine's store refuses the record for want of a trusted signature. */
  rejectedHint: string;
  /**
   * Stores that replace an object written twice (S3 and HTTP binary caches)
   * are checked again after this pause, so that a record overwritten by a
   * racing export is written anew. Default 2 s.
   */
  recheckMs?: number;
}

/** Other machines' stores keep the first object written at a path; S3 and HTTP caches keep the last. */
function keepsLastWrite(storeUrl: string): boolean {
  return /^(s3|gs|https?):\/\//i.test(storeUrl);
}

/** Adds a record to the store's index; returns its slot. */
export async function publishRecord(opts: PublishOptions): Promise<number> {
  return publishBytes(opts, encodeRecord(opts.record));
}

/**
 * Tries to put record bytes at slot N: true when the store now holds exactly
 * them there, false when another export had claimed the slot.
 */
export async function claimSlot(opts: Omit<PublishOptions, 'record'>, n: number, bytes: Buffer): Promise<boolean> {
  const url = opts.cfg.storeUrl;
  if (url === null) throw new Error('claimSlot: no persist store configured');
  const { info, nar } = slotObject(n, bytes, opts.secretKey);
  if (opts.cfg.localDir !== null) {
    return claimInDirectory(opts.cfg.localDir, info, nar).catch((err: unknown) => {
      throw new NixHugError(`could not write the export record into ${opts.cfg.localDir}: ${(err as Error).message}`, 'check that the persist directory is writable and has room');
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'nix-hug-record-'));
  try {
    await claimInDirectory(dir, info, nar);
    // ssh stores: a trusted user may skip the signature check; others need nix-hug's key trusted there.
    await copyTo(url, [info.storePath], opts.env, { from: `file://${dir}`, noCheckSigs: isSshUrl(url), rejectedHint: opts.rejectedHint });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (!(await holds(url, info.storePath, nar, opts.env))) return false;
  if (!keepsLastWrite(url)) return true;
  const interrupt = withInterrupt();
  await sleep(opts.recheckMs ?? 2000, undefined, interrupt ? { signal: interrupt } : {});
  return holds(url, info.storePath, nar, opts.env);
}

/** Adds the bytes of a record (as this or another version of nix-hug wrote it) to the store's index. */
export async function publishBytes(opts: Omit<PublishOptions, 'record'>, bytes: Buffer): Promise<number> {
  const url = opts.cfg.storeUrl;
  if (url === null) throw new Error('publishRecord: no persist store configured');
  let taken = new Set(await probeSlots(url, opts.env));
  let n = 0;
  for (let attempt = 0; attempt < 50; attempt++) {
    while (taken.has(n)) n++;
    if (await claimSlot(opts, n, bytes)) return n;
    // Someone else got slot n: look again from there (they may have taken several).
    taken = new Set([...taken, n, ...(await probeSlots(url, opts.env, n))]);
  }
  throw new NixHugError(`could not add the export record to ${url}: 50 slots in a row were taken while trying`, 'many exports are running at once; run the export again');
}
