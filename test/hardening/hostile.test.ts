/**
 * Hostile repositories through the CLI (test/lib/safety.test.ts covers the
 * library on its own): file names that are shell or Nix code, newlines in
 * names, git symlinks leaving the repository, malformed, oversized and lying
 * LFS pointers, and — through a mirror that rewrites the tree API, as a
 * compromised HF_ENDPOINT could — `..`, absolute and `.git/` paths, NULs,
 * duplicates and malformed LFS entries. Each is fetched with exactly its
 * names and bytes or refused with one error line naming the repository;
 * canary files prove nothing was executed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import type { FileSpec, RepoSpec, RunningHub } from '../../hub-emulator/types.ts';
import { requireBuild, runCli, isValidPath, oneErrorLine, attempt, RUN, sandbox, seeded, tmpLeftovers, type Sandbox, sha256Hex, canaryDir, outSiblings, seedOf } from '../support/index.ts';
import { lfsSha256 } from '../../hub-emulator/content.ts';
import { blobStorePath } from '../../src/nix/store-path.ts';

const ORG = `hostile-${RUN}`;
const TOKEN = `hf_hostileTest${RUN}`;

// ---- canaries: files that exist only if a name was run as shell code ----------
// In a folder every builder sees at the same path, sandboxed or not (test/lib/safety.test.ts proves it).
const CANARY_DIR = canaryDir();
const CANARIES: string[] = [];
/** A shell command creating a canary, spelled without `/` (file names cannot hold one). */
function canary(kind: string): string {
  const path = join(CANARY_DIR, kind);
  CANARIES.push(path);
  return `touch "$(printf '${[...path].map((c) => (c === '/' ? '\\57' : c)).join('')}')"`;
}

const HOSTILE_NAMES: Record<string, FileSpec> = {
  [`$(${canary('dollar')}).txt`]: 'dollar paren\n',
  [`\`${canary('backtick')}\`.json`]: '{"backtick": true}\n',
  [`x;${canary('semicolon')};.md`]: 'semicolon\n',
  [`a && ${canary('and')}`]: 'and\n',
  [`| ${canary('pipe')}`]: 'pipe\n',
  '${builtins.abort "nix"}.txt': 'nix interpolation\n',
  "''${x}.txt": 'indented-string escape\n',
  'q"uote\\back.txt': 'quote and backslash\n',
  "it's here.txt": 'apostrophe\n',
  '-n': 'looks like an option\n',
  '--out=x': 'looks like a long option\n',
  'dir with space/*.json': 'star\n',
  'ünï/çødé 日本.txt': 'unicode\n',
  '.hidden': 'dot file\n',
  [`weights/$(${canary('lfs')}).safetensors`]: seeded('hostile-lfs', 3000),
  'weights/`id` w.bin': seeded('hostile-lfs2', 2000),
};

const ptr = (oid: string, size: string) => ({ rawBlob: `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${size}\n` });
const randomOid = () => randomBytes(32).toString('hex');

const repos: RepoSpec[] = [
  { id: `${ORG}/names`, commits: [{ files: HOSTILE_NAMES }] },
  { id: `${ORG}/newline`, commits: [{ files: { 'config.json': '{}\n', 'line\nbreak.txt': 'nl\n' } }] },
  { id: `${ORG}/abs-link`, commits: [{ files: { 'config.json': '{}\n', 'key.json': { symlink: '/root/.ssh/id_rsa' } } }] },
  { id: `${ORG}/up-link`, commits: [{ files: { 'config.json': '{}\n', 'a/b/up.json': { symlink: '../../../../etc/passwd' } } }] },
  {
    id: `${ORG}/pointers`,
    commits: [
      {
        files: {
          'config.json': '{}\n',
          'real.bin': seeded('real', 1000),
          // Not pointers (malformed oid, a fourth line): ordinary files that happen to match *.bin.
          'bad-oid.bin': { rawBlob: 'version https://git-lfs.github.com/spec/v1\noid sha256:NOTHEX\nsize 12\n' },
          'extra-line.bin': { rawBlob: `version https://git-lfs.github.com/spec/v1\noid sha256:${'a'.repeat(64)}\nsize 12\nx-custom 1\n` },
        },
      },
    ],
  },
  { id: `${ORG}/oversized`, commits: [{ files: { 'config.json': '{}\n', 'huge.bin': ptr(randomOid(), '100000000000000000') } }] },
  { id: `${ORG}/missing-object`, commits: [{ files: { 'config.json': '{}\n', 'ghost.bin': ptr(randomOid(), '1000000000000') } }] },
  {
    id: `${ORG}/loops`,
    commits: [{ files: { 'config.json': '{}\n', 'w.bin': seeded('loops', 100_000), zz: { symlink: '.' }, 'sub/up': { symlink: '..' }, 'sub/w-alias.bin': { symlink: '../w.bin' } } }],
  },
  { id: `${ORG}/own-record`, commits: [{ files: { 'config.json': '{}\n', '.nix-hug.json': '{"theirs": true}\n', 'w.bin': seeded('own-record', 5000) } }] },
];

