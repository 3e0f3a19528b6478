/**
 * Bad input and a misbehaving Hub, through the real CLI: each case must exit
 * 2 (usage) or 1 (failure) with exactly one `nix-hug: error:` line, at most
 * one `hint:` line, no stack trace, and a message naming what went wrong.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { cliHubOptions, GRANTED, UNGRANTED, cliEnv, closedPort, pool, requireBuild, runCli } from '../support/index.ts';

interface Case {
  name: string;
  args: string[];
  code: 1 | 2;
  /** Substrings of the error line (the repo, the option, the reason). */
  says: (string | RegExp)[];
  env?: NodeJS.ProcessEnv;
}

const hubOptions = { ...cliHubOptions, repos: cliHubOptions.repos.filter((r) => r.id !== 'acme/big') };

// Found before any request: exit 2.
const USAGE: Case[] = [
  { name: 'missing argument', args: ['ls'], code: 2, says: ['missing repository (or --lock)'] },
  { name: 'too many arguments', args: ['ls', 'acme/folders', 'extra'], code: 2, says: ['too many arguments'] },
  { name: 'unknown option', args: ['ls', 'acme/folders', '--bogus'], code: 2, says: ["unknown option '--bogus'"] },
  { name: 'unknown command', args: ['lsx', 'acme/folders'], code: 2, says: ["unknown command 'lsx'"] },
  { name: 'option without its value', args: ['ls', 'acme/folders', '--ref'], code: 2, says: ["option '--ref <ref>' argument missing"] },
  { name: 'one segment, not a name', args: ['ls', 'gpt2.git'], code: 2, says: ["'gpt2.git'", ".git'"] },
  { name: 'three segments', args: ['ls', 'a/b/c'], code: 2, says: ["'a/b/c'"] },
  { name: 'empty part', args: ['ls', 'acme//folders'], code: 2, says: ["'acme//folders'", 'empty'] },
  { name: 'dot-dot', args: ['ls', '../folders'], code: 2, says: ["'../folders'", "'..'"] },
  { name: 'space', args: ['ls', 'acme/my repo'], code: 2, says: ["'acme/my repo'", 'whitespace'] },
  { name: 'double quote', args: ['ls', 'acme/"x"'], code: 2, says: ['acme/"x"', 'quote'] },
  { name: 'single quote', args: ['ls', "acme/it's"], code: 2, says: ["acme/it's", 'quote'] },
  { name: 'interpolation', args: ['ls', 'acme/${HOME}'], code: 2, says: ['acme/${HOME}', "'${'"] },
  { name: 'backslash', args: ['ls', 'acme\\folders'], code: 2, says: ['acme\\folders', 'backslash'] },
  { name: 'newline in the name stays on one line', args: ['ls', 'acme/fol\nders'], code: 2, says: ["'acme/fol\\nders'", 'control character'] },
  { name: 'characters the Hub forbids', args: ['ls', 'acme/fold;ers'], code: 2, says: ["'acme/fold;ers'", "';'"] },
  { name: 'unknown host', args: ['ls', 'https://example.com/acme/folders'], code: 2, says: ["'example.com'", 'unknown host'] },
  { name: 'query string on a bare id', args: ['ls', 'acme/folders?rev=main'], code: 2, says: ['acme/folders?rev=main', 'query string'] },
  { name: 'unknown prefix', args: ['ls', 'hf-model:acme/folders'], code: 2, says: ["'hf-model:'"] },
  { name: 'an hf:// URI with a path', args: ['ls', 'hf://acme/app@main/app.py'], code: 2, says: ["'app.py' is a path inside the repository"] },
  { name: 'a GGUF quant that is no label', args: ['ls', 'acme/app:Q4/x'], code: 2, says: ["'Q4/x' after ':' is not a GGUF quantization label"] },
  { name: 'unsupported page', args: ['ls', 'https://huggingface.co/acme/folders/discussions/3'], code: 2, says: ["'discussions'"] },
  { name: 'ref with a space', args: ['ls', 'acme/folders', '--ref', 'my branch'], code: 2, says: ["'my branch'", 'whitespace'] },
  { name: 'ref with ..', args: ['ls', 'acme/folders', '--ref', 'a..b'], code: 2, says: ["'a..b'", "'..'"] },
  { name: '--file with --include', args: ['ls', 'acme/folders', '--file', 'config.json', '--include', '*.bin'], code: 2, says: ['--file cannot be combined with --include'] },
  { name: 'empty --include', args: ['ls', 'acme/folders', '--include', ''], code: 2, says: ['--include needs a non-empty pattern'] },
  { name: '--file outside the repo', args: ['ls', 'acme/folders', '--file', '../etc/passwd'], code: 2, says: ["'../etc/passwd'"] },
  { name: '--json with --manifest', args: ['ls', 'acme/folders', '--json', '--manifest'], code: 2, says: ['--json and --manifest'] },
  { name: 'fetch --override without --out', args: ['fetch', 'acme/folders', '--override'], code: 2, says: ['--override only makes sense with --out'] },
  { name: 'import without a repo or --all', args: ['import'], code: 2, says: ['missing repository (or --all)'] },
  { name: 'import with a repo and --all', args: ['import', 'acme/folders', '--all'], code: 2, says: ['either a repository or --all'] },
  { name: 'bad HF_ENDPOINT', args: ['ls', 'acme/folders'], code: 2, says: ["HF_ENDPOINT 'ftp://hub'"], env: { HF_ENDPOINT: 'ftp://hub' } },
];

