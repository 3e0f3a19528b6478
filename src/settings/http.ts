/**
 * How hard nix-hug tries over the network: the Hub client's retry policy
 * and timeout (NIX_HUG_MAX_RETRIES, NIX_HUG_RETRY_BASE_MS,
 * NIX_HUG_RETRY_MAX_DELAY_MS, NIX_HUG_RETRY_TOTAL_MS,
 * NIX_HUG_HTTP_TIMEOUT_MS), and the same bounds for Nix's own downloads.
 */
import { NixHugError } from '../errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt (NIX_HUG_MAX_RETRIES, default 5). */
  maxRetries: number;
  /** First backoff delay in ms, doubled each retry (NIX_HUG_RETRY_BASE_MS, default 1000). */
  baseDelayMs: number;
  /** Cap of one delay, Retry-After included (NIX_HUG_RETRY_MAX_DELAY_MS, default 30000). */
  maxDelayMs: number;
  /** No retry starts after this much time since the first attempt (NIX_HUG_RETRY_TOTAL_MS, default 120000). */
  totalBudgetMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 5, baseDelayMs: 1000, maxDelayMs: 30_000, totalBudgetMs: 120_000 };
/** Per request, until the body is read (downloads: until the headers) (NIX_HUG_HTTP_TIMEOUT_MS). */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpSettings {
  retry: RetryPolicy;
  timeoutMs: number;
}

/** What an environment without any of the knobs gets. */
export const DEFAULT_HTTP: HttpSettings = { retry: DEFAULT_RETRY, timeoutMs: DEFAULT_TIMEOUT_MS };

/** Reads the retry policy and timeout from the environment (documented in docs/cli.md). */
export function httpSettingsFromEnv(env: NodeJS.ProcessEnv): HttpSettings {
  const num = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new NixHugError(`${name}=${raw} is not a non-negative number`, `unset ${name} or set it to a number`);
    return n;
  };
  return {
    retry: {
      maxRetries: Math.floor(num('NIX_HUG_MAX_RETRIES', DEFAULT_RETRY.maxRetries)),
      baseDelayMs: num('NIX_HUG_RETRY_BASE_MS', DEFAULT_RETRY.baseDelayMs),
      maxDelayMs: num('NIX_HUG_RETRY_MAX_DELAY_MS', DEFAULT_RETRY.maxDelayMs),
      totalBudgetMs: num('NIX_HUG_RETRY_TOTAL_MS', DEFAULT_RETRY.totalBudgetMs),
    },
    timeoutMs: num('NIX_HUG_HTTP_TIMEOUT_MS', DEFAULT_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS,
  };
}

/**
 * Bounds for Nix's own downloads (builtin:fetchurl). Nix 2.8's defaults let
 * one stalled download hang for 5 minutes per attempt and retry 5 times
 * whatever NIX_HUG_MAX_RETRIES says (measured in docs/reliability.md).
 */
export interface DownloadLimits {
  /** Attempts per file, the first included (`download-attempts`). */
  attempts: number;
  /** No byte (or no connection) for this long fails the attempt (`stalled-download-timeout`, `connect-timeout`). */
  timeoutMs: number;
}

/** Nix's downloads follow the Hub client's knobs. */
export function downloadLimits(http: HttpSettings): DownloadLimits {
  return { attempts: http.retry.maxRetries + 1, timeoutMs: http.timeoutMs };
}
