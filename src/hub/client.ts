/**
 * The Hub's HTTP API, as nix-hug needs it: repo info, revision → commit,
 * the paginated tree, model-or-dataset detection, and an authenticated GET
 * for downloads. Every request has a timeout, is retried with exponential
 * backoff and jitter on 429 (honouring Retry-After), 5xx and connection
 * errors within a bounded number of attempts and total time, and failures
 * become one-line user errors (errors.ts). Requests go through transport.ts
 * (Node's http module), large downloads through http1.ts; tests give a
 * `fetch` instead.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_ENDPOINT } from '../settings/endpoint.js';
import type { RepoRef, RepoType } from '../types.js';
import type { Logger } from '../ui/logger.js';
import { createLogger } from '../ui/logger.js';
import { LOOKUP_ORDER, repoPath, REPO_TYPES } from './repo-type.js';
import { http1Transport } from './http1.js';
import { fetchTransport, nodeTransport, type FetchFn, type HttpAnswer, type Transport } from './transport.js';
import {
  describeRepo,
  HubApiError,
  hubApiError,
  HubUnreachableError,
  type RequestContext,
  serverMessageOf,
} from './errors.js';
import { InterruptedError, NixHugError } from '../errors.js';
import { withInterrupt } from '../interrupt.js';
import { DEFAULT_RETRY, DEFAULT_TIMEOUT_MS, type HttpSettings, type RetryPolicy } from '../settings/http.js';
import type { TokenSource } from '../settings/token.js';

export type { FetchFn, HttpAnswer };

/** Pages of one tree listing; 100,000 pages of 1000 entries is far beyond any repo. */
export const DEFAULT_MAX_PAGES = 100_000;
const MAX_REDIRECTS = 10;
/** Largest API answer read: a tree page of 1000 entries is about 300 kB, the info of a 100,000-file repo about 15 MB. */
export const MAX_JSON_BYTES = 64 << 20;
/** The encodings asked for API answers (transport.ts decodes them). */
const JSON_ENCODINGS = 'gzip, deflate, br';
/** Of an error answer only its message is used. */
const MAX_ERROR_BYTES = 64 << 10;

/** At most `limit` bytes of the body as text; `complete` is false when there was more (left unread). */
async function readText(res: HttpAnswer, limit: number): Promise<{ text: string; complete: boolean }> {
  const reader = res.body;
  if (!reader) return { text: '', complete: true };
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), complete: true };
    bytes += value.byteLength;
    if (bytes > limit) {
      reader.cancel();
      return { text: text + decoder.decode(value.subarray(0, value.byteLength - (bytes - limit))), complete: false };
    }
    text += decoder.decode(value, { stream: true });
  }
}

export interface HubClientOptions {
  /** Without trailing slash (see endpoint.ts). */
  endpoint: string;
  token?: string | null;
  /** For tests: requests go to this `fetch` instead of the network (transport.ts). */
  fetch?: FetchFn;
  logger?: Logger;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  maxPages?: number;
  /** For tests: time and randomness. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** What `GET /api/{models|datasets}/{id}` says that nix-hug uses. */
export interface RepoInfo {
  repoId: string;
  /** The commit of `main` (40 hex), or null when the answer had none. */
  sha: string | null;
  private: boolean;
  gated: false | 'auto' | 'manual';
}

/** One entry of `GET /api/{type}s/{id}/tree/{rev}?recursive=true`. */
export interface TreeEntry {
  type: string;
  path: string;
  size: number;
  oid: string;
  lfs?: { oid: string; size: number; pointerSize?: number };
  xetHash?: string;
}

export interface GetOptions {
  signal?: AbortSignal;
  context?: RequestContext;
  /** Extra headers (e.g. Range). */
  headers?: Record<string, string>;
  method?: 'GET' | 'HEAD';
  /** A large download: each hop on a connection of its own, the body read into reused buffers (http1.ts). */
  bulk?: boolean;
}

/** What the client needs to know of the settings. */
export interface HubAccess {
  endpoint: string;
  token: TokenSource | null;
  http: HttpSettings;
}

/** The client for these settings; the token is registered with the logger as a secret to redact. */
export function createHubClient(access: HubAccess, logger: Logger, fetchImpl?: FetchFn): HubClient {
  if (access.token) {
    logger.addSecret(access.token.token);
    logger.debug(`using the Hugging Face token from ${access.token.from}`);
  }
  const { retry, timeoutMs } = access.http;
  return new HubClient({ endpoint: access.endpoint, token: access.token?.token ?? null, logger, retry, timeoutMs, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
}

/** `Link: <url>; rel="next", …` → the next URL, if any. */
export function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const m of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const params = m[2] ?? '';
    if (/;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?(\s*;|\s*$)/i.test(params)) return m[1] ?? null;
  }
  return null;
}

/** Retry-After in ms: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null || value.trim() === '') return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function apiPath(type: RepoType): string {
  return REPO_TYPES[type].apiSegment;
}

/** The branch `GET /api/{type}/{id}` describes: the Hub's default branch. */
const INFO_BRANCH = 'main';

const infoKey = (repo: RepoRef) => `${repo.type} ${repo.repoId}`;
/** The key under which a repository's commit at `rev` is kept. */
const commitKey = (repo: RepoRef, rev: string) => `${infoKey(repo)} ${rev}`;

/** Why a request threw: the deepest `code` (ECONNREFUSED…) or name. */
function networkCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const cause = (e as { cause?: unknown }).cause;
    if (!cause) break;
    e = cause;
  }
  if (err instanceof Error) return err.name === 'TypeError' ? 'network error' : err.name;
  return 'network error';
}

