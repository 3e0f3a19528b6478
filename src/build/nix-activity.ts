/**
 * What Nix does during a build, read from its internal-json log: which
 * derivations it finished (a blob's build ends only once Nix has hashed,
 * scanned and registered the file), and with --debug one line per download,
 * build and other activity Nix names (fetching a git repository, copying),
 * with how long it took. The bench reads these lines for its timeline.
 */
import type { NixLogEvent } from '../nix/nix.js';

/** Nix's activity type numbers (src/libutil/logging.hh). */
const ACT_UNKNOWN = 0;
const ACT_FILE_TRANSFER = 101;
const ACT_BUILD = 105;

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

  onEvent(ev: NixLogEvent): void {
    if (typeof ev.id !== 'number') return;
    if (ev.action === 'start') {
      const what = describe(ev);
      if (what === null) return;
      const first = ev.fields?.[0];
      this.open.set(ev.id, { what, type: ev.type ?? -1, drv: ev.type === ACT_BUILD && typeof first === 'string' ? first : null, at: this.now() });
      this.debug?.(`nix: ${what}: started`);
    } else if (ev.action === 'stop') {
      const activity = this.open.get(ev.id);
      if (!activity) return;
      this.open.delete(ev.id);
      if (activity.drv !== null) this.built.add(activity.drv);
      this.debug?.(`nix: ${activity.what}: done in ${((this.now() - activity.at) / 1000).toFixed(3)} s`);
    }
  }
}
