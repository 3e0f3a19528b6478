/**
 * What Nix does during a build, read from its internal-json log: which
 * derivations it finished (a blob's build ends only once Nix has hashed,
 * scanned and registered the file), and with --debug one line per download,
 * build and other activity Nix names (fetching a git repository, copying),
 * with how long it took. The bench reads these lines for its timeline.
 * `NixWaitStatus` says the same in words a user can act on while they wait:
 * Nix can sit for many seconds asking binary caches about every missing path
 * (offline, each cache is retried), fetching the git repository, or
 * assembling the snapshot, and says nothing on its own.
 */
import type { NixLogEvent } from '../nix/nix.js';

/** Nix's activity type numbers (src/libutil/logging.hh). */
const ACT_UNKNOWN = 0;
const ACT_COPY_PATH = 100;
const ACT_FILE_TRANSFER = 101;
const ACT_BUILD = 105;
const ACT_SUBSTITUTE = 108;
const ACT_QUERY_PATH_INFO = 109;
const ACT_BUILD_WAITING = 111;

/** What an activity is, in a few words; null for those not worth a line (queries, substitutions…). */
function describe(ev: NixLogEvent): string | null {
  const first = ev.fields?.[0];
  if (ev.type === ACT_FILE_TRANSFER && typeof first === 'string') return `download ${first}`;
  if (ev.type === ACT_BUILD && typeof first === 'string') return `build ${first}`;
  if (ev.type === ACT_UNKNOWN && typeof ev.text === 'string' && ev.text !== '') return ev.text;
  return null;
}

export class NixActivities {
  private readonly open = new Map<number, { what: string; type: number; drv: string | null; at: number }>();
  /** The .drv paths whose build Nix finished. */
  readonly built = new Set<string>();

  /** `debug`: where `nix: WHAT: started` and `nix: WHAT: done in N s` lines go (--debug), or null. */
  constructor(
    private readonly debug: ((line: string) => void) | null,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** `at`: when the event came (`now()`'s clock), for one that was held before it got here. */
  onEvent(ev: NixLogEvent, at: number = this.now()): void {
    if (typeof ev.id !== 'number') return;
    if (ev.action === 'start') {
      const what = describe(ev);
      if (what === null) return;
      const first = ev.fields?.[0];
      this.open.set(ev.id, { what, type: ev.type ?? -1, drv: ev.type === ACT_BUILD && typeof first === 'string' ? first : null, at });
      this.debug?.(`nix: ${what}: started`);
    } else if (ev.action === 'stop') {
      const activity = this.open.get(ev.id);
      if (!activity) return;
      this.open.delete(ev.id);
      if (activity.drv !== null) this.built.add(activity.drv);
      this.debug?.(`nix: ${activity.what}: done in ${((at - activity.at) / 1000).toFixed(3)} s`);
    }
  }
}

/** How to skip the caches when there is no network: the tip that goes with every cache wait. */
export const OFFLINE_CACHE_TIP = "without network, NIX_CONFIG='substituters =' skips this";

/** `/nix/store/abc…-name.drv` → `name`. */
function storeName(path: string): string {
  return path.replace(/^.*\/[0-9a-z]{32}-/, '').replace(/\.drv$/, '');
}

const CACHE_QUERY = /\/(nix-cache-info|[0-9a-z]{32}\.narinfo)(\?.*)?$/;

/** What a user waits for while this activity runs, or null for the containers that say nothing (realise, builds…). */
export function describeWait(ev: NixLogEvent): string | null {
  const field = (i: number) => String(ev.fields?.[i] ?? '');
  switch (ev.type) {
    case ACT_FILE_TRANSFER: {
      const url = field(0);
      if (CACHE_QUERY.test(url)) return `asking the binary cache ${url.replace(CACHE_QUERY, '')} whether it has the missing store paths (${OFFLINE_CACHE_TIP})`;
      if (url.includes('/resolve/')) return 'downloading the LFS files';
      return url ? `downloading ${url}` : null;
    }
    case ACT_QUERY_PATH_INFO:
      return `asking the binary cache ${field(1)} about ${storeName(field(0))} (${OFFLINE_CACHE_TIP})`;
    case ACT_SUBSTITUTE:
      return `fetching ${storeName(field(0))} from the binary cache ${field(1)}`;
    case ACT_COPY_PATH:
      return `copying ${storeName(field(0))}`;
    case ACT_BUILD: {
      const name = storeName(field(0));
      if (name.startsWith('hf-blob-')) return 'downloading the LFS files';
      if (/^hf-(model|dataset|space)-/.test(name)) return `assembling the snapshot ${name}`;
      return `building ${name}`;
    }
    case ACT_BUILD_WAITING:
      return 'waiting for another Nix process building the same path';
    case ACT_UNKNOWN: {
      const text = (ev.text ?? '').trim();
      if (text === '') return null;
      if (text === 'querying info about missing paths') return `asking the binary caches (substituters) about the missing store paths (${OFFLINE_CACHE_TIP})`;
      return text;
    }
    default:
      return null;
  }
}

/** Follows the open activities of one or more nix processes; `current()` says what the latest one is. */
export class NixWaitStatus {
  private readonly open = new Map<number, string>();
  private last: string;

  constructor(initial = 'evaluating the expression') {
    this.last = initial;
  }

  /** Feeds one event; returns the new description when it changed. */
  onEvent(ev: NixLogEvent): string | null {
    const before = this.current();
    if (ev.action === 'start' && typeof ev.id === 'number') {
      const text = describeWait(ev);
      if (text !== null) this.open.set(ev.id, text);
    } else if (ev.action === 'stop' && typeof ev.id === 'number') {
      // The last words stay until another activity starts: Nix is still finishing it (e.g. registering a download).
      this.open.delete(ev.id);
    }
    const now = this.current();
    return now === before ? null : now;
  }

  current(): string {
    const latest = [...this.open.values()].at(-1);
    if (latest !== undefined) this.last = latest;
    return this.last;
  }
}
