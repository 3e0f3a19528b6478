/**
 * The token never leaks. With HF_TOKEN set (a token that does not even look
 * like `hf_…`, so no pattern-based redaction can hide a leak) and --debug on,
 * every command runs — fetch of a gated repo (with --out and --json), ls,
 * export, import, store ls / path, and a failing command that prints a
 * stack trace — and the token is looked for in: stdout and stderr, the
 * expression, the manifest and the persist store's files, the config dir,
 * the `--out` copy, the result's store paths and their derivations, Nix's
 * build logs and fetcher cache, any netrc or other file left in HOME or
 * TMPDIR, and the command line of every process while a slow download runs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { requireBuild, runCli, collect, attempt, observed, RUN, sandbox, seeded, spawnCli, type Sandbox } from '../support/index.ts';
import { readIndex } from '../../src/persist/export-index.ts';
import { capture } from '../../src/nix/nix.ts';

const ORG = `secret-${RUN}`;
const GATED = `${ORG}/gated`;
const PRIVATE = `${ORG}/private`;
/** Not hf_-shaped: only the CLI's handling of this very value can keep it out. */
const TOKEN = `tok-${randomBytes(12).toString('base64url')}-${RUN}`;

let hub: RunningHub;
let box: Sandbox;
let commands = 0;
const outputs: string[] = [];

before(async () => {
  requireBuild();
  hub = await startHub({
    repos: [
      { id: GATED, gated: 'manual', commits: [{ files: { 'config.json': '{}\n', 'w.safetensors': seeded('secret-w', 300_000), 'x.bin': seeded('secret-x', 2000) } }] },
      { id: PRIVATE, private: true, commits: [{ files: { 'config.json': '{"private":1}\n', 'p.bin': seeded('secret-p', 1000) } }] },
    ],
    tokens: { [TOKEN]: { grants: [GATED, PRIVATE] } },
  });
  box = sandbox(() => hub.url);
});
after(async () => {
  await hub?.close();
  box?.cleanup();
});

const persist = () => join(box.home, 'persist');
const env = (extra: NodeJS.ProcessEnv = {}) => box.env({ HF_TOKEN: TOKEN, NIX_HUG_PERSIST_DIR: persist(), ...extra });

/** Runs a command with --debug and keeps its output for the checks. */
async function cli(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCli(['--debug', ...args], env(extra));
  commands++;
  outputs.push(r.stdout, r.stderr);
  return r;
}

/** One place the token is looked for: counted as tried, and as passed once its assertion held. */
function checked(assertion: () => void): void {
  const pass = attempt('secrets', 'secretChecks');
  assertion();
  pass();
}

function noToken(text: string, where: string): void {
  checked(() => assert.ok(!text.includes(TOKEN), `the token is in ${where}`));
}

/** Every file under `root` (links not followed: a link's target text is checked instead). */
function grepTree(root: string, where: string): void {
  if (!existsSync(root)) return;
  const st = lstatSync(root);
  if (st.isSymbolicLink()) return noToken(readlinkSync(root), `${where} (link)`);
  if (st.isDirectory()) {
    for (const name of readdirSync(root)) {
      noToken(name, `a file name in ${where}`);
      grepTree(join(root, name), `${where}/${name}`);
    }
    return;
  }
  if (st.isFile() && st.size < 64 << 20) noToken(readFileSync(root).toString('latin1'), where);
}

/** Every process's command line, while `until` is pending. Returns how many command lines were read. */
async function watchCommandLines(cliPid: () => number | undefined, until: Promise<unknown>): Promise<{ read: number; sawChild: boolean }> {
  let done = false;
  void until.finally(() => (done = true));
  let read = 0;
  let sawChild = false;
  while (!done) {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let cmdline: string;
      let stat: string;
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
        stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      } catch {
        continue;
      }
      read++;
      assert.ok(!cmdline.includes(TOKEN), `the token is on the command line of ${cmdline.replace(/\0/g, ' ')}`);
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === cliPid()) sawChild = true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  observed('secrets', { commandLinesRead: read }); // each one asserted free of the token above
  return { read, sawChild };
}

