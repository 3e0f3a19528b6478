/**
 * export / import / store through the built CLI, against the Hub emulator
 * and real Nix: what a user runs and sees (stdout, stderr, exit code, the
 * bytes in the store). Each run uses repos and LFS contents of its own, as
 * the Nix store is shared with every other test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, lstatSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startHub } from '../../hub-emulator/server.ts';
import type { RepoSpec, RunningHub } from '../../hub-emulator/types.ts';
import { CLI, cliEnv, requireBuild, runCli, nixTestEnv, type NixTestEnv, STUB_DIR, collect, isValidPath, readTree, RUN, seeded } from '../support/index.ts';
import { spawn } from 'node:child_process';

const id = (name: string) => `persist-${RUN}/${name}`;

const repos: RepoSpec[] = [
  {
    id: id('roundtrip'),
    commits: [
      {
        files: {
          'config.json': '{"model_type":"llama"}\n',
          'weights/model.safetensors': seeded('roundtrip-st', 40_000),
          'model.bin': seeded('roundtrip-bin', 12_345),
          'tokenizer/vocab.txt': 'a\nb\n',
        },
      },
    ],
  },
  {
    id: id('all'),
    // A legacy id without an owner, as the Hub keeps them for its oldest repos.
    aliases: ['legacy-all'],
    commits: [{ files: { 'config.json': '{}\n', 'a.safetensors': seeded('all-a', 3000), 'b.bin': seeded('all-b', 2000) } }],
  },
  {
    id: id('refs'),
    commits: [
      { files: { 'config.json': '{"v":1}\n', 'w.bin': seeded('refs-1', 1000) }, tags: ['v1'] },
      { files: { 'config.json': '{"v":2}\n', 'w.bin': seeded('refs-2', 1000) } },
    ],
  },
  { id: id('unsigned'), commits: [{ files: { 'config.json': '{}\n', 'w.bin': seeded('unsigned', 1500) } }] },
  { id: id('corrupt'), commits: [{ files: { 'config.json': '{}\n' } }] },
  {
    id: id('many'),
    commits: [{ files: Object.fromEntries([['config.json', '{}\n'], ...Array.from({ length: 10 }, (_, i) => [`f${i}.bin`, seeded(`many-${i}`, 500 + i)])]) }],
  },
];

let hub: RunningHub;
let nix: NixTestEnv;

before(async () => {
  requireBuild();
  hub = await startHub({ repos });
  nix = nixTestEnv();
});
after(async () => {
  await hub?.close();
  nix?.cleanup();
});

/** A user: fresh HOME and config dir, a persist directory of its own. */
function user(extra: NodeJS.ProcessEnv = {}) {
  const c = cliEnv({ HF_ENDPOINT: hub.url, NIX_HUG_NIXPKGS: STUB_DIR, NIX_CONFIG: nix.env.NIX_CONFIG, ...extra });
  const persist = join(c.env.HOME!, 'persist');
  const env = { NIX_HUG_PERSIST_DIR: persist, ...c.env };
  return { env, persist, home: c.env.HOME!, cleanup: c.cleanup, run: (...args: string[]) => runCli(args, env) };
}

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), typing `input`:
 * stdin and stderr are TTYs there, as for a person at a terminal.
 */
function runInTty(args: string[], env: NodeJS.ProcessEnv, input: string): Promise<{ code: number; output: string }> {
  const quoteArg = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI, ...args].map(quoteArg).join(' ');
  return new Promise((resolvePromise, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 1, output }));
    // Typed once the prompt is up; the terminal buffers it until read anyway.
    child.stdin.end(input);
  });
}


/** The snapshot and the blob store paths its LFS links point to. */
function closureOf(snapshot: string): string[] {
  const blobs: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) blobs.push(readlinkSync(p).split('/').slice(0, 4).join('/'));
      else if (st.isDirectory()) walk(p);
    }
  };
  walk(snapshot);
  return [snapshot, ...blobs];
}

function expectedFiles(repoId: string, rev?: string): Map<string, Buffer> {
  const files = hub.repo(repoId).filesAt(rev);
  return new Map([...files].map(([p, b]) => [p, Buffer.from(b)]));
}