/** What an interrupted request reports: the step it was in. */
function interruptedError(ctx: RequestContext): InterruptedError {
  return new InterruptedError(`${ctx.what} for ${describeRepo(ctx.repo)}`);
}

class Retry extends Error {
  constructor(
    readonly reason: string,
    readonly retryAfterMs: number | null,
    readonly fail: () => Error,
  ) {
    super(reason);
  }
}

export class HubClient {
  readonly endpoint: string;
  private readonly origin: string;
  private readonly token: string | null;
  private readonly transport: Transport;
  /** For `bulk` requests. */
  private readonly bulkTransport: Transport;
  private readonly logger: Logger;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly maxPages: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  /** Origins that answered at least once in this run: a refused connection there may be a restart, worth a retry. */
  private readonly answered = new Set<string>();
  /**
   * Each repo's info as the Hub gave it in this run (a bare id's lookup asks
   * for it): a later step takes it from here instead of asking again, and
   * the commit of `main` with it (one round trip fewer before a download).
   */
  private readonly infos = new Map<string, RepoInfo>();
  /** Commits of revisions resolved in this run, by `type id rev`. */
  private readonly commits = new Map<string, string>();

  constructor(options: HubClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.origin = new URL(this.endpoint).origin;
    this.token = options.token ?? null;
    this.transport = options.fetch ? fetchTransport(options.fetch) : nodeTransport;
    this.bulkTransport = options.fetch ? this.transport : http1Transport;
    this.logger = options.logger ?? createLogger({ level: 'quiet' });
    if (this.token) this.logger.addSecret(this.token);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    // An aborted back-off ends its timer too: a pending timer would keep the process alive after an interrupt.
    this.sleep = options.sleep ?? ((ms, signal) => sleep(ms, undefined, signal ? { signal } : {}).catch(() => undefined));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** The back-off between tries: `sleep`, cut short when `signal` aborts. */
  private pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return this.sleep(ms);
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', done, { once: true });
      void this.sleep(ms, signal).then(done);
    });
  }

  get hasToken(): boolean {
    return this.token !== null;
  }

  /** `GET /api/{models|datasets}/{id}`. */
  async repoInfo(repo: RepoRef): Promise<RepoInfo> {
    const known = this.infos.get(infoKey(repo));
    if (known) return known;
    const url = `${this.endpoint}/api/${apiPath(repo.type)}/${repo.repoId}`;
    const body = await this.getJson(url, { what: 'reading the repository information', repo });
    return this.rememberInfo(repo, body);
  }

  /**
   * The info in an answer of `GET /api/{type}/{id}` (or `…/revision/REV`,
   * which says the same of the repository), kept under the id asked and the
   * id answered. Its commit is `main`'s only when the answer was about main.
   */
  private rememberInfo(repo: RepoRef, body: unknown, aboutMain = true): RepoInfo {
    const o = (body ?? {}) as Record<string, unknown>;
    const gated = o.gated === 'auto' || o.gated === 'manual' ? o.gated : false;
    const info: RepoInfo = {
      repoId: typeof o.id === 'string' ? o.id : repo.repoId,
      sha: aboutMain && typeof o.sha === 'string' && /^[0-9a-f]{40}$/.test(o.sha) ? o.sha : null,
      private: o.private === true,
      gated,
    };
    this.infos.set(infoKey(repo), info);
    this.infos.set(infoKey({ type: repo.type, repoId: info.repoId }), info);
    return info;
  }

  /** A branch, tag, commit or `refs/pr/N` → the 40-hex commit. */
  async resolveRevision(repo: RepoRef, rev: string): Promise<string> {
    // The repo's info describes `main`: when this run has it, its commit is main's.
    const known = rev === INFO_BRANCH ? this.infos.get(infoKey(repo))?.sha : this.commits.get(commitKey(repo, rev));
    if (known) return known;
    return (await this.revisionInfo(repo, rev)).sha;
  }

  /** `GET /api/{type}/{id}/revision/{rev}`: the commit, and the repository's info (kept, as `repoInfo` keeps it). */
  private async revisionInfo(repo: RepoRef, rev: string): Promise<{ sha: string; info: RepoInfo }> {
    const url = `${this.endpoint}/api/${apiPath(repo.type)}/${repo.repoId}/revision/${encodeURIComponent(rev)}`;
    const ctx: RequestContext = { what: `resolving the revision ${rev}`, repo, rev };
    const body = await this.getJson(url, ctx);
    const sha = body && typeof body === 'object' && 'sha' in body ? (body as { sha: unknown }).sha : undefined;
    if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) {
      throw new NixHugError(
        `the Hub did not return a commit for revision '${rev}' of ${describeRepo(repo)}`,
        `check HF_ENDPOINT (${this.endpoint}); run with --debug to see the requests`,
      );
    }
    // A commit names itself: a Hub or mirror that answers another one is not pinned.
    if (/^[0-9a-fA-F]{40}$/.test(rev) && sha !== rev.toLowerCase()) {
      throw new NixHugError(
        `asked for commit ${rev.toLowerCase()} of ${describeRepo(repo)}, the Hub at ${this.endpoint} answered ${sha}: refusing to pin another commit`,
        `check HF_ENDPOINT (${this.endpoint}): a mirror may serve other contents than the Hub; give a branch or tag to take what it has`,
      );
    }
    const info = this.rememberInfo(repo, body, rev === INFO_BRANCH);
    this.commits.set(commitKey(repo, rev), sha);
    this.commits.set(commitKey({ type: repo.type, repoId: info.repoId }, rev), sha);
    return { sha, info };
  }

  /**
   * Every entry of the tree at `rev` (files and folders), following every
   * `Link: <…>; rel="next"` page. Pages are fetched one at a time as the
   * caller consumes them.
   */
  async *listTree(repo: RepoRef, rev: string): AsyncGenerator<TreeEntry, void, undefined> {
    let url: string | null = `${this.endpoint}/api/${apiPath(repo.type)}/${repo.repoId}/tree/${encodeURIComponent(rev)}?recursive=true`;
    const seen = new Set<string>();
    const ctx: RequestContext = { what: 'listing the files', repo, rev };
    for (let page = 1; url !== null; page++) {
      if (page > this.maxPages) {
        throw new NixHugError(`the file list of ${describeRepo(repo)} has more than ${this.maxPages} pages`, 'this is not a listing nix-hug can handle; check HF_ENDPOINT');
      }
      if (seen.has(url)) {
        throw new NixHugError(`the Hub's file list of ${describeRepo(repo)} loops (page ${page} repeats an earlier page)`, 'retry later; check HF_ENDPOINT');
      }
      seen.add(url);
      const current: string = url;
      const { entries, next } = await this.request(current, ctx, {}, async (res) => {
        const parsed = await this.readJson(res, ctx);
        if (!Array.isArray(parsed)) throw new NixHugError(`the Hub sent an unexpected file list for ${describeRepo(repo)} (not a list)`, 'retry later; check HF_ENDPOINT');
        const link = nextLink(res.headers.get('link'));
        return { entries: parsed as TreeEntry[], next: link === null ? null : new URL(link, current).href };
      });
      yield* entries;
      url = next;
    }
  }

  /**
   * Model, dataset or Space? Asks for all three at once; a gated repo counts
   * as existing. The first that exists in LOOKUP_ORDER wins; when several
   * do, a note says which won and how to ask for the others.
   */
  async detectType(id: string): Promise<RepoType> {
    return (await this.identify(id)).type;
  }

  /**
   * The kind of a bare id and the id the Hub answers under: the same, or the
   * canonical `org/name` of a legacy id without an owner (`gpt2` is
   * `openai-community/gpt2`). One request per kind, as `detectType` says.
   *
   * `rev`: the revision about to be resolved. For another than `main`, each
   * kind is asked for it (`…/revision/REV`), so the commit comes with the
   * kind instead of a round trip later. A kind that has the repository but
   * not the revision counts as existing (resolving it then says so). When
   * none is found and a kind answered a plain 404 (no error code), the
   * repository is asked for as is, so that a missing revision is not taken
   * for a missing repository.
   */
  async identify(id: string, rev: string = INFO_BRANCH): Promise<RepoRef> {
    const atRevision = rev !== INFO_BRANCH;
    let uncoded = false;
    const exists = async (type: RepoType): Promise<string | null> => {
      const repo = { type, repoId: id };
      try {
        return atRevision ? (await this.revisionInfo(repo, rev)).info.repoId : (await this.repoInfo(repo)).repoId;
      } catch (err) {
        if (err instanceof HubApiError && err.isGated) return id;
        if (err instanceof HubApiError && atRevision && err.errorCode === 'RevisionNotFound') return id;
        if (err instanceof HubApiError && err.isRepoNotFound) {
          uncoded ||= err.errorCode === null;
          return null;
        }
        throw err;
      }
    };
    const answers = await Promise.allSettled(LOOKUP_ORDER.map(exists));
    const found: RepoRef[] = [];
    for (const [i, answer] of answers.entries()) {
      const type = LOOKUP_ORDER[i]!;
      if (answer.status === 'fulfilled' && answer.value !== null) found.push({ type, repoId: answer.value });
      // An error before the winner is known decides nothing: say it rather than guess past it.
      else if (answer.status === 'rejected' && found.length === 0) throw answer.reason;
    }
    const [winner, ...others] = found;
    if (winner !== undefined) {
      if (others.length > 0) {
        const kinds = found.map((f) => f.type);
        const names = kinds.length === 2 ? `both a ${kinds[0]} and a ${kinds[1]}` : `a ${kinds.slice(0, -1).join(', a ')} and a ${kinds[kinds.length - 1]}`;
        const ask = others.map((o) => `for the ${o.type}, write ${repoPath({ type: o.type, repoId: id })}`).join('; ');
        this.logger.warn(`${names} are named ${id}; using the ${winner.type} (${ask})`);
      }
      return winner;
    }
    // Plain 404s for the revision (a mirror without error codes): a missing revision looks like a missing repository.
    if (atRevision && uncoded) return this.identify(id);
    throw new NixHugError(
      `repository ${id} not found on ${this.endpoint}: it is neither a model, a dataset nor a Space`,
      this.token ? 'check the name; if it is private, check that your token can read it' : 'check the name; for a private repo set HF_TOKEN',
    );
  }

  /**
   * An authenticated GET (or HEAD) with retries, for downloads: the response
   * is returned as soon as its headers arrive (the body is the caller's to
   * stream). Redirects are followed here, and the token is sent only to the
   * endpoint's origin. Error statuses throw HubApiError.
   */
  async get(url: string, options: GetOptions = {}): Promise<HttpAnswer> {
    const ctx = options.context ?? { what: 'downloading' };
    return this.request(url, ctx, options, async (res) => res, false);
  }

  private async getJson(url: string, ctx: RequestContext): Promise<unknown> {
    // Compressed, as a browser would ask: a tree page of 1000 entries is ~300 kB of JSON.
    return this.request(url, ctx, { headers: { 'accept-encoding': JSON_ENCODINGS } }, (res) => this.readJson(res, ctx));
  }

  /** A JSON answer, read within the request's timeout and MAX_JSON_BYTES. */
  private async readJson(res: HttpAnswer, ctx: RequestContext): Promise<unknown> {
    const { text, complete } = await readText(res, MAX_JSON_BYTES);
    if (!complete) {
      throw new NixHugError(
        `the Hub's answer while ${ctx.what} for ${describeRepo(ctx.repo)} is larger than ${MAX_JSON_BYTES >> 20} MiB: not read`,
        `check HF_ENDPOINT (${this.endpoint}): the Hub's API answers are far smaller`,
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new NixHugError(`the Hub sent an answer that is not JSON while ${ctx.what} for ${describeRepo(ctx.repo)}`, `check HF_ENDPOINT (${this.endpoint})`);
    }
  }

  private headersFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': 'nix-hug', ...extra };
    if (this.token && new URL(url).origin === this.origin) headers.authorization = `Bearer ${this.token}`;
    return headers;
  }

  /**
   * One logical request with retries. `consume` reads the successful
   * response; with `timeBody` the timeout also covers it (a dropped or stalled
   * body is retried like a failed connection).
   */
  private async request<T>(
    url: string,
    ctx: RequestContext,
    options: GetOptions,
    consume: (res: HttpAnswer) => Promise<T>,
    timeBody = true,
  ): Promise<T> {
    const started = this.now();
    const errEnv = { endpoint: this.endpoint, hasToken: this.token !== null };
    // The caller's signal or the command's interrupt stops the request, its body and the back-off between tries.
    const signal = withInterrupt(options.signal);
    const opts: GetOptions = signal ? { ...options, signal } : options;
    // A request or a back-off that lasts over a second says what it waits for (see Logger.waitFor).
    const about = `${ctx.what} for ${describeRepo(ctx.repo)}`;
    const wait = this.logger.waitFor(`waiting for the Hub at ${this.endpoint} (${about})`);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.attempt(url, ctx, opts, consume, timeBody, attempt, errEnv);
        } catch (err) {
          if (signal?.aborted) throw interruptedError(ctx);
          if (!(err instanceof Retry)) throw err;
          const elapsed = this.now() - started;
          const backoff = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
          const delay =
            err.retryAfterMs !== null
              ? Math.min(this.retry.maxDelayMs, err.retryAfterMs)
              : Math.round(backoff * (0.5 + this.random() * 0.5));
          if (attempt > this.retry.maxRetries || elapsed + delay > this.retry.totalBudgetMs) throw err.fail();
          this.logger.debug(`retrying in ${delay} ms (attempt ${attempt + 1} of ${this.retry.maxRetries + 1}): ${err.reason}`);
          wait.update(`${err.reason}: retrying ${about} in ${Math.max(1, Math.round(delay / 1000))} s (attempt ${attempt + 1} of ${this.retry.maxRetries + 1})`);
          await this.pause(delay, signal);
          if (signal?.aborted) throw interruptedError(ctx);
        }
      }
    } finally {
      wait.done();
    }
  }

  private async attempt<T>(
    url: string,
    ctx: RequestContext,
    options: GetOptions,
    consume: (res: HttpAnswer) => Promise<T>,
    timeBody: boolean,
    attempt: number,
    errEnv: { endpoint: string; hasToken: boolean },
  ): Promise<T> {
    const method = options.method ?? 'GET';
    if (options.signal?.aborted) throw interruptedError(ctx);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timeout'));
    }, this.timeoutMs);
    const onAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const t0 = this.now();
    let current = url;
    let keepListener = false;
    const unreachable = (err: unknown): Retry => {
      const code = timedOut ? 'TIMEOUT' : networkCode(err);
      // An unknown host or a URL of another protocol stays so: say so at once (EAI_AGAIN, a DNS hiccup, is retried).
      if (code === 'ENOTFOUND' || code === 'ERR_INVALID_PROTOCOL') throw unreachableError(err, code);
      // Nothing listens there (a wrong port in HF_ENDPOINT, a mirror that is not running): retrying only
      // makes the user wait. Once the origin has answered in this run, a refusal may be a restart: retried.
      if (code === 'ECONNREFUSED' && !this.answered.has(new URL(current).origin)) throw unreachableError(err, code);
      const reason = timedOut ? `no answer within ${this.timeoutMs} ms from ${current}` : `${code} from ${current}`;
      this.logger.debug(`${method} ${current} failed after ${this.now() - t0} ms: ${code}`);
      return new Retry(reason, null, () => unreachableError(err, code));
    };
    const unreachableError = (err: unknown, code: string): HubUnreachableError => {
      const tries = attempt > 1 ? ` (gave up after ${attempt} attempts)` : '';
      const message = timedOut
        ? `the Hub at ${this.endpoint} did not answer within ${Math.round(this.timeoutMs / 1000)} s while ${ctx.what} for ${describeRepo(ctx.repo)}${tries}`
        : code === 'ERR_INVALID_PROTOCOL'
          ? `cannot reach the Hub at ${this.endpoint} while ${ctx.what} for ${describeRepo(ctx.repo)}: ${current} is not an http or https URL`
          : `cannot reach the Hub at ${this.endpoint} while ${ctx.what} for ${describeRepo(ctx.repo)}: ${code}${code === 'ECONNREFUSED' ? ` (nothing accepts connections at ${new URL(current).host})` : ''}${tries}`;
      const hint =
        code === 'ERR_INVALID_PROTOCOL'
          ? `check HF_ENDPOINT (${this.endpoint}): the Hub or mirror redirected there`
          : code !== 'ECONNREFUSED'
          ? 'check your network or HF_ENDPOINT'
          : this.endpoint === DEFAULT_ENDPOINT
            ? 'check your network: a firewall or proxy refuses the connection'
            : `check HF_ENDPOINT (${this.endpoint}): is the Hub or mirror running, on that port? Unset HF_ENDPOINT to use ${DEFAULT_ENDPOINT}`;
      return new HubUnreachableError(current, code, message, hint, { cause: err });
    };
    try {
      let res: HttpAnswer;
      for (let hop = 0; ; hop++) {
        try {
          res = await (options.bulk ? this.bulkTransport : this.transport)(current, { method, headers: this.headersFor(current, options.headers), signal: controller.signal });
        } catch (err) {
          if (options.signal?.aborted) throw interruptedError(ctx);
          throw unreachable(err);
        }
        this.answered.add(new URL(current).origin);
        this.logger.debug(`${method} ${current} -> ${res.status} in ${this.now() - t0} ms`);
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location) {
          if (hop >= MAX_REDIRECTS) throw new NixHugError(`too many redirects while ${ctx.what} for ${describeRepo(ctx.repo)}`, `check HF_ENDPOINT (${this.endpoint})`);
          res.body?.cancel();
          current = new URL(location, current).href;
          continue;
        }
        break;
      }
      if (res.ok) {
        // A streamed body is the caller's to time; it stays abortable by the caller's signal.
        if (!timeBody) {
          clearTimeout(timer);
          keepListener = true;
        }
        try {
          return await consume(res);
        } catch (err) {
          if (err instanceof NixHugError) throw err;
          if (options.signal?.aborted) throw interruptedError(ctx);
          throw unreachable(err); // the body broke off: retry like a failed connection
        }
      }
      // An error answer's body is read under the same timer, and only its start: it may trickle or never end.
      let body = '';
      try {
        body = method === 'HEAD' ? '' : (await readText(res, MAX_ERROR_BYTES)).text;
      } catch {
        // the error body is optional
      }
      const facts = {
        status: res.status,
        url: current,
        requestId: res.headers.get('x-request-id'),
        errorCode: res.headers.get('x-error-code'),
        serverMessage: serverMessageOf(res.headers, body),
        attempts: attempt,
      };
      if (res.status === 429 || res.status >= 500) {
        const retryAfter = parseRetryAfter(res.headers.get('retry-after'), Date.now());
        throw new Retry(`HTTP ${res.status} from ${current}`, retryAfter, () => hubApiError(facts, ctx, errEnv));
      }
      throw hubApiError(facts, ctx, errEnv);
    } finally {
      clearTimeout(timer);
      if (!keepListener) options.signal?.removeEventListener('abort', onAbort);
    }
  }
}