let hub: RunningHub;
let box: Sandbox;
let mirror: Server;
let mirrorUrl = '';
/** The tree API's entries for `${ORG}/mirror`, rewritten per test. */
let rewrite: (entries: Array<Record<string, unknown>>) => unknown = (e) => e;

/** A mirror of the emulator whose tree listing for one repo is whatever the test says (a compromised HF_ENDPOINT). */
async function startMirror(): Promise<void> {
  mirror = createServer((req, res) => {
    void (async () => {
      const url = req.url ?? '/';
      const upstream = await fetch(`${hub.url}${url}`, { headers: { ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) }, redirect: 'manual' });
      let body: Buffer = Buffer.from(await upstream.arrayBuffer());
      if (url.startsWith(`/api/models/${ORG}/mirror/tree/`) && upstream.ok) {
        body = Buffer.from(JSON.stringify(rewrite(JSON.parse(body.toString('utf8')) as Array<Record<string, unknown>>)));
      }
      const headers: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)) headers[k] = v.split(hub.url).join(mirrorUrl);
      });
      res.writeHead(upstream.status, headers).end(body);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => mirror.listen(0, '127.0.0.1', () => r()));
  mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`;
}

before(async () => {
  requireBuild();
  for (const c of CANARIES) rmSync(c, { force: true });
  hub = await startHub({
    repos: [
      ...repos,
      { id: `${ORG}/mirror`, commits: [{ files: { 'config.json': '{}\n', 'w.bin': seeded('mirror', 500) } }] },
    ],
  });
  await startMirror();
  box = sandbox(() => hub.url);
});
after(async () => {
  // Each canary is checked once more at the end: tried, and passed when its file does not exist.
  const pass = attempt('hostile', 'canaries', CANARIES.length);
  pass(CANARIES.filter((c) => !existsSync(c)).length);
  rmSync(CANARY_DIR, { recursive: true, force: true });
  await new Promise<void>((r) => (mirror ? mirror.close(() => r()) : r()));
  await hub?.close();
  box?.cleanup();
});

function assertCanariesIntact(): void {
  assert.deepEqual(CANARIES.filter((c) => existsSync(c)), [], 'a file name was executed');
}

/** Every regular file under `root` (links followed) by relative path, and which were links. */
function tree(root: string): Map<string, { bytes: Buffer; link: boolean }> {
  const out = new Map<string, { bytes: Buffer; link: boolean }>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, r));
      if (st.isDirectory()) walk(r);
      else out.set(r, { bytes: readFileSync(join(root, r)), link: st.isSymbolicLink() });
    }
  };
  walk('');
  return out;
}

describe('file names that are code', () => {
  it('fetch, ls --json, --file and --out keep every name and byte, and run none of them', async () => {
    const done = attempt('hostile', 'hostileRepos');
    const id = `${ORG}/names`;
    const files = hub.repo(id).filesAt();
    const ls = await runCli(['ls', id, '--json'], box.env());
    assert.equal(ls.code, 0, ls.stderr);
    const listed = (JSON.parse(ls.stdout) as { files: Array<{ path: string }> }).files.map((f) => f.path).sort();
    assert.deepEqual(listed, [...files.keys()].sort());

    const out = join(box.home, `out $(${canary('outdir')})`);
    const r = await runCli(['fetch', id, '--json', '--out', out], box.env());
    assert.equal(r.code, 0, r.stderr);
    const storePath = (JSON.parse(r.stdout) as { storePath: string }).storePath;
    for (const root of [storePath, out]) {
      const got = tree(root);
      got.delete('.nix-hug.json');
      assert.deepEqual([...got.keys()].sort(), [...files.keys()].sort(), root);
      for (const [path, bytes] of files) assert.ok(got.get(path)!.bytes.equals(Buffer.from(bytes)), `${JSON.stringify(path)} in ${root}`);
    }
    assert.ok(tree(storePath).get('weights/`id` w.bin')!.link, 'LFS files are links into the store');
    assert.ok(!tree(out).get('weights/`id` w.bin')!.link, '--out holds real files');

    // Selecting by those names: --file takes them verbatim, --include matches them as data.
    const pick = Object.keys(HOSTILE_NAMES).find((n) => n.startsWith('$('))!;
    const one = await runCli(['fetch', id, '--file', pick, '--file', '${builtins.abort "nix"}.txt', '--json'], box.env());
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual([...tree((JSON.parse(one.stdout) as { storePath: string }).storePath).keys()].sort(), ['${builtins.abort "nix"}.txt', pick].sort());
    const inc = await runCli(['fetch', id, '--include', 'weights/$(*', '--exclude', `*$(${canary('exclude')})*`, '--json'], box.env());
    assert.equal(inc.code, 0, inc.stderr);
    const kept = [...tree((JSON.parse(inc.stdout) as { storePath: string }).storePath).keys()];
    assert.ok(kept.some((k) => k.startsWith('weights/$(') && k.endsWith('.safetensors')), 'the glob matched the name as text');
    assert.ok(!kept.includes('weights/`id` w.bin'), 'the other LFS file is filtered out');
    assertCanariesIntact();
    done();
  });

  it('a newline in a file name: ls and fetch refuse it, naming the repository and the file', async () => {

    const done = attempt('hostile', 'hostileRepos');
    const id = `${ORG}/newline`;
    for (const args of [['ls', id], ['fetch', id, '--no-build'], ['fetch', id]]) {
      const r = await runCli(args, box.env());
      assert.equal(r.code, 1, r.stderr);
      const line = oneErrorLine(r.stderr);
      assert.ok(line.includes(id) && line.includes("'line\\nbreak.txt'") && line.includes('control character'), line);
      assert.equal(r.stdout, '');
    }
    done();
  });
});

describe('git symlinks leaving the repository', () => {
  for (const [name, target] of [['abs-link', "'/root/.ssh/id_rsa'"], ['up-link', "'../../../../etc/passwd'"]] as const) {
    it(`${name}: fetch refuses it with one line naming the repository, the link and its target`, async () => {
      const done = attempt('hostile', 'hostileRepos');
      const id = `${ORG}/${name}`;
      const out = join(box.home, `out-${name}`);
      const r = await runCli(['fetch', id, '--out', out], box.env());
      assert.equal(r.code, 1, r.stderr);
      const line = oneErrorLine(r.stderr);
      assert.ok(line.includes(id) && line.includes(target), line);
      assert.equal(existsSync(out), false);
      assert.deepEqual(tmpLeftovers(box.tmp), []);
      done();
    });
  }
});

describe('--out', () => {
  it('symlinks that loop inside the repository (zz -> ., sub/up -> ..): copied as links, each file once', async () => {
    const done = attempt('hostile', 'symlinkLoops');
    const id = `${ORG}/loops`;
    const out = join(box.home, 'out-loops');
    const r = await runCli(['fetch', id, '--out', out, '--json'], box.env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readlinkSync(join(out, 'zz')), '.');
    assert.equal(readlinkSync(join(out, 'sub', 'up')), '..');
    assert.equal(readlinkSync(join(out, 'sub', 'w-alias.bin')), '../w.bin');
    assert.ok(lstatSync(join(out, 'w.bin')).isFile(), 'the LFS file is a real file');
    assert.equal(readFileSync(join(out, 'sub', 'w-alias.bin')).length, 100_000, 'the alias reaches it inside the copy');
    // Everything under DIR without following a link: the repo's files once, nothing more.
    let bytes = 0;
    const walk = (d: string): void => {
      for (const name of readdirSync(d)) {
        const st = lstatSync(join(d, name));
        if (st.isDirectory()) walk(join(d, name));
        else if (st.isFile()) bytes += st.size;
      }
    };
    walk(out);
    const recordSize = lstatSync(join(out, '.nix-hug.json')).size;
    const gitattributes = lstatSync(join(out, '.gitattributes')).size;
    assert.equal(bytes, 100_000 + '{}\n'.length + recordSize + gitattributes, `${bytes} bytes under --out`);
    assert.deepEqual(outSiblings(out), []);
    done();
  });

  it("a repository file named .nix-hug.json: --out refuses before any download instead of overwriting it", async () => {

    const done = attempt('hostile', 'hostileRepos');
    const id = `${ORG}/own-record`;
    const out = join(box.home, 'out-own-record');
    const cdnBefore = hub.requests.filter((q) => q.route === 'cdn').length;
    const r = await runCli(['fetch', id, '--out', out], box.env());
    assert.equal(r.code, 1, r.stderr);
    const line = oneErrorLine(r.stderr);
    assert.ok(line.includes(id) && line.includes("'.nix-hug.json'"), line);
    assert.equal(hub.requests.filter((q) => q.route === 'cdn').length, cdnBefore, 'nothing downloaded');
    assert.equal(existsSync(out), false);
    // Without --out the file is fetched like any other, byte for byte.
    const plain = await runCli(['fetch', id, '--json'], box.env());
    assert.equal(plain.code, 0, plain.stderr);
    const storePath = (JSON.parse(plain.stdout) as { storePath: string }).storePath;
    assert.equal(readFileSync(join(storePath, '.nix-hug.json'), 'utf8'), '{"theirs": true}\n');
    done();
  });
});

describe('LFS pointers', () => {
  it('malformed pointers are ordinary files: fetched with their exact bytes', async () => {
    const done = attempt('hostile', 'hostileRepos');
    const id = `${ORG}/pointers`;
    const r = await runCli(['fetch', id, '--json'], box.env());
    assert.equal(r.code, 0, r.stderr);
    const storePath = (JSON.parse(r.stdout) as { storePath: string }).storePath;
    const files = hub.repo(id).filesAt();
    for (const p of ['bad-oid.bin', 'extra-line.bin']) {
      assert.ok(readFileSync(join(storePath, p)).equals(Buffer.from(files.get(p)!)), p);
      assert.ok(!lstatSync(join(storePath, p)).isSymbolicLink(), `${p} is a copy of the pointer text`);
    }
    assert.equal(readlinkSync(join(storePath, 'real.bin')), blobStorePath(sha256Hex(files.get('real.bin')!)));
    done();
  });

  it('a pointer too large for a safe integer: refused by ls and fetch, naming the file', async () => {

    const done = attempt('hostile', 'hostileRepos');
    const id = `${ORG}/oversized`;
    for (const args of [['ls', id], ['fetch', id]]) {
      const r = await runCli(args, box.env());
      assert.equal(r.code, 1, r.stderr);
      const line = oneErrorLine(r.stderr);
      assert.ok(line.includes(id) && line.includes("'huge.bin'"), line);
    }
    done();
  });

  it('a pointer to an object the CDN does not have: one error naming the file; without it, the rest is fetched', async () => {

    const done = attempt('hostile', 'hostileRepos');
    const id = `${ORG}/missing-object`;
    const r = await runCli(['fetch', id], box.env());
    assert.equal(r.code, 1, r.stderr);
    const line = oneErrorLine(r.stderr);
    assert.ok(line.includes("'ghost.bin'") && line.includes(id) && line.includes('404'), line);
    // ghost.bin is its only LFS file: leaving it out is a result without weights, asked for with --allow-empty.
    const without = await runCli(['fetch', id, '--exclude', 'ghost.bin', '--allow-empty', '--json'], box.env());
    assert.equal(without.code, 0, without.stderr);
    assert.deepEqual(readdirSync((JSON.parse(without.stdout) as { storePath: string }).storePath), ['.gitattributes', 'config.json']);
    done();
  });

  it('a pointer whose size disagrees with the bytes: refused on the authenticated route, naming the file', async () => {

    const done = attempt('hostile', 'hostileRepos');
    // The Hub lists the size the pointer states; the CLI's own download checks size and sha256.
    const id = `${ORG}/gated-liar`;
    const real = await lfsSha256(seedOf('liar'), 1000);
    const lie = await startHub({
      repos: [{ id, gated: 'manual', commits: [{ files: { 'config.json': '{}\n', 'real.bin': seeded('liar', 1000), 'liar.bin': ptr(real, '999') } }] }],
      tokens: { [TOKEN]: { grants: [id] } },
    });
    try {
      const env = box.env({ HF_ENDPOINT: lie.url, HF_TOKEN: TOKEN });
      const r = await runCli(['fetch', id, '--file', 'liar.bin'], env);
      assert.equal(r.code, 1, r.stderr);
      const line = oneErrorLine(r.stderr);
      assert.ok(line.includes("'liar.bin'") && line.includes(id) && line.includes('999'), line);
      assert.deepEqual(tmpLeftovers(box.tmp), []);
    } finally {
      await lie.close();
    }
    done();
  });
});

describe('a mirror that lies in the tree listing', () => {
  const entry = (path: string, extra: Record<string, unknown> = {}) => ({ type: 'file', oid: 'a'.repeat(40), size: 10, path, ...extra });
  const lfs = (over: Record<string, unknown>) => ({ oid: 'b'.repeat(64), size: 10, pointerSize: 130, ...over });
  const cases: Array<[string, (e: Array<Record<string, unknown>>) => unknown, string[]]> = [
    ['a .. segment', (e) => [...e, entry('a/../../etc/passwd')], ["'a/../../etc/passwd'", "'..'"]],
    ['an absolute path', (e) => [...e, entry('/etc/shadow')], ["'/etc/shadow'", 'absolute']],
    ['a .git path', (e) => [...e, entry('.git/hooks/post-checkout')], ["'.git/hooks/post-checkout'", '.git']],
    ['a .GIT path (.git on a case-insensitive file system)', (e) => [...e, entry('.GIT/config')], ["'.GIT/config'", 'case-insensitive']],
    ['a git~1 path (.git to NTFS)', (e) => [...e, entry('sub/git~1/config')], ["'sub/git~1/config'", 'case-insensitive']],
    ['a NUL in a path', (e) => [...e, entry('a\u0000b')], ["'a\\u0000b'", 'control character']],
    ['a duplicate path', (e) => [...e, entry('config.json')], ["'config.json'", 'twice']],
    ['an unknown entry type', (e) => [...e, entry('link', { type: 'symlink' })], ["'link'", "'symlink'"]],
    ['an LFS oid that is not a sha256', (e) => [...e, entry('x.bin', { lfs: lfs({ oid: '../../x' }) })], ["'x.bin'", 'sha256']],
    ['a negative LFS size', (e) => [...e, entry('x.bin', { lfs: lfs({ size: -1 }) })], ["'x.bin'", 'size']],
    ['an endless size', (e) => [...e, entry('x.bin', { size: 1e300 })], ["'x.bin'", 'size']],
    ['not a list', () => ({ error: 'nope' }), ['not a list']],
  ];
  for (const [name, change, says] of cases) {
    it(`${name}: ls and fetch refuse the listing, naming the repository`, async () => {
      const done = attempt('hostile', 'hostileRepos');
      rewrite = change;
      const id = `${ORG}/mirror`;
      for (const args of [['ls', id], ['fetch', id]]) {
        const r = await runCli(args, box.env({ HF_ENDPOINT: mirrorUrl }));
        assert.equal(r.code, 1, r.stderr);
        const line = oneErrorLine(r.stderr);
        for (const s of [id, ...says]) assert.ok(line.includes(s), `${args[0]}: ${line} lacks ${s}`);
        assert.equal(r.stdout, '');
      }
      done();
    });
  }
});