test('export → nix-store --delete → store ls says gc\'d → import: valid again, bytes identical, no prompt', async () => {
  const u = user();
  try {
    const exp = await u.run('export', id('roundtrip'));
    assert.equal(exp.code, 0, exp.stderr);
    const storePath = exp.stdout.trim();
    assert.match(storePath, /^\/nix\/store\/[0-9a-z]{32}-/);
    assert.match(exp.stderr, /exported model .*roundtrip@[0-9a-f]{7} to file:\/\/.*\/persist \(signed\)/);
    const before = readTree(storePath);
    const want = expectedFiles(id('roundtrip'));
    for (const [p, bytes] of want) assert.deepEqual(before.get(p), bytes, p);

    const path = await u.run('store', 'path');
    assert.equal(path.code, 0, path.stderr);
    assert.equal(path.stdout, `${u.persist}\n`);

    let ls = await u.run('store', 'ls');
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`${id('roundtrip')}\\s+model\\s+[0-9a-f]{7}\\s+-\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+valid\\n`));

    await collect(nix.env, closureOf(storePath).slice(1));
    assert.equal(await isValidPath(nix.env, storePath), false);

    ls = await u.run('store', 'ls');
    assert.match(ls.stdout, new RegExp(`${id('roundtrip')}\\s+model.*\\s+gc'd\\n`));
    const lsJson = await u.run('store', 'ls', '--json');
    const parsed = JSON.parse(lsJson.stdout) as { store: string; entries: Array<{ repoId: string; storePath: string; valid: boolean }> };
    assert.equal(parsed.store, `file://${u.persist}`);
    assert.deepEqual(parsed.entries.map((e) => [e.repoId, e.storePath, e.valid]), [[id('roundtrip'), storePath, false]]);

    hub.resetStats();
    // No TTY here and no --yes: a signed export needs neither.
    const imp = await u.run('import', id('roundtrip'));
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal(imp.stdout, `${storePath}\n`);
    assert.match(imp.stderr, /imported .* \(signature verified\)/);
    assert.deepEqual(hub.requests, [], 'import of the latest export asks nothing of the Hub');
    assert.equal(await isValidPath(nix.env, storePath), true);
    assert.deepEqual(readTree(storePath), before);

    const again = await u.run('import', id('roundtrip'));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /already in the Nix store/);
  } finally {
    u.cleanup();
  }
});

test('a legacy id: export and import under the canonical id, found again by the legacy one', async () => {
  const u = user();
  try {
    const exp = await u.run('export', 'legacy-all');
    assert.equal(exp.code, 0, exp.stderr);
    assert.match(exp.stderr, new RegExp(`note: 'legacy-all' is the model ${id('all')} on the Hub`));
    const listed = JSON.parse((await u.run('store', 'ls', '--json')).stdout) as { entries: Array<{ repoId: string }> };
    assert.deepEqual(listed.entries.map((e) => e.repoId), [id('all')], 'recorded under the canonical id');
    const imp = await u.run('import', 'legacy-all');
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stderr, /already in the Nix store/);
    assert.equal(imp.stdout, exp.stdout);
  } finally {
    u.cleanup();
  }
});

