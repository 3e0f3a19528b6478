/**
 * Every way a user can name a repository (docs/cli.md, Naming a repository), parsed into
 * `{ type, id, ref }` before any network request. Anything ambiguous or
 * unsafe is a UsageError: the id ends up in URLs, file names and Nix
 * expressions, so only what the Hub itself allows in names gets through.
 */
import { UsageError } from '../errors.js';
import type { RepoType } from '../types.js';
import { quote } from '../ui/text.js';

export interface ParsedRepoUrl {
  /** null for a bare `org/repo`: ask the Hub whether it is a model, a dataset or a Space. */
  type: RepoType | null;
  /** `org/name`, or a legacy id without an owner (`gpt2`) that the Hub resolves (see `isLegacyId`). */
  repoId: string;
  /** The REF of a `/tree/REF`, `/blob/REF` or `/resolve/REF` URL or of `hf://…@REF` (percent-decoded). */
  ref?: string;
  /** The QUANT of `org/repo:QUANT` (llama.cpp's `-hf` form): which GGUF quantization to take. */
  quant?: string;
}

export interface ParseRepoUrlOptions {
  /** The configured HF_ENDPOINT: URLs on its host are accepted like huggingface.co ones. */
  endpoint?: string;
}

/** Hosts whose URLs name Hub repositories, whatever HF_ENDPOINT says. */
const HUB_HOSTS = new Set(['huggingface.co', 'www.huggingface.co', 'hf.co']);

/** Page kinds after `org/repo/` whose next segment is a revision. */
const REV_PAGES = new Set(['tree', 'blob', 'resolve']);

/** Longest repository name the Hub accepts (huggingface_hub's validate_repo_id). */
const MAX_NAME_LENGTH = 96;

const FORMS_HINT =
  'name a repository as org/repo, datasets/org/name, spaces/org/name (or hf:, hf-datasets:, hf-spaces:org/name), ' +
  'hf://[datasets/|spaces/]org/name[@REV], org/repo:QUANT for a GGUF quantization, ' +
  'or https://huggingface.co/[datasets/|spaces/]org/name';

/** A GGUF quantization label as llama.cpp's `-hf org/repo:QUANT` takes it (Q4_K_M, UD-Q4_K_XL, f16…). */
const QUANT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Prefixes of the `prefix:org/name` forms. */
const SCHEME_PREFIXES: readonly [string, RepoType][] = [
  ['hf-datasets:', 'dataset'],
  ['hf-spaces:', 'space'],
  ['hf:', 'model'],
];

/** Type folders of the `datasets/org/name` forms, of web URLs and of `hf://` URIs. */
const TYPE_FOLDERS: readonly [string, RepoType][] = [
  ['datasets/', 'dataset'],
  ['spaces/', 'space'],
];

function invalid(input: string, reason: string, hint: string = FORMS_HINT): UsageError {
  return new UsageError(`invalid repository ${quote(input)}: ${reason}`, hint);
}