describe('with HF_TOKEN and --debug, the token appears nowhere', () => {
  let storePath = '';

  it('fetch of a gated repo: not on any command line during the download and build, not in the output or the copy', async () => {
    hub.addFault({ match: /\/resolve\/[0-9a-f]{40}\/w\.safetensors$/, kind: { slowBytesPerSecond: 200_000 }, times: 1 });
    const out = join(box.home, 'out');
    const run = spawnCli(['--debug', 'fetch', GATED, '--json', '--out', out], env());
    const seen = await watchCommandLines(() => run.child.pid, run.done);
    const end = await run.done;
    commands++;
    outputs.push(run.stdout(), run.stderr());
    assert.equal(end.code, 0, run.stderr());
    assert.ok(seen.sawChild, 'the CLI had child processes while it was watched');
    assert.match(run.stderr(), /using the Hugging Face token from HF_TOKEN/);
    const j = JSON.parse(run.stdout()) as { storePath: string; expression: string };
    storePath = j.storePath;
    noToken(j.expression, 'the expression');
    grepTree(out, 'the --out copy');
    // The token went to the Hub's origin only, never to the CDN (which was asked).
    assert.ok(hub.requests.some((q) => q.route === 'resolve' && q.authorized));
    const cdn = hub.requests.filter((q) => q.route === 'cdn');
    assert.ok(cdn.length > 0, 'the CDN was asked for the file');
    checked(() => assert.deepEqual(cdn.filter((q) => q.authorized).map((q) => q.url), [], 'no Authorization on the CDN'));
    // The CDN URLs are pre-signed (they open private and gated files to anyone who has them): --debug shows
    // the request, not the signature.
    const cdnLine = run.stderr().split('\n').find((l) => l.includes(`${hub.cdnUrl}/repos/`));
    assert.ok(cdnLine, `--debug shows the CDN request:\n${run.stderr()}`);
    for (const q of cdn) {
      for (const [key, value] of new URLSearchParams(q.url.split('?')[1] ?? '')) {
        if (/^(Signature|Expires|Key-Pair-Id|Policy|X-Amz-.*)$/i.test(key)) {
          checked(() => assert.ok(!run.stderr().includes(value), `--debug printed the CDN URL's ${key}: ${cdnLine}`));
        }
      }
    }
  });

  it('the result, its closure and its derivations, and their build logs', async () => {
    assert.ok(storePath);
    const closure = await capture('nix-store', ['-qR', storePath], box.nixEnv);
    const drv = await capture('nix-store', ['-qd', storePath], box.nixEnv);
    const drvClosure = await capture('nix-store', ['-qR', drv.stdout.trim()], box.nixEnv);
    const paths = new Set([...closure.stdout.split('\n'), ...drvClosure.stdout.split('\n')].filter(Boolean));
    assert.ok(paths.size >= 4, [...paths].join('\n'));
    for (const p of paths) grepTree(p, p);
    for (const p of paths) {
      if (!p.endsWith('.drv')) continue;
      const log = await capture('nix-store', ['--read-log', p], box.nixEnv);
      noToken(log.stdout + log.stderr, `the build log of ${p}`);
    }
  });

  it('ls, export, store ls, store path, import — and a failing command with a stack trace', async () => {
    const ls = await cli(['ls', GATED, '--json']);
    assert.equal(ls.code, 0, ls.stderr);
    const exp = await cli(['export', PRIVATE]);
    assert.equal(exp.code, 0, exp.stderr);
    const exported = exp.stdout.trim();
    for (const args of [['store', 'ls', '--json'], ['store', 'path'], ['store', 'ls']]) {
      const r = await cli(args);
      assert.equal(r.code, 0, r.stderr);
    }
    await collect(box.nixEnv, [exported]);
    const imp = await cli(['import', PRIVATE]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal(imp.stdout, `${exported}\n`);
    const fail = await cli(['fetch', `${ORG}/nope`, '--no-build']);
    assert.equal(fail.code, 1);
    assert.match(fail.stderr, /^\s+at /m, '--debug prints the stack');
    // The same from the token file instead of the environment.
    const file = join(box.home, 'token-file');
    writeFileSync(file, `${TOKEN}\n`);
    const viaFile = await cli(['fetch', PRIVATE, '--no-build'], { HF_TOKEN: '', HF_TOKEN_PATH: file });
    assert.equal(viaFile.code, 0, viaFile.stderr);
    assert.match(viaFile.stderr, /using the Hugging Face token from /);
  });

  it('a server that echoes the token in its error message: the error line and the stack show *** instead', async () => {
    // The token is not hf_-shaped: only redaction of the very token in use can hide it.
    const echo = createServer((req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `credentials ${req.headers.authorization ?? ''} were rejected` }));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    try {
      const endpoint = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
      for (const args of [['ls', `${ORG}/echo`], ['--debug', 'ls', `${ORG}/echo`]]) {
        const r = await runCli(args, env({ HF_ENDPOINT: endpoint, NIX_HUG_MAX_RETRIES: '0' }));
        commands++;
        outputs.push(r.stdout, r.stderr);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /nix-hug: error: .*credentials Bearer \*\*\* were rejected/, 'the message is shown, the token is not');
        noToken(r.stderr, `the error report of ${args.join(' ')}`);
      }
    } finally {
      await new Promise<void>((r) => echo.close(() => r()));
    }
  });

  it('in no output, export record, persist store, config dir, cache, netrc or temporary file', async () => {
    for (const [i, text] of outputs.entries()) noToken(text, `output ${i} of the commands`);
    assert.ok((await readIndex(`file://${persist()}`, box.nixEnv)).records.length > 0, 'an export record was written');
    grepTree(persist(), 'the persist store');
    const config = join(box.home, '.config');
    assert.ok(existsSync(join(config, 'nix-hug', 'keys')), 'the config dir was used');
    // HOME holds the config dir, Nix's fetcher cache (git repos fetched with the token), any netrc.
    const home = readdirSync(box.home).filter((n) => n !== 'token-file');
    for (const name of home) grepTree(join(box.home, name), `HOME/${name}`);
    grepTree(box.nixEnv.XDG_CACHE_HOME!, "Nix's fetcher cache");
    grepTree(box.tmp, 'TMPDIR');
    for (const netrc of [join(box.home, '.netrc'), join(box.home, '.config', 'nix', 'netrc')]) assert.equal(existsSync(netrc), false, netrc);
    observed('secrets', { secretCommands: commands }); // every output of theirs was checked above
  });
});