test('import --all restores every entry; one entry per selection; a second run reports them as valid', async () => {
  const u = user();
  try {
    const whole = await u.run('export', id('all'));
    const some = await u.run('export', id('all'), '--include', '*.safetensors');
    const someAgain = await u.run('export', id('all'), '--include', '*.safetensors');
    for (const r of [whole, some, someAgain]) assert.equal(r.code, 0, r.stderr);
    assert.notEqual(whole.stdout, some.stdout);
    const listed = JSON.parse((await u.run('store', 'ls', '--json')).stdout) as { entries: unknown[] };
    assert.equal(listed.entries.length, 2, 're-exporting the same selection replaces its entry');

    const paths = [whole.stdout.trim(), some.stdout.trim()];
    await collect(nix.env, paths.flatMap((p) => closureOf(p).slice(1)));
    const ls = await u.run('store', 'ls');
    assert.equal((ls.stdout.match(/gc'd/g) ?? []).length, 2, ls.stdout);
    assert.match(ls.stdout, /include \.\*\\\.safetensors/);

    const imp = await u.run('import', '--all');
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stderr, /2 imported, 0 already valid, 0 failed/);
    assert.deepEqual(imp.stdout.trim().split('\n').sort(), [...paths].sort());
    for (const p of paths) assert.equal(await isValidPath(nix.env, p), true);
    assert.deepEqual(readTree(whole.stdout.trim()), expectedFiles(id('all')));

    const again = await u.run('import', '--all', '--yes');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /0 imported, 2 already valid, 0 failed/);
  } finally {
    u.cleanup();
  }
});

test('import --ref: the latest export without REF, a tag resolved on the Hub, a commit or its prefix; a clear error otherwise', async () => {
  const u = user();
  try {
    const state = hub.repo(id('refs'));
    const c1 = state.commits[0]!;
    const old = await u.run('export', id('refs'), '--ref', 'v1');
    const cur = await u.run('export', id('refs'));
    for (const r of [old, cur]) assert.equal(r.code, 0, r.stderr);
    await collect(nix.env, [...closureOf(old.stdout.trim()).slice(1), ...closureOf(cur.stdout.trim()).slice(1)]);

    const latest = await u.run('import', id('refs'));
    assert.equal(latest.code, 0, latest.stderr);
    assert.equal(latest.stdout, cur.stdout);
    assert.equal(await isValidPath(nix.env, old.stdout.trim()), false);

    hub.resetStats();
    const byTag = await u.run('import', id('refs'), '--ref', 'v1');
    assert.equal(byTag.code, 0, byTag.stderr);
    assert.equal(byTag.stdout, old.stdout);
    assert.ok(hub.requests.some((r) => r.url.includes('/revision/v1')), 'a tag is resolved on the Hub');
    assert.equal(readFileSync(join(old.stdout.trim(), 'config.json'), 'utf8'), '{"v":1}\n');

    hub.resetStats();
    for (const ref of [c1, c1.slice(0, 9)]) {
      const r = await u.run('import', id('refs'), '--ref', ref);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, old.stdout);
    }
    assert.deepEqual(hub.requests, [], 'commits are matched without the Hub');

    const none = await u.run('import', id('refs'), '--ref', 'refs/pr/9');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /refs\/pr\/9/);

    const unknown = await u.run('import', id('roundtrip'));
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no export of model '.*roundtrip' is recorded in file:\/\/.*\/persist/);
    assert.match(unknown.stderr, /hint: export it first with `nix-hug export/);
  } finally {
    u.cleanup();
  }
});

test('a cache without signatures (as the original nix-hug wrote it) is refused without a TTY and --yes; a "y" on a terminal or --yes imports it', async () => {
  const u = user();
  try {
    const exp = await u.run('export', id('unsigned'));
    assert.equal(exp.code, 0, exp.stderr);
    const storePath = exp.stdout.trim();
    let stripped = 0;
    for (const name of readdirSync(u.persist).filter((n) => n.endsWith('.narinfo'))) {
      const p = join(u.persist, name);
      const text = readFileSync(p, 'utf8');
      if (/^Sig:/m.test(text)) stripped++;
      writeFileSync(p, text.replace(/^Sig:.*\n/gm, ''));
    }
    assert.ok(stripped > 0);
    await collect(nix.env, closureOf(storePath).slice(1));

    const refused = await u.run('import', id('unsigned'));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refusing to import from file:\/\/.*: .* is not signed by a key you trust, and there is no terminal to confirm/);
    assert.match(refused.stderr, /hint: pass --yes/);
    assert.equal(refused.stdout, '');
    assert.equal(await isValidPath(nix.env, storePath), false);

    // On a terminal, the user is asked once; only "y" imports.
    const no = await runInTty(['import', id('unsigned')], u.env, 'n\n');
    assert.equal(no.code, 1, no.output);
    assert.match(no.output, /Trust file:\/\/.* for this import\? \[y\/N\]/);
    assert.match(no.output, /not imported: you did not trust/);
    assert.equal(await isValidPath(nix.env, storePath), false);
    const tty = await runInTty(['import', id('unsigned')], u.env, 'y\n');
    assert.equal(tty.code, 0, tty.output);
    assert.match(tty.output, /trusted without signature check/);
    assert.equal(await isValidPath(nix.env, storePath), true);
    await collect(nix.env, closureOf(storePath).slice(1));

    const yes = await u.run('import', id('unsigned'), '-y');
    assert.equal(yes.code, 0, yes.stderr);
    assert.match(yes.stderr, /trusted without signature check/);
    assert.equal(await isValidPath(nix.env, storePath), true);
    assert.deepEqual(readTree(storePath), expectedFiles(id('unsigned')));
  } finally {
    u.cleanup();
  }
});

test('without a persist store, export/import/store say how to configure one, before any request', async () => {
  const u = user({ NIX_HUG_PERSIST_DIR: '' });
  try {
    hub.resetStats();
    for (const args of [['export', id('corrupt')], ['import', id('corrupt')], ['import', '--all'], ['store', 'ls'], ['store', 'path']]) {
      const r = await u.run(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /needs a persist store, and none is configured/);
      assert.match(r.stderr, new RegExp(`hint: set persist_dir in ${u.home}/\\.config/nix-hug/config .*NIX_HUG_PERSIST_DIR`));
    }
    assert.deepEqual(hub.requests, []);

    mkdirSync(join(u.home, '.config', 'nix-hug'), { recursive: true });
    writeFileSync(join(u.home, '.config', 'nix-hug', 'config'), '# mine\npersist_dir = ~/p\nauto_persist = sure\n');
    const bad = await u.run('store', 'path');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, new RegExp(`error: ${u.home}/\\.config/nix-hug/config:3: auto_persist must be true or false, found \`sure\``));
  } finally {
    u.cleanup();
  }
});

