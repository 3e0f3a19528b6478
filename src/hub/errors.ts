/**
 * Hub failures as one-line user errors with a hint. `HubApiError` keeps the
 * HTTP facts (status, URL, request id, `X-Error-Code`, server message) for
 * code that needs to tell cases apart; its `message`/`hint` are what the CLI prints.
 */
import { NixHugError } from '../errors.js';
import type { RepoType } from '../types.js';
import { printable, quote } from '../ui/text.js';
import { repoPath } from './repo-type.js';

/** What a request was about, so errors can name the repo, revision or file. */
export interface RequestContext {
  /** e.g. "resolving the revision", "listing the files". */
  what: string;
  repo?: { repoId: string; type: RepoType | null };
  rev?: string;
  path?: string;
}

export function describeRepo(repo: RequestContext['repo']): string {
  if (!repo) return 'the Hub';
  return `${repo.type ?? 'repository'} ${repo.repoId}`;
}

export function repoPageUrl(endpoint: string, repo: { repoId: string; type: RepoType | null }): string {
  return repo.type === null ? `${endpoint}/${repo.repoId}` : `${endpoint}/${repoPath({ type: repo.type, repoId: repo.repoId })}`;
}

export interface HubApiErrorFacts {
  status: number;
  url: string;
  requestId: string | null;
  /** The `X-Error-Code` header (RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound…). */
  errorCode: string | null;
  /** The server's own words (`{"error": …}` or `X-Error-Message`), made printable. */
  serverMessage: string | null;
  attempts: number;
}

export class HubApiError extends NixHugError {
  readonly status: number;
  readonly url: string;
  readonly requestId: string | null;
  readonly errorCode: string | null;
  readonly serverMessage: string | null;
  readonly attempts: number;
  constructor(facts: HubApiErrorFacts, message: string, hint?: string) {
    super(message, hint);
    this.status = facts.status;
    this.url = facts.url;
    this.requestId = facts.requestId;
    this.errorCode = facts.errorCode;
    this.serverMessage = facts.serverMessage;
    this.attempts = facts.attempts;
  }

  /** The repository does not exist (or is private and we may not see it). */
  get isRepoNotFound(): boolean {
    return this.errorCode === 'RepoNotFound' || (this.errorCode === null && this.status === 404);
  }

  get isGated(): boolean {
    return this.errorCode === 'GatedRepo';
  }
}

/** The Hub could not be reached at all (connection refused/reset, DNS, timeout). */
export class HubUnreachableError extends NixHugError {
  constructor(
    readonly url: string,
    /** ECONNREFUSED, ECONNRESET, TIMEOUT… */
    readonly code: string,
    message: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, hint, options);
  }
}

/** `{"error": "..."}` or the X-Error-Message header or the start of the body; one printable line. */
export function serverMessageOf(headers: { get(name: string): string | null }, body: string): string | null {
  let msg: string | null = null;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'error' in parsed && typeof parsed.error === 'string') msg = parsed.error;
  } catch {
    // not JSON
  }
  msg ??= headers.get('x-error-message');
  if (msg === null && body.trim() !== '' && !/^\s*</.test(body)) msg = body.trim();
  if (msg === null) return null;
  const line = printable(msg.replace(/\s+/g, ' ').trim());
  return line.length > 200 ? `${line.slice(0, 197)}...` : line || null;
}

export interface ErrorEnv {
  endpoint: string;
  hasToken: boolean;
}

/** Turns an HTTP error answer into the error the user sees. */
export function hubApiError(facts: HubApiErrorFacts, ctx: RequestContext, env: ErrorEnv): HubApiError {
  const desc = describeRepo(ctx.repo);
  const page = ctx.repo ? repoPageUrl(env.endpoint, ctx.repo) : env.endpoint;
  const after = facts.attempts > 1 ? ` (gave up after ${facts.attempts} attempts)` : '';
  const said = facts.serverMessage ? `: ${facts.serverMessage}` : '';
  const { status, errorCode } = facts;
  const make = (message: string, hint?: string) => new HubApiError(facts, message, hint);

  if (errorCode === 'GatedRepo' || (status === 403 && /gated/i.test(facts.serverMessage ?? ''))) {
    if (status === 403 || (env.hasToken && status !== 401)) {
      return make(`your token has not been granted access to the gated ${desc}`, `request access at ${page} (or use a token of an account that has it)`);
    }
    return env.hasToken
      ? make(`the gated ${desc} refused your token (HTTP ${status})`, `check HF_TOKEN, and request access at ${page}`)
      : make(`${desc} is gated: it needs a Hugging Face token`, `request access at ${page} and set HF_TOKEN`);
  }
  if (errorCode === 'RepoNotFound' || (errorCode === null && status === 404 && !ctx.rev && !ctx.path)) {
    const other = ctx.repo?.type === 'model' ? `; for a dataset write datasets/${ctx.repo.repoId}, for a Space spaces/${ctx.repo.repoId}` : '';
    return make(
      `${desc} not found on ${env.endpoint}`,
      env.hasToken
        ? `check the name; if it is private, check that your token can read it${other}`
        : `check the name; for a private repo set HF_TOKEN${other}`,
    );
  }
  if (errorCode === 'RevisionNotFound' || (errorCode === null && status === 404 && ctx.rev && !ctx.path)) {
    return make(
      `revision ${quote(ctx.rev ?? '?')} not found in ${desc}`,
      `check --ref: a branch, tag, 40-hex commit or refs/pr/N of ${ctx.repo?.repoId ?? 'the repository'} (see ${page})`,
    );
  }
  if (errorCode === 'EntryNotFound' || (errorCode === null && status === 404)) {
    const file = ctx.path !== undefined ? `file ${quote(ctx.path)}` : 'entry';
    const listed = ctx.repo ? (ctx.repo.type === null ? ctx.repo.repoId : repoPath({ type: ctx.repo.type, repoId: ctx.repo.repoId })) : '';
    return make(`${file} not found in ${desc}${ctx.rev ? ` at ${quote(ctx.rev)}` : ''}`, `run \`nix-hug ls ${listed}\` to see the files`);
  }
  if (status === 429) {
    return make(
      `the Hub rate-limited the requests for ${desc} while ${ctx.what} (HTTP 429)${after}`,
      `wait a few minutes and run the command again${env.hasToken ? '' : '; requests with HF_TOKEN get higher limits'}`,
    );
  }
  if (status >= 500) {
    return make(
      `the Hub failed while ${ctx.what} for ${desc}: HTTP ${status}${said}${after}`,
      'the Hub may be down or overloaded: retry later (NIX_HUG_MAX_RETRIES raises the retry budget)',
    );
  }
  if (status === 401) {
    return env.hasToken
      ? make(`the Hub rejected your token while ${ctx.what} for ${desc} (HTTP 401${said})`, 'check HF_TOKEN or the token file ($HF_TOKEN_PATH, $HF_HOME/token)')
      : make(`${desc} needs authentication (HTTP 401${said})`, 'set HF_TOKEN to a token that can read it');
  }
  if (status === 403) {
    return make(`access to ${desc} is forbidden (HTTP 403${said})`, `check that your token may read it; see ${page}`);
  }
  return make(`the Hub answered HTTP ${status} while ${ctx.what} for ${desc}${said}`, `check HF_ENDPOINT (${env.endpoint}) and run with --debug to see the requests`);
}
