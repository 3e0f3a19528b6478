/**
 * One-shot fault injection. Status faults replace the whole response; body
 * faults (drop, slow, corrupt) act on the bytes as they are written.
 */
import type { FaultSpec } from './types.ts';

export type FaultKind = FaultSpec['kind'];
export type BodyFault = Exclude<FaultKind, { status: number } | { latencyMs: number }>;

interface Pending {
  spec: FaultSpec;
  left: number;
}

export function isStatusFault(kind: FaultKind): kind is { status: number; retryAfter?: number } {
  return 'status' in kind;
}

export function isLatencyFault(kind: FaultKind): kind is { latencyMs: number } {
  return 'latencyMs' in kind;
}

export class FaultRegistry {
  private pending: Pending[] = [];

  add(spec: FaultSpec): void {
    const times = spec.times ?? 1;
    if (!(times > 0)) throw new Error('addFault: times must be > 0');
    if ('status' in spec.kind && (spec.kind.status < 100 || spec.kind.status > 599)) {
      throw new Error(`addFault: bad status ${spec.kind.status}`);
    }
    if ('latencyMs' in spec.kind && !(spec.kind.latencyMs >= 0 && spec.kind.latencyMs <= 60_000)) {
      throw new Error(`addFault: latencyMs must be 0–60000 (got ${spec.kind.latencyMs})`);
    }
    this.pending.push({ spec, left: times });
  }

  clear(): void {
    this.pending = [];
  }

  /**
   * The first fault matching `url` that this request may consume. Body
   * faults are only taken by requests that send a body (not HEAD); status
   * and latency faults by any.
   */
  take(url: string, sendsBody: boolean): FaultKind | null {
    for (const p of this.pending) {
      if (!matches(p.spec.match, url)) continue;
      if (!isStatusFault(p.spec.kind) && !isLatencyFault(p.spec.kind) && !sendsBody) continue;
      p.left -= 1;
      if (p.left <= 0) this.pending = this.pending.filter((q) => q !== p);
      return p.spec.kind;
    }
    return null;
  }
}

function matches(m: string | RegExp, url: string): boolean {
  if (typeof m === 'string') return url.includes(m);
  m.lastIndex = 0;
  return m.test(url);
}