test('10 concurrent first exports into one persist store: one key pair, 10 entries, every one signed', async () => {
  const u = user();
  try {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => u.run('export', id('many'), '--include', `f${i}.bin`)));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const paths = results.map((r) => r.stdout.trim());
    assert.equal(new Set(paths).size, 10);
    const listed = JSON.parse((await u.run('store', 'ls', '--json')).stdout) as { entries: Array<{ storePath: string }> };
    assert.deepEqual(listed.entries.map((e) => e.storePath).sort(), [...paths].sort());
    assert.deepEqual(readdirSync(join(u.home, '.config', 'nix-hug', 'keys')).sort(), ['public.key', 'secret.key']);
    assert.deepEqual(readdirSync(join(u.home, '.config', 'nix-hug')).sort(), ['keys'], 'no temporary key directory left');
    await collect(nix.env, paths.flatMap((p) => closureOf(p).slice(1)));
    const imp = await u.run('import', '--all');
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal((imp.stderr.match(/\(signature verified\)/g) ?? []).length, 10, imp.stderr);
  } finally {
    u.cleanup();
  }
});

test('a corrupt manifest of an older nix-hug: a clear error naming it from the commands that list exports, and the file is left untouched', async () => {
  const u = user();
  try {
    mkdirSync(u.persist, { recursive: true });
    const file = join(u.persist, 'nix-hug-manifest.json');
    const text = '{"version": 1, "entries": [ {"repoId": "x/y", ';
    writeFileSync(file, text);
    hub.resetStats();
    for (const args of [['import', id('corrupt')], ['import', '--all'], ['store', 'ls']]) {
      const r = await u.run(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, new RegExp(`error: the manifest ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is corrupt: not valid JSON`));
      assert.match(r.stderr, /hint: it was left untouched/);
    }
    assert.deepEqual(hub.requests, []);
    assert.deepEqual(readdirSync(u.persist), ['nix-hug-manifest.json']);
    // Exports go to the store's own index: the old file does not stand in their way, and stays as it was.
    const exp = await u.run('export', id('corrupt'));
    assert.equal(exp.code, 0, exp.stderr);
    assert.equal(readFileSync(file, 'utf8'), text);
  } finally {
    u.cleanup();
    rmSync(u.persist, { recursive: true, force: true });
  }
});