// Need the Hub: exit 1.
function failures(hubUrl: string, deadPort: number): Case[] {
  return [
    { name: 'unknown repo (bare id)', args: ['ls', 'acme/nope'], code: 1, says: ['repository acme/nope not found', 'neither a model, a dataset nor a Space'] },
    { name: 'unknown model', args: ['ls', 'hf:acme/nope'], code: 1, says: ['model acme/nope not found'] },
    { name: 'unknown dataset', args: ['ls', 'datasets/acme/nope'], code: 1, says: ['dataset acme/nope not found'] },
    { name: 'model URL for a dataset-only name', args: ['ls', `${hubUrl}/acme/tree-503`], code: 1, says: ['model acme/tree-503 not found'] },
    { name: 'private repo without a token', args: ['ls', 'hf:acme/private'], code: 1, says: ['model acme/private not found'] },
    { name: 'private repo with an ungranted token', args: ['ls', 'hf:acme/private'], code: 1, says: ['model acme/private not found'], env: { HF_TOKEN: UNGRANTED } },
    { name: 'invalid token', args: ['ls', 'hf:acme/folders'], code: 1, says: ['rejected your token', 'model acme/folders'], env: { HF_TOKEN: 'hf_notAValidTokenAtAll000000000000' } },
    { name: 'unknown ref', args: ['ls', 'acme/folders', '--ref', 'nope'], code: 1, says: ["revision 'nope' not found in model acme/folders"] },
    { name: 'unknown ref in a page URL', args: ['ls', 'https://huggingface.co/acme/folders/tree/v9'], code: 1, says: ["revision 'v9' not found in model acme/folders"] },
    { name: 'unknown PR', args: ['ls', 'hf:acme/folders', '--ref', 'refs/pr/99'], code: 1, says: ["revision 'refs/pr/99' not found"] },
    { name: '500s past the retry budget', args: ['ls', 'hf:acme/flaky-500'], code: 1, says: ['model acme/flaky-500', 'HTTP 500', 'gave up after 3 attempts'] },
    { name: '429 past the retry budget', args: ['ls', 'hf:acme/flaky-429'], code: 1, says: ['rate-limited', 'model acme/flaky-429'] },
    { name: '503 on the file list', args: ['ls', 'datasets/acme/tree-503'], code: 1, says: ['listing the files for dataset acme/tree-503', 'HTTP 503'] },
    { name: 'connection dropped every time', args: ['ls', 'hf:acme/drops'], code: 1, says: ['cannot reach the Hub', 'model acme/drops'] },
    { name: 'connection refused', args: ['ls', 'acme/folders'], code: 1, says: [`cannot reach the Hub at http://127.0.0.1:${deadPort}`, 'acme/folders', 'ECONNREFUSED'], env: { HF_ENDPOINT: `http://127.0.0.1:${deadPort}` } },
  ];
}

let hub: RunningHub;
let base: ReturnType<typeof cliEnv>;

before(async () => {
  requireBuild();
  hub = await startHub(hubOptions);
  base = cliEnv({ HF_ENDPOINT: hub.url });
});
after(async () => {
  await hub.close();
  base.cleanup();
});

