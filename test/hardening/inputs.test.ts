/**
 * A corpus of malformed invocations through the built CLI, beyond the 46 of
 * test/cli/errors.test.ts: repository URLs, refs, patterns and paths, option
 * combinations of every command, `--out` targets, configuration files, the
 * manifest and environment knobs. Each must exit 2 (usage) or 1 (input
 * error) with one `nix-hug: error:` line (and at most one `hint:`), no
 * stack trace, nothing on stdout, and nothing written: HOME, the working
 * directory and TMPDIR are the same before and after, and usage errors send
 * no request to the Hub.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { CLI, pool, requireBuild, STUB_DIR, attempt, RUN } from '../support/index.ts';

const ORG = `in-${RUN}`;
const MODEL = `${ORG}/model`;
const REV40 = 'a'.repeat(40);

interface Case {
  name: string;
  args: string[];
  code: 1 | 2;
  /** Substrings (or patterns) of the error line. */
  says: (string | RegExp)[];
  env?: (home: string) => NodeJS.ProcessEnv;
  /** Files to create under HOME first (path relative to HOME → content). */
  files?: Record<string, string>;
  /** Usage errors are found before any request; set for input errors that need the Hub. */
  asksHub?: boolean;
}

const cfg = (text: string) => ({ '.config/nix-hug/config': text });
const persistHere = (home: string) => ({ NIX_HUG_PERSIST_DIR: join(home, 'persist') });
const manifest = (text: string) => ({ 'persist/nix-hug-manifest.json': text });
const entry = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ version: 1, storeUrl: 'x', entries: [{ repoId: MODEL, type: 'model', rev: REV40, filters: null, storePath: `/nix/store/${'a'.repeat(32)}-x`, exportedAt: '2025-01-01T00:00:00Z', ...over }] });