/** Characters no form accepts anywhere; checked first so the reason is precise. */
function checkForbiddenCharacters(input: string): void {
  if (input === '') throw invalid(input, 'it is empty');
  const control = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.exec(input);
  if (control) throw invalid(input, 'it contains a control character');
  if (/\s/.test(input)) throw invalid(input, 'it contains whitespace');
  if (/["'`]/.test(input)) throw invalid(input, 'it contains a quote');
  if (input.includes('${')) throw invalid(input, "it contains '${'");
  if (input.includes('\\')) throw invalid(input, 'it contains a backslash');
}

/**
 * One part of a repo id (namespace or name), with the Hub's rules as
 * huggingface_hub's `validate_repo_id` states them: `[A-Za-z0-9._-]`, starts
 * and ends with a letter, digit or `_`, no `--` or `..`, at most 96 characters.
 */
function checkNamePart(input: string, part: string, what: 'organization' | 'name'): void {
  if (part === '') throw invalid(input, `the ${what} is empty`);
  if (part === '.' || part === '..') throw invalid(input, `'${part}' is not a repository ${what}`);
  const bad = /[^A-Za-z0-9._-]/u.exec(part);
  if (bad) throw invalid(input, `character ${quote(bad[0])} is not allowed in a repository ${what} (letters, digits, '-', '_' and '.' only)`);
  if (part.length > MAX_NAME_LENGTH) throw invalid(input, `the ${what} is longer than ${MAX_NAME_LENGTH} characters`);
  if (!/^[A-Za-z0-9_]/.test(part) || !/[A-Za-z0-9_]$/.test(part)) {
    throw invalid(input, `the ${what} ${quote(part)} must start and end with a letter, a digit or '_'`);
  }
  if (part.includes('--') || part.includes('..')) throw invalid(input, `the ${what} ${quote(part)} contains '--' or '..'`);
}

/** `org/name` with both parts valid; the name may not end in `.git`. */
function checkRepoId(input: string, org: string, name: string): void {
  checkNamePart(input, org, 'organization');
  checkNamePart(input, name, 'name');
  if (name.toLowerCase().endsWith('.git')) throw invalid(input, "a repository name cannot end in '.git'");
}

/** `org/name[:QUANT]`. */
function parseBareId(input: string, body: string, type: RepoType | null): ParsedRepoUrl {
  if (/[?#]/.test(body)) throw invalid(input, 'a repository id cannot have a query string or fragment');
  if (body === '') throw invalid(input, `no repository follows ${quote(input)}`);
  const colon = body.indexOf(':', body.indexOf('/') + 1);
  if (body.includes('/') && colon >= 0) {
    const quant = body.slice(colon + 1);
    if (!QUANT.test(quant)) {
      throw invalid(input, `${quote(quant)} after ':' is not a GGUF quantization label`, 'write org/repo:QUANT with a label such as Q4_K_M, Q8_0 or F16 (`nix-hug ls org/repo` groups the GGUF files by quantization)');
    }
    return { ...parseBareId(input, body.slice(0, colon), type), quant };
  }
  const parts = body.split('/');
  if (parts.length === 1) {
    // A legacy id without an owner (`gpt2`, `squad`): the Hub still answers for it, under its canonical org/name.
    checkNamePart(input, body, 'name');
    if (body.toLowerCase().endsWith('.git')) throw invalid(input, "a repository name cannot end in '.git'");
    return { type, repoId: body };
  }
  if (parts.length !== 2) {
    const dots = parts.some((p) => p === '.' || p === '..');
    throw invalid(input, dots ? "'.' and '..' are not allowed" : parts.includes('') ? 'it has an empty part' : 'a repository id has exactly two parts, org/name');
  }
  const [org = '', name = ''] = parts;
  checkRepoId(input, org, name);
  return { type, repoId: `${org}/${name}` };
}

/** host[:port] as the WHATWG URL parser normalises it (lowercase, default port dropped). */
function normalisedHost(scheme: string, authority: string): string | null {
  try {
    const u = new URL(`${scheme}://${authority}/`);
    if (u.username || u.password) return null;
    return u.host;
  } catch {
    return null;
  }
}

function endpointParts(endpoint: string | undefined): { host: string; prefix: string } | null {
  if (!endpoint) return null;
  try {
    const u = new URL(endpoint);
    return { host: u.host, prefix: u.pathname.replace(/\/+$/, '') };
  } catch {
    return null;
  }
}

function parseWebUrl(input: string, options: ParseRepoUrlOptions): ParsedRepoUrl {
  const m = /^(https?):\/\/([^/?#]*)([^?#]*)/i.exec(input);
  if (!m) throw invalid(input, 'not a URL');
  const scheme = (m[1] ?? '').toLowerCase();
  const authority = m[2] ?? '';
  let path = m[3] ?? '';
  const host = normalisedHost(scheme, authority);
  const ep = endpointParts(options.endpoint);
  let onHub = host !== null && HUB_HOSTS.has(host);
  if (!onHub && host !== null && ep && host === ep.host) {
    if (ep.prefix && path !== ep.prefix && !path.startsWith(`${ep.prefix}/`)) {
      throw invalid(input, `URLs on ${ep.host} must start with the HF_ENDPOINT path ${quote(ep.prefix)}`);
    }
    path = path.slice(ep.prefix.length);
    onHub = true;
  }
  if (!onHub) {
    const known = ['huggingface.co', ...(ep ? [ep.host] : [])].join(' or ');
    throw invalid(input, `unknown host ${quote(authority)}: only URLs on ${known} name Hub repositories`, `set HF_ENDPOINT to use another Hub or mirror; ${FORMS_HINT}`);
  }

  // Segments of the raw path: the URL parser would silently resolve `..`.
  const segments = path.split('/').slice(1);
  if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
  if (segments.some((s) => s === '.' || s === '..')) throw invalid(input, "'.' and '..' are not allowed in the URL");
  if (segments.some((s) => s === '')) throw invalid(input, 'the URL path has an empty segment');

  let type: RepoType = 'model';
  const folder = TYPE_FOLDERS.find(([f]) => segments[0] === f.slice(0, -1));
  if (folder) {
    type = folder[1];
    segments.shift();
  }
  if (segments.length < 2) {
    const one = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(segments[0] ?? '') ? segments[0] : 'gpt2';
    throw invalid(input, 'the URL does not name a repository (org/name)', `for an id without an owner (gpt2), give the id alone: nix-hug ls ${one}; ${FORMS_HINT}`);
  }
  const org = segments[0] ?? '';
  let name = segments[1] ?? '';
  const rest = segments.slice(2);
  // A clone URL: https://huggingface.co/org/repo.git
  if (rest.length === 0 && name.toLowerCase().endsWith('.git') && name.length > 4) name = name.slice(0, -4);
  checkRepoId(input, org, name);

  const result: ParsedRepoUrl = { type, repoId: `${org}/${name}` };
  if (rest.length === 0) return result;
  const page = rest[0] ?? '';
  if (!REV_PAGES.has(page)) {
    throw invalid(input, `unsupported page ${quote(page)} in the URL`, 'use the repository URL or a /tree/REF, /blob/REF or /resolve/REF URL');
  }
  let rawRef = rest[1];
  if (rawRef === undefined) throw invalid(input, `the URL has no revision after /${page}/`);
  // The Hub's pages encode `refs/pr/1` as one segment; accept it unencoded too.
  if (rawRef === 'refs' && (rest[2] === 'pr' || rest[2] === 'convert') && rest[3] !== undefined) rawRef = `refs/${rest[2]}/${rest[3]}`;
  result.ref = decodeRef(input, rawRef);
  return result;
}

/** A revision as a URL carries it (percent-encoded), decoded and checked. */
function decodeRef(input: string, raw: string): string {
  let ref: string;
  try {
    ref = decodeURIComponent(raw);
  } catch {
    throw invalid(input, `the revision ${quote(raw)} is not valid percent-encoding`);
  }
  return validateRef(ref, `in ${quote(input)}`);
}

/** Revisions that contain `/` and may follow `@` unencoded in an `hf://` URI. */
const SLASHED_REVISION = /^refs\/(pr\/\d+|convert\/[A-Za-z0-9_-]+)(?=\/|$)/;

/**
 * `hf://[datasets/|spaces/]org/name[@REV]`, as the `hf` CLI and
 * huggingface_hub's file system take it. REV is percent-decoded
 * (`refs%2Fpr%2F1`), or raw when it is `refs/pr/N` or `refs/convert/X`. A
 * path inside the repository names files, which `--file` does.
 */
function parseHfUri(input: string): ParsedRepoUrl {
  let rest = input.slice('hf://'.length);
  let type: RepoType = 'model';
  const folder = TYPE_FOLDERS.find(([f]) => rest.startsWith(f));
  if (folder) {
    type = folder[1];
    rest = rest.slice(folder[0].length);
  } else if (/^(models|buckets)\//.test(rest)) {
    throw invalid(input, `hf://${rest.split('/')[0]}/ is not a repository type nix-hug fetches`, 'models have no prefix: hf://org/name; datasets and Spaces: hf://datasets/org/name, hf://spaces/org/name');
  }
  if (/[?#]/.test(rest)) throw invalid(input, 'an hf:// URI cannot have a query string or fragment');
  const slash = rest.indexOf('/');
  const second = slash < 0 ? -1 : rest.slice(slash + 1).search(/[/@]/);
  const idEnd = second < 0 ? rest.length : slash + 1 + second;
  const result = parseBareId(input, rest.slice(0, idEnd), type);
  if (result.quant !== undefined) throw invalid(input, "an hf:// URI has no :QUANT part", 'write org/repo:QUANT without hf://');
  let after = rest.slice(idEnd);
  if (after.startsWith('@')) {
    after = after.slice(1);
    const slashed = SLASHED_REVISION.exec(after);
    const raw = slashed ? slashed[0] : after.split('/')[0] ?? '';
    after = after.slice(raw.length);
    result.ref = decodeRef(input, raw);
  }
  if (after !== '' && after !== '/') {
    throw invalid(input, `${quote(after.replace(/^\//, ''))} is a path inside the repository`, `name the repository alone and select files with --file, e.g. nix-hug fetch ${input.slice(0, input.length - after.length)} --file ${after.replace(/^\//, '')}`);
  }
  return result;
}

/**
 * Parses a repository reference in any accepted form; throws UsageError
 * (exit 2) for anything else.
 */
export function parseRepoUrl(input: string, options: ParseRepoUrlOptions = {}): ParsedRepoUrl {
  checkForbiddenCharacters(input);
  if (/^https?:\/\//i.test(input)) return parseWebUrl(input, options);
  if (/^hf:\/\//i.test(input)) return parseHfUri(input);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(input)) {
    throw invalid(input, 'only http://, https:// and hf:// URLs are supported');
  }
  for (const [prefix, type] of SCHEME_PREFIXES) {
    if (input.startsWith(prefix)) return parseBareId(input, input.slice(prefix.length), type);
  }
  for (const [folder, type] of TYPE_FOLDERS) {
    if (input.startsWith(folder)) return parseBareId(input, input.slice(folder.length), type);
  }
  const prefix = /^([^/]*):/.exec(input);
  if (prefix) throw invalid(input, `unknown prefix ${quote(`${prefix[1] ?? ''}:`)} (use hf:, hf-datasets: or hf-spaces:)`);
  return parseBareId(input, input, null);
}

/**
 * A revision given with --ref or in a page URL: a branch, tag, commit or
 * `refs/pr/N`. Git's ref-name rules (check-ref-format), plus no quotes and
 * no `${`, so the value is safe in any message, URL or file name.
 */
export function validateRef(ref: string, where = 'given with --ref'): string {
  const bad = (reason: string) =>
    new UsageError(`invalid revision ${quote(ref)} ${where}: ${reason}`, 'give a branch or tag name (e.g. main, v1.0), a 40-hex commit, or refs/pr/N');
  if (ref === '') throw bad('it is empty');
  if (ref.length > 255) throw bad('it is longer than 255 characters');
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(ref)) throw bad('it contains a control character');
  if (/\s/.test(ref)) throw bad('it contains whitespace');
  if (ref.includes('..')) throw bad("it contains '..'");
  const ch = /[~^:?*[\\"'`]/.exec(ref);
  if (ch) throw bad(`character ${quote(ch[0])} is not allowed`);
  if (ref.includes('${') || ref.includes('@{')) throw bad("it contains '${' or '@{'");
  if (ref === '@') throw bad("'@' alone is not a revision");
  if (ref.startsWith('-')) throw bad("it starts with '-'");
  const parts = ref.split('/');
  if (parts.some((p) => p === '')) throw bad("it has an empty path component (leading, trailing or double '/')");
  if (parts.some((p) => p.startsWith('.') || p.endsWith('.lock'))) throw bad("a component starts with '.' or ends with '.lock'");
  if (ref.endsWith('.')) throw bad("it ends with '.'");
  return ref;
}

/** An id without an owner (`gpt2`): the Hub answers for it under a canonical `org/name`. */
export function isLegacyId(repoId: string): boolean {
  return !repoId.includes('/');
}

/** Whether `repoId` is a well-formed `org/name` (the Hub's rules), e.g. the canonical id an API answered. */
export function isCanonicalRepoId(repoId: string): boolean {
  const parts = repoId.split('/');
  if (parts.length !== 2) return false;
  try {
    checkRepoId(repoId, parts[0] ?? '', parts[1] ?? '');
    return true;
  } catch {
    return false;
  }
}