async function check(c: Case): Promise<string | null> {
  const r = await runCli(c.args, { ...base.env, ...c.env });
  const problems: string[] = [];
  if (r.code !== c.code) problems.push(`exit ${r.code}, want ${c.code}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  const errors = lines.filter((l) => l.includes('error:'));
  if (errors.length !== 1 || !lines[0]?.startsWith('nix-hug: error: ')) problems.push('not exactly one leading error line');
  if (lines.length > 2 || (lines.length === 2 && !lines[1]?.startsWith('hint: '))) problems.push('extra stderr lines');
  if (/^\s+at /m.test(r.stderr)) problems.push('stack trace');
  for (const s of c.says) {
    const ok = typeof s === 'string' ? (lines[0] ?? '').includes(s) : s.test(lines[0] ?? '');
    if (!ok) problems.push(`error line lacks ${String(s)}`);
  }
  if (r.stdout !== '') problems.push('stdout not empty');
  return problems.length ? `${c.name}: ${problems.join('; ')}\n  stderr: ${JSON.stringify(r.stderr)}` : null;
}

describe('bad input and Hub failures', () => {
  it(`${USAGE.length} usage errors exit 2 before any request`, async () => {
    assert.ok(USAGE.length >= 30);
    hub.resetStats();
    const problems = (await pool(4, USAGE.map((c) => () => check(c)))).filter((p) => p !== null);
    assert.deepEqual(problems, []);
    assert.deepEqual(hub.requests, [], 'no request reached the Hub');
  });

  it('Hub failures exit 1 with one error line naming the repo', async () => {
    hub.addFault({ match: '/api/models/acme/flaky-500/', kind: { status: 500 }, times: Infinity });
    hub.addFault({ match: '/api/models/acme/flaky-429/', kind: { status: 429, retryAfter: 1 }, times: Infinity });
    hub.addFault({ match: '/api/datasets/acme/tree-503/tree/', kind: { status: 503 }, times: Infinity });
    hub.addFault({ match: '/api/models/acme/drops/', kind: { dropAfterBytes: 3 }, times: Infinity });
    try {
      const cases = failures(hub.url, await closedPort());
      const problems = (await pool(4, cases.map((c) => () => check(c)))).filter((p) => p !== null);
      assert.deepEqual(problems, []);
      // The retry budget (NIX_HUG_MAX_RETRIES=2) was used, not more.
      assert.equal(hub.requests.filter((r) => r.url.startsWith('/api/models/acme/flaky-500/')).length, 3);
    } finally {
      hub.clearFaults();
    }
  });

  it('a transient 503 and a dropped connection are retried and succeed', async () => {
    hub.addFault({ match: '/api/models/acme/folders/revision/', kind: { status: 503 }, times: 1 });
    hub.addFault({ match: '/api/models/acme/folders/tree/', kind: { dropAfterBytes: 10 }, times: 1 });
    try {
      const r = await runCli(['ls', 'hf:acme/folders', '--json'], base.env);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((JSON.parse(r.stdout) as { files: unknown[] }).files.length > 0);
    } finally {
      hub.clearFaults();
    }
  });

  it('an HF_ENDPOINT on a port that fetch would refuse (6000 is X11\'s) works: the Hub client connects there', async () => {
    // Ports of other protocols that Node's fetch (the Fetch standard) never connects to; a mirror may use one.
    let blocked: RunningHub | null = null;
    const tried: string[] = [];
    for (const port of [6000, 6665, 6666, 6667, 6668, 6669, 6697, 10080]) {
      try {
        blocked = await startHub({ ...hubOptions, port });
        break;
      } catch (err) {
        tried.push(`${port}: ${(err as Error).message}`);
      }
    }
    assert.ok(blocked, `no port of the Fetch standard's blocked list is free here:\n${tried.join('\n')}`);
    try {
      const r = await runCli(['ls', 'hf:acme/folders', '--json'], { ...base.env, HF_ENDPOINT: blocked.url });
      assert.equal(r.code, 0, r.stderr);
      assert.ok((JSON.parse(r.stdout) as { files: unknown[] }).files.length > 0);
    } finally {
      await blocked.close();
    }
  });

  it('the total: at least 30 bad inputs are covered', () => {
    assert.ok(USAGE.length + failures('', 0).length >= 30);
  });
});