const CASES: Case[] = [
  // ---- repository names and URLs (every command parses them the same way) ----
  { name: 'prefix without a name', args: ['fetch', 'hf:'], code: 2, says: ["'hf:'", 'no repository follows'] },
  { name: 'dataset prefix, one segment that is not a name', args: ['ls', 'hf-datasets:squad--v2'], code: 2, says: ["'hf-datasets:squad--v2'", "'--' or '..'"] },
  { name: 'datasets/ with one segment that is not a name', args: ['export', 'datasets/.squad'], code: 2, says: ["'datasets/.squad'"] },
  { name: 'bare Hub URL', args: ['fetch', 'https://huggingface.co/'], code: 2, says: ['does not name a repository'] },
  { name: 'Hub URL with one segment', args: ['ls', 'https://huggingface.co/gpt2'], code: 2, says: ["'https://huggingface.co/gpt2'"] },
  { name: 'dataset URL with one segment', args: ['ls', 'https://huggingface.co/datasets/squad'], code: 2, says: ['does not name a repository'] },
  { name: 'credentials in the URL', args: ['fetch', 'https://user:pw@huggingface.co/acme/x'], code: 2, says: ['unknown host'] },
  { name: 'ftp URL', args: ['fetch', 'ftp://huggingface.co/acme/x'], code: 2, says: ['only http://, https:// and hf://'] },
  { name: 'scp-like git remote', args: ['fetch', 'git@hf.co:acme/x'], code: 2, says: ["'git@hf.co:'", 'unknown prefix'] },
  { name: 'tree page without a revision', args: ['fetch', 'https://huggingface.co/acme/x/tree'], code: 2, says: ['no revision after /tree/'] },
  { name: 'bad percent-encoding in the revision', args: ['fetch', 'https://huggingface.co/acme/x/tree/%ZZ'], code: 2, says: ["'%ZZ'", 'percent-encoding'] },
  { name: 'dot-dot revision in a page URL', args: ['ls', 'https://huggingface.co/acme/x/tree/a..b'], code: 2, says: ["'a..b'", "'..'"] },
  { name: 'dot-dot segment in a URL', args: ['ls', 'https://huggingface.co/acme/../x'], code: 2, says: ["'..' are not allowed"] },
  { name: 'empty segment in a URL', args: ['ls', 'https://huggingface.co/acme//x'], code: 2, says: ['empty segment'] },
  { name: 'edit page', args: ['fetch', 'https://huggingface.co/acme/x/edit/main/README.md'], code: 2, says: ["'edit'"] },
  { name: 'name ending in .git', args: ['fetch', 'acme/x.git'], code: 2, says: ["'.git'"] },
  { name: 'name starting with a dash', args: ['fetch', 'acme/-x'], code: 2, says: ["'-x'", 'start and end'] },
  { name: 'organization ending with a dot', args: ['ls', 'acme./x'], code: 2, says: ["'acme.'"] },
  { name: 'double dash in a name', args: ['ls', 'acme/a--b'], code: 2, says: ["'--'"] },
  { name: 'name of 97 characters', args: ['ls', `acme/${'n'.repeat(97)}`], code: 2, says: ['longer than 96'] },
  { name: 'non-ASCII name', args: ['fetch', 'acme/mödel'], code: 2, says: ["'ö'"] },
  { name: 'fragment', args: ['fetch', 'acme/x#main'], code: 2, says: ['query string or fragment'] },
  { name: 'trailing slash', args: ['fetch', 'acme/x/'], code: 2, says: ["'acme/x/'"] },
  { name: 'leading slash', args: ['fetch', '/acme/x'], code: 2, says: ["'/acme/x'"] },
  { name: 'command substitution', args: ['fetch', 'acme/$(id)'], code: 2, says: ["'$'"] },
  { name: 'backticks', args: ['fetch', 'acme/`id`'], code: 2, says: ['quote'] },
  { name: 'pipe', args: ['fetch', 'acme/x|y'], code: 2, says: ["'|'"] },
  { name: 'TAB in the name', args: ['ls', 'acme/a\tb'], code: 2, says: ['control character', "'acme/a\\tb'"] },
  { name: 'escape sequence in the name', args: ['ls', 'acme/\u001b[31mred'], code: 2, says: ['control character', '\\u001b'] },
  { name: 'line separator in the name', args: ['ls', 'acme/a\u2028b'], code: 2, says: ['control character'] },
  { name: 'empty repository argument', args: ['fetch', ''], code: 2, says: ['it is empty'] },
  { name: 'import of a malformed name', args: ['import', 'acme--x'], code: 2, says: ["'acme--x'"], env: persistHere },

  // ---- revisions ----
  { name: 'empty --ref', args: ['fetch', MODEL, '--ref', ''], code: 2, says: ['it is empty'] },
  { name: '--ref starting with a dash', args: ['fetch', MODEL, '--ref=-main'], code: 2, says: ["starts with '-'"] },
  { name: '--ref with a colon', args: ['ls', MODEL, '--ref', 'main:config.json'], code: 2, says: ["':'"] },
  { name: '--ref with ~', args: ['ls', MODEL, '--ref', 'main~1'], code: 2, says: ["'~'"] },
  { name: '--ref with ^', args: ['ls', MODEL, '--ref', 'main^'], code: 2, says: ["'^'"] },
  { name: '--ref with a glob', args: ['ls', MODEL, '--ref', 'v*'], code: 2, says: ["'*'"] },
  { name: '--ref with a bracket', args: ['ls', MODEL, '--ref', 'v[1]'], code: 2, says: ["'['"] },
  { name: '--ref with a backslash', args: ['ls', MODEL, '--ref', 'a\\b'], code: 2, says: ["'\\'"] },
  { name: '--ref @', args: ['ls', MODEL, '--ref', '@'], code: 2, says: ["'@' alone"] },
  { name: '--ref with @{', args: ['ls', MODEL, '--ref', 'main@{1}'], code: 2, says: ["'@{'"] },
  { name: '--ref with a leading slash', args: ['ls', MODEL, '--ref', '/main'], code: 2, says: ['empty path component'] },
  { name: '--ref with a double slash', args: ['ls', MODEL, '--ref', 'refs//pr/1'], code: 2, says: ['empty path component'] },
  { name: '--ref component starting with a dot', args: ['ls', MODEL, '--ref', 'feature/.hidden'], code: 2, says: ["starts with '.'"] },
  { name: '--ref ending in .lock', args: ['ls', MODEL, '--ref', 'main.lock'], code: 2, says: ['.lock'] },
  { name: '--ref ending with a dot', args: ['ls', MODEL, '--ref', 'v1.'], code: 2, says: ["ends with '.'"] },
  { name: '--ref of 256 characters', args: ['ls', MODEL, '--ref', 'r'.repeat(256)], code: 2, says: ['longer than 255'] },
  { name: '--ref with a quote', args: ['export', MODEL, '--ref', 'a"b'], code: 2, says: ['\'"\''] },
  { name: '--ref with interpolation', args: ['export', MODEL, '--ref', 'x${y}'], code: 2, says: ["'${'"] },
  { name: 'import --ref with whitespace', args: ['import', MODEL, '--ref', 'a b'], code: 2, says: ['whitespace'], env: persistHere },

  // ---- patterns and repository paths ----
  { name: 'empty --exclude', args: ['fetch', MODEL, '--exclude', ''], code: 2, says: ['--exclude needs a non-empty pattern'] },
  { name: 'empty --file', args: ['fetch', MODEL, '--file', ''], code: 2, says: ['--file needs a non-empty pattern'] },
  { name: 'control character in --include', args: ['ls', MODEL, '--include', '*.bin\n'], code: 2, says: ['control character'] },
  { name: 'absolute --file', args: ['fetch', MODEL, '--file', '/etc/passwd'], code: 2, says: ['it is absolute'] },
  { name: '--file with an empty segment', args: ['fetch', MODEL, '--file', 'a//b'], code: 2, says: ['empty segment'] },
  { name: '--file inside .git', args: ['fetch', MODEL, '--file', '.git/config'], code: 2, says: ["inside '.git'"] },
  { name: '--file with a dot segment', args: ['fetch', MODEL, '--file', './config.json'], code: 2, says: ["'.' or '..'"] },
  { name: '--file naming a folder', args: ['ls', MODEL, '--file', 'weights/'], code: 2, says: ['empty segment'] },
  { name: '--file with --exclude', args: ['export', MODEL, '--file', 'config.json', '--exclude', '*.bin'], code: 2, says: ['--file cannot be combined'] },
  { name: '--file that does not exist', args: ['fetch', MODEL, '--file', 'nope.json', '--no-build'], code: 1, says: ["'nope.json'", 'no such file', MODEL], asksHub: true },

  // ---- options of each command ----
  { name: 'no command', args: ['--debug'], code: 2, says: [] },
  { name: 'unknown global option', args: ['-x'], code: 2, says: ["unknown option '-x'"] },
  // fetch takes file names after the repository (as hf download does); ls takes none.
  { name: 'ls with two repositories', args: ['ls', MODEL, 'acme/y'], code: 2, says: ['too many arguments'] },
  { name: '--include without its value', args: ['fetch', MODEL, '--include'], code: 2, says: ["'--include <glob>' argument missing"] },
  { name: 'ls --out', args: ['ls', MODEL, '--out', 'x'], code: 2, says: ["unknown option '--out'"] },
  { name: 'export --json', args: ['export', MODEL, '--json'], code: 2, says: ["unknown option '--json'"] },
  { name: 'export without a repository', args: ['export'], code: 2, says: ["missing required argument 'url'"] },
  { name: 'import --all --ref', args: ['import', '--all', '--ref', 'main'], code: 2, says: ['--ref cannot be combined with --all'] },
  { name: 'import --all with a repository and --yes', args: ['import', MODEL, '--all', '--yes'], code: 2, says: ['either a repository or --all'] },
  { name: 'store without a subcommand', args: ['store'], code: 2, says: [] },
  { name: 'unknown store subcommand', args: ['store', 'rm'], code: 2, says: ["unknown command 'rm'"] },
  { name: 'store ls with an argument', args: ['store', 'ls', 'extra'], code: 2, says: ['too many arguments'] },
  { name: 'store path --json', args: ['store', 'path', '--json'], code: 2, says: ["unknown option '--json'"] },
  { name: 'completion without a shell', args: ['completion'], code: 2, says: ["missing required argument 'shell'"] },
  { name: 'completion for an unknown shell', args: ['completion', 'tcsh'], code: 2, says: ["unknown shell 'tcsh'"] },

  // ---- --out targets ----
  { name: '--out /usr', args: ['fetch', MODEL, '--out', '/usr'], code: 2, says: ['refusing --out /usr', 'system directory'] },
  { name: '--out /nix', args: ['fetch', MODEL, '--out', '/nix'], code: 2, says: ['system directory'] },
  { name: '--out /nix/store', args: ['fetch', MODEL, '--out', '/nix/store'], code: 2, says: ['refusing --out /nix/store'] },
  { name: '--out /lib64', args: ['fetch', MODEL, '--out', '/lib64'], code: 2, says: ['system directory'] },
  { name: '--out /tmp', args: ['fetch', MODEL, '--out', '/tmp'], code: 2, says: ['system directory'] },
  { name: '--out a system directory spelled with ..', args: ['fetch', MODEL, '--out', '/etc/../var'], code: 2, says: ['system directory'] },
  { name: '--out HOME with a trailing slash', args: ['fetch', MODEL, '--out', '__HOME__/'], code: 2, says: ['your home directory'] },
  { name: '--out a non-empty directory, before any download', args: ['fetch', MODEL, '--out', '__HOME__/full'], code: 2, says: ['not empty'], files: { 'full/mine.txt': 'mine' } },
  { name: '--out an existing file, before any download', args: ['fetch', MODEL, '--out', '__HOME__/file.txt'], code: 2, says: ['not empty'], files: { 'file.txt': 'mine' } },

  // ---- configuration files and environment ----
  { name: 'config: empty persist_dir', args: ['store', 'path'], code: 1, says: ['persist_dir is empty', ':1'], files: cfg('persist_dir=\n') },
  { name: 'config: auto_persist=maybe', args: ['store', 'ls'], code: 1, says: ['auto_persist must be true or false', ':2'], files: cfg('persist_dir=/srv/persist\nauto_persist=maybe\n') },
  { name: 'config: unknown key', args: ['export', MODEL], code: 1, says: ['unknown setting `persist`'], files: cfg('# mine\npersist=/srv\n') },
  { name: 'config: a line without =', args: ['import', '--all'], code: 1, says: ['expected KEY=VALUE'], files: cfg('persist_dir /srv\n') },
  { name: 'config: relative persist_dir', args: ['store', 'path'], code: 1, says: ['must be an absolute path'], files: cfg('persist_dir=relative/dir\n') },
  { name: 'config: unsupported store URL', args: ['store', 'path'], code: 1, says: ['unsupported store URL'], files: cfg('persist_dir=ftp://host/dir\n') },
  { name: 'config: relative file:// URL', args: ['store', 'ls'], code: 1, says: ['must name an absolute directory'], files: cfg('persist_dir=file://relative\n') },
  { name: 'config: ? in the directory', args: ['store', 'path'], code: 1, says: ["cannot contain `?`"], files: cfg('persist_dir=/srv/a?b\n') },
  { name: 'config is a directory', args: ['store', 'path'], code: 1, says: ['could not read'], files: { '.config/nix-hug/config/x': '' } },
  { name: 'NIX_HUG_AUTO_PERSIST=maybe', args: ['store', 'path'], code: 1, says: ['NIX_HUG_AUTO_PERSIST must be true or false'], env: (h) => ({ ...persistHere(h), NIX_HUG_AUTO_PERSIST: 'maybe' }) },
  { name: 'NIX_HUG_PERSIST_DIR with an unknown scheme', args: ['export', MODEL], code: 1, says: ['unsupported store URL'], env: () => ({ NIX_HUG_PERSIST_DIR: 'gopher://x' }) },
  { name: 'store ls with nothing configured', args: ['store', 'ls'], code: 1, says: ['needs a persist store'] },
  { name: 'manifest: not JSON', args: ['store', 'ls'], code: 1, says: ['is corrupt', 'not valid JSON'], env: persistHere, files: manifest('{"version": 1, "entries": [') },
  { name: 'manifest: newer version', args: ['import', '--all', '--yes'], code: 1, says: ['version 99', 'newer nix-hug'], env: persistHere, files: manifest('{"version": 99, "entries": []}') },
  { name: 'manifest: entries not a list', args: ['store', 'ls'], code: 1, says: ['"entries" must be a list'], env: persistHere, files: manifest('{"version": 1, "entries": {}}') },
  { name: 'manifest: short rev', args: ['import', MODEL, '--yes'], code: 1, says: ['entry 0', 'rev must be a 40-hex commit'], env: persistHere, files: manifest(entry({ rev: 'abc' })) },
  { name: 'manifest: store path outside a store', args: ['store', 'ls'], code: 1, says: ['storePath is not a store path'], env: persistHere, files: manifest(entry({ storePath: '/etc/passwd' })) },
  { name: 'manifest: repo id with ..', args: ['store', 'ls'], code: 1, says: ['repoId must be'], env: persistHere, files: manifest(entry({ repoId: '../../etc' })) },
  { name: 'malformed public key', args: ['import', MODEL, '--yes'], code: 1, says: ['public key', 'malformed'], env: persistHere, files: { ...manifest(entry()), '.config/nix-hug/keys/public.key': 'not a key' } },
  { name: 'import of a repo never exported', args: ['import', `${ORG}/other`], code: 1, says: ['no export of model', `${ORG}/other`], env: persistHere, files: manifest(entry()) },
  { name: 'import --ref of a commit not exported', args: ['import', MODEL, '--ref', 'b'.repeat(40)], code: 1, says: ['no export of model', 'bbbbbbb'], env: persistHere, files: manifest(entry()) },
  { name: 'NIX_HUG_MAX_RETRIES not a number', args: ['ls', MODEL], code: 1, says: ['NIX_HUG_MAX_RETRIES=lots'], env: () => ({ NIX_HUG_MAX_RETRIES: 'lots' }) },
  { name: 'negative NIX_HUG_HTTP_TIMEOUT_MS', args: ['fetch', MODEL, '--no-build'], code: 1, says: ['NIX_HUG_HTTP_TIMEOUT_MS=-5'], env: () => ({ NIX_HUG_HTTP_TIMEOUT_MS: '-5' }) },
  { name: 'HF_ENDPOINT with credentials', args: ['ls', MODEL], code: 2, says: ['must not contain credentials'], env: () => ({ HF_ENDPOINT: 'http://user:pw@127.0.0.1:9' }) },
  { name: 'HF_ENDPOINT with a query', args: ['fetch', MODEL], code: 2, says: ['query or a fragment'], env: () => ({ HF_ENDPOINT: 'http://127.0.0.1:9/?x=1' }) },
  { name: 'HF_ENDPOINT not a URL', args: ['export', MODEL], code: 2, says: ['is not a URL'], env: (h) => ({ ...persistHere(h), HF_ENDPOINT: 'huggingface.co' }) },
  { name: 'NIX_HUG_LIB without the library', args: ['fetch', MODEL], code: 1, says: ['library was not found'], env: () => ({ NIX_HUG_LIB: '/nonexistent' }), asksHub: true },
];

let hub: RunningHub;
const roots: string[] = [];

before(async () => {
  requireBuild();
  hub = await startHub({ repos: [{ id: MODEL, commits: [{ files: { 'config.json': '{}\n', 'w.bin': { lfs: { size: 100, seed: `inputs-${RUN}` } } } }] }] });
});
after(async () => {
  await hub?.close();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** Every file (size, mtime) and directory under `dir`: what "nothing written" compares. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      out.push(st.isDirectory() ? `${p}/` : `${p} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

function runIn(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A Hub stand-in that only counts requests (and answers 503): cases that must not ask the Hub get one each. */
async function trap(): Promise<{ url: string; requests(): string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(503).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function check(c: Case): Promise<string | null> {
  const endpoint = await trap();
  const root = mkdtempSync(join(tmpdir(), 'nix-hug-inputs-'));
  roots.push(root);
  const home = join(root, 'home');
  const cwd = join(root, 'cwd');
  const tmp = join(root, 'tmp');
  for (const d of [home, cwd, tmp]) mkdirSync(d);
  for (const [rel, text] of Object.entries(c.files ?? {})) {
    mkdirSync(join(home, rel, '..'), { recursive: true });
    writeFileSync(join(home, rel), text);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    TMPDIR: tmp,
    HF_ENDPOINT: c.asksHub ? hub.url : endpoint.url,
    NIX_HUG_NIXPKGS: STUB_DIR,
    NIX_CONFIG: 'substituters =\nexperimental-features = nix-command flakes',
    NIX_HUG_MAX_RETRIES: '1',
    NIX_HUG_RETRY_BASE_MS: '5',
    ...c.env?.(home),
  };
  const args = c.args.map((a) => a.replace('__HOME__', home));
  const before = snapshot(root);
  const r = await runIn(cwd, args, env);
  await endpoint.close();
  const problems: string[] = [];
  if (r.code !== c.code) problems.push(`exit ${r.code}, want ${c.code}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  const errorLines = lines.filter((l) => l.startsWith('nix-hug: error:'));
  if (c.says.length > 0 || c.code === 1) {
    // commander prints the help for a missing command; everything else is one line (and a hint).
    const at = lines.findIndex((l) => l.startsWith('nix-hug: error:'));
    const tail = at < 0 ? [] : lines.slice(at);
    if (errorLines.length !== 1) problems.push(`${errorLines.length} error lines`);
    if (tail.length > 2 || (tail.length === 2 && !tail[1]!.startsWith('hint: '))) problems.push('lines after the error');
  }
  if (/^\s+at /m.test(r.stderr)) problems.push('stack trace');
  for (const s of c.says) {
    const line = errorLines[0] ?? '';
    if (typeof s === 'string' ? !line.includes(s) : !s.test(line)) problems.push(`error line lacks ${String(s)}`);
  }
  if (r.stdout !== '') problems.push(`stdout: ${JSON.stringify(r.stdout.slice(0, 200))}`);
  const afterSnap = snapshot(root);
  if (JSON.stringify(afterSnap) !== JSON.stringify(before)) {
    const added = afterSnap.filter((l) => !before.includes(l));
    const removed = before.filter((l) => !afterSnap.includes(l));
    problems.push(`files changed: +${JSON.stringify(added)} -${JSON.stringify(removed)}`);
  }
  // Found before any request (unless the case needs the Hub to know).
  if (endpoint.requests().length > 0) problems.push(`asked the Hub: ${endpoint.requests().join(' ')}`);
  return problems.length > 0 ? `${c.name}: ${problems.join('; ')}\n  stderr: ${JSON.stringify(r.stderr)}` : null;
}

describe('a corpus of bad invocations', () => {
  it(`${CASES.length} malformed invocations: exit 1 or 2, one error line, nothing written`, { timeout: 120_000 }, async () => {
    assert.ok(CASES.length >= 60, `${CASES.length} cases`);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are unique');
    const passed = attempt('inputs', 'badInputs', CASES.length);
    const problems = (await pool(4, CASES.map((c) => () => check(c)))).filter((p) => p !== null);
    passed(CASES.length - problems.length); // each case's own checks are in check()
    assert.equal(problems.length, 0, `${problems.length} of ${CASES.length} cases misbehaved:\n${problems.join('\n')}`);
  });
});
