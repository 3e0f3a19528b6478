/**
 * The library's pure helpers, evaluated by real Nix and checked against
 * independent oracles: Node's base64 and byte order, Python's `quote` rule,
 * and git's own `check-attr` for .gitattributes matching.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nixString } from '../../src/nix/expr.ts';
import { nixTestEnv, type NixTestEnv, LIB_DIR, ok, plain, run, runNix } from '../support/index.ts';

let nix: NixTestEnv;
before(() => {
  nix = nixTestEnv();
});
after(() => nix.cleanup());

const internal = (file: string) => `(import (/. + ${nixString(join(LIB_DIR, 'internal', file))}))`;

async function evalJson<T>(expr: string): Promise<T> {
  const r = ok(await runNix(['eval', '--impure', '--json', '--expr', expr], nix.env), 'nix eval');
  return JSON.parse(r.stdout) as T;
}

/** Evaluates an expression that must fail; returns Nix's error text. */
async function evalError(expr: string): Promise<string> {
  const r = await runNix(['eval', '--impure', '--json', '--expr', expr], nix.env);
  assert.notEqual(r.code, 0, `expected a failure, got ${r.stdout}`);
  return plain(r.stderr);
}

const nixList = (xs: string[]) => `[ ${xs.map(nixString).join(' ')} ]`;

describe('hex → base64 (SRI hashes without convertHash)', () => {
  it('matches Node for every length 0–40 bytes and random sha256 digests', async () => {
    const inputs = [
      ...Array.from({ length: 41 }, (_, n) => randomBytes(n).toString('hex')),
      ...Array.from({ length: 20 }, () => createHash('sha256').update(randomBytes(8)).digest('hex')),
      'ff'.repeat(32),
      '00'.repeat(32),
    ];
    const got = await evalJson<string[]>(`map ${internal('base64.nix')}.hexToBase64 ${nixList(inputs)}`);
    assert.deepEqual(got, inputs.map((h) => Buffer.from(h, 'hex').toString('base64')));
  });

  it('gives the SRI hash of a string as Node computes it', async () => {
    const text = 'a b.txt\tgit\nünï/çødé.bin\tlfs\t' + 'ab'.repeat(32) + '\t12\n';
    const got = await evalJson<string>(`${internal('base64.nix')}.sriOfString ${nixString(text)}`);
    assert.equal(got, `sha256-${createHash('sha256').update(text).digest('base64')}`);
  });
});

describe('percent-encoding of resolve paths', () => {
  // Python's urllib.parse.quote(path): keep A-Z a-z 0-9 _ . - ~ and '/', %XX (upper case) for every other byte.
  const quote = (p: string) =>
    [...Buffer.from(p, 'utf8')]
      .map((b) => (/[A-Za-z0-9_.~/-]/.test(String.fromCharCode(b)) && b < 128 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
      .join('');

  it('encodes hostile and non-ASCII names byte by byte like quote()', async () => {
    const paths = [
      'config.json',
      'a b.txt',
      'q"uote.json',
      '$(touch pwned).txt',
      '`touch pwned2`.txt',
      '${x}.json',
      'ünï/çødé.bin',
      'folder with space/x%y#z?.bin',
      "it's (1)+[2]&=;,@!*.bin",
      '日本語/モデル.safetensors',
      'emoji 😀.bin',
      '-leading-dash.bin',
      '~tilde_ok-.bin',
    ];
    const got = await evalJson<string[]>(`map ${internal('percent-encode.nix')}.encodePath ${nixList(paths)}`);
    assert.deepEqual(got, paths.map(quote));
    // Two values straight from Python 3's urllib.parse.quote:
    assert.equal(got[6], '%C3%BCn%C3%AF/%C3%A7%C3%B8d%C3%A9.bin');
    assert.equal(got[3], '%24%28touch%20pwned%29.txt');
  });
});

describe('byte order of paths', () => {
  it('builtins.sort with lessThan orders strings by their UTF-8 bytes', async () => {
    const paths = ['b', 'a/b', 'a-b', 'a.b', 'A', 'é', 'z', 'ÿ', '日本', '😀', 'a', 'a0', 'a/', '~', 'Z/x', 'ünï/ç'];
    for (let i = 0; i < 30; i++) {
      const cp = 0x80 + Math.floor(Math.random() * 0x10f000);
      if (cp >= 0xd800 && cp < 0xe000) continue; // lone surrogates are not text
      paths.push(randomBytes(6).toString('base64') + String.fromCodePoint(cp));
    }
    const got = await evalJson<string[]>(`builtins.sort builtins.lessThan ${nixList(paths)}`);
    assert.deepEqual(got, [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });
});

describe('LFS pointer parsing', () => {
  const sha = 'a'.repeat(64);
  const good = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize 1234\n`;
  it('accepts exactly the three-line pointer and rejects anything else', async () => {
    const texts = [
      good,
      good.replace('1234', '0'),
      good.trimEnd(), // no final newline
      good.replace('sha256:', 'sha1:'),
      good.replace(sha, 'A'.repeat(64)),
      good.replace(sha, 'a'.repeat(63)),
      good.replace('size 1234', 'size 01234'),
      good.replace('size 1234', 'size -1'),
      good.replace('spec/v1', 'spec/v2'),
      good + 'extra line\n',
      '{"model_type": "llama"}\n',
      '',
    ];
    const got = await evalJson<Array<{ sha256: string; size: string } | null>>(`map ${internal('lfs-pointer.nix')}.parse ${nixList(texts)}`);
    assert.deepEqual(got, [{ sha256: sha, size: '1234' }, { sha256: sha, size: '0' }, null, null, null, null, null, null, null, null, null, null]);
  });
});

describe('repository URLs', () => {
  const parse = (kind: string, url: string) =>
    `(${internal('repo-url.nix')}.parse { kind = ${nixString(kind)}; url = ${nixString(url)}; endpoint = "http://127.0.0.1:8080"; })`;

  it('accepts every documented form', async () => {
    const cases: Array<[string, string, string]> = [
      ['model', 'org/repo', 'org/repo'],
      ['model', 'hf:org/repo', 'org/repo'],
      ['model', 'https://huggingface.co/org/repo', 'org/repo'],
      ['model', 'https://huggingface.co/org/repo/tree/main/sub/dir', 'org/repo'],
      ['model', 'https://huggingface.co/org/repo/blob/v1/config.json', 'org/repo'],
      ['model', 'https://huggingface.co/org/Re_po.v2-x/resolve/main/a.bin', 'org/Re_po.v2-x'],
      ['model', 'http://127.0.0.1:8080/org/repo/', 'org/repo'],
      ['dataset', 'org/ds', 'datasets/org/ds'],
      ['dataset', 'datasets/org/ds', 'datasets/org/ds'],
      ['dataset', 'hf-datasets:org/ds', 'datasets/org/ds'],
      ['dataset', 'https://huggingface.co/datasets/org/ds', 'datasets/org/ds'],
      ['dataset', 'http://127.0.0.1:8080/datasets/org/ds/tree/main', 'datasets/org/ds'],
    ];
    const got = await evalJson<string[]>(`[ ${cases.map(([k, u]) => `${parse(k, u)}.urlPrefix`).join(' ')} ]`);
    assert.deepEqual(got, cases.map((c) => c[2]));
  });

  it('refuses malformed URLs and the wrong kind with a message that says what to do', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['model', 'repo-only', /has no org\/name/],
      ['model', 'org/re po', /spaces, quotes/],
      ['model', 'org/${x}', /spaces, quotes/],
      ['model', 'org/..', /not a valid org\/name/],
      ['model', 'org/a/b', /extra path segments/],
      ['model', 'datasets/org/ds', /names a dataset: use fetchDataset/],
      ['dataset', 'hf:org/repo', /names a model: use fetchModel/],
      ['model', '', /is empty/],
    ];
    const errors = await Promise.all(cases.map(([k, u]) => evalError(`${parse(k, u)}.id`)));
    cases.forEach(([, u, re], i) => assert.match(errors[i]!, re, `url ${JSON.stringify(u)}: ${errors[i]}`));
  });
});

describe('listing a checkout', () => {
  it('refuses .git as a case-insensitive file system reads it (.GIT, .Git, .git., git~1, .g\u200cit); keeps look-alikes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'nix-hug-listing-'));
    try {
      for (const d of ['.github', 'git', 'x']) mkdirSync(join(root, d));
      for (const f of ['.gitattributes', '.github/w.yml', 'git/a', 'x/.gitignore', 'a.git']) writeFileSync(join(root, f), 'x');
      const list = (dir: string) => `map (f: f.path) (${internal('list-files.nix')}.listFiles { root = ${nixString(dir)}; describe = "r"; })`;
      assert.deepEqual((await evalJson<string[]>(list(root))).sort(), ['.gitattributes', '.github/w.yml', 'a.git', 'git/a', 'x/.gitignore']);
      for (const bad of ['.GIT', '.Git', '.git.', 'GIT~1', '.g\u200cit']) {
        const dir = join(root, 'bad');
        mkdirSync(join(dir, bad), { recursive: true });
        writeFileSync(join(dir, bad, 'config'), '[core]\n');
        assert.match(await evalError(list(dir)), /has a forbidden path .*`\.git` in any case or spelling/, JSON.stringify(bad));
        rmSync(dir, { recursive: true });
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the manifest argument', () => {
  const paths = (value: string) => `map (f: f.path) (${internal('manifest.nix')}.fromArgument { describe = "r"; value = ${value}; }).files`;
  const inline = (path: string) => `{ ${nixString(path)} = "git"; }`;

  it('refuses a path with a segment a case-insensitive file system reads as .git, inline and as text; keeps look-alikes', async () => {
    const bad = ['.GIT/config', 'a/.Git/HEAD', 'sub/.git./x', 'a/.git /b', 'GIT~1/config', 'x/.g\u200cit/config'];
    const errors = await Promise.all(bad.flatMap((p) => [evalError(paths(inline(p))), evalError(paths(nixString(`${p}\tgit\n`)))]));
    errors.forEach((e, i) => assert.match(e, /reads as `\.git`/, `${JSON.stringify(bad[i >> 1])}: ${e}`));
    const good = ['.gitattributes', '.github/w.yml', 'a.git', 'legit/git', 'x/.gitignore'];
    assert.deepEqual(await evalJson<string[]>(paths(`{ ${good.map((p) => `${nixString(p)} = "git";`).join(' ')} }`)), [...good].sort());
  });

  it('reads a 10,000-line text (no regex over the whole text: that overflowed the stack)', async () => {
    const text = Array.from({ length: 10_000 }, (_, i) => `data/shard-${100_000 + i}/config.json\tgit\n`).join('');
    const dir = mkdtempSync(join(tmpdir(), 'nix-hug-manifest-'));
    try {
      // As a string (the text form) through a file, so that the expression stays small.
      writeFileSync(join(dir, 'm.tsv'), text);
      const files = await evalJson<string[]>(paths(`builtins.readFile (/. + ${nixString(join(dir, 'm.tsv'))})`));
      assert.equal(files.length, 10_000);
      assert.equal(files[9_999], 'data/shard-109999/config.json');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('filters: globs with many stars', () => {
  it('select in linear time what builtins.match would (ten stars against 28 and 4,000 bytes)', async () => {
    const bomb = '.*a'.repeat(10) + '.*b'; // what `--include '*a*a*a*a*a*a*a*a*a*a*b'` becomes
    const names = ['a'.repeat(28), `${'a'.repeat(28)}b`, 'a'.repeat(4000), `${'a'.repeat(4000)}b`, 'ab', 'b'];
    const files = `[ ${names.map((p) => `{ path = ${nixString(p)}; lfs = { sha256 = ""; size = 1; }; }`).join(' ')} ]`;
    const t0 = Date.now();
    const got = await evalJson<boolean[]>(
      `let s = ${internal('filters.nix')}.selector { filters = { include = [ ${nixString(bomb)} ]; }; files = ${files}; describe = "x"; }; in map s ${files}`,
    );
    const ms = Date.now() - t0;
    assert.deepEqual(got, [false, true, false, true, false, false]);
    assert.ok(ms < 10_000, `${ms} ms`);
  });
});

describe('.gitattributes matching agrees with git check-attr', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nix-hug-gitattributes-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('classifies paths like git for globs, anchors, **, classes, escapes, quoting, overrides and nested files', async () => {
    const root = [
      '# the Hub default, in part',
      '*.bin filter=lfs diff=lfs merge=lfs -text',
      '*.safetensors filter=lfs diff=lfs merge=lfs -text',
      'saved_model/**/* filter=lfs diff=lfs merge=lfs -text',
      '*tfevents* filter=lfs diff=lfs merge=lfs -text',
      '*.tar.* filter=lfs diff=lfs merge=lfs -text',
      '/top.dat filter=lfs',
      'sub/*.x filter=lfs',
      '**/deep/*.y filter=lfs',
      'a/**/b.z filter=lfs',
      'file?.q filter=lfs',
      '[ab]c.r filter=lfs',
      '[!ab]c.s filter=lfs',
      'x[0-9].t filter=lfs',
      'no\\*.u filter=lfs',
      '"quoted name.v" filter=lfs',
      'sp[[:space:]]ace.w filter=lfs',
      'keep.bin -filter',
      'special.bin !filter',
      'other.bin filter=other',
      'dir/ filter=lfs',
      '!neg.bin filter=lfs',
      'only/** filter=lfs',
      'only/keep.txt -filter',
      'tokenizer.json filter=lfs diff=lfs merge=lfs -text',
      '   indented.k    filter=lfs\r',
      '[a-c-]x.m filter=lfs',
      'multi.n filter=lfs -filter',
    ].join('\n');
    const nested = ['*.txt filter=lfs', '/anchored.md filter=lfs', '*.bin -filter', 'in/**/*.p filter=lfs'].join('\n');
    const paths = [
      'model.bin', 'a/b/model.bin', 'x.safetensors', 'saved_model/v/w.pb', 'saved_model/w.pb', 'saved_model/a/b/c.pb',
      'run.tfevents.123', 'logs/events.out.tfevents.x', 'data.tar.gz', 'data.tar', 'top.dat', 'sub/top.dat', 'sub/a.x',
      'sub/deep/a.x', 'a.x', 'deep/1.y', 'q/deep/1.y', 'q/deep/r/1.y', 'a/b.z', 'a/q/b.z', 'a/q/w/b.z', 'b.z', 'file1.q',
      'file12.q', 'ac.r', 'bc.r', 'cc.r', 'ac.s', 'cc.s', 'x5.t', 'xa.t', 'no*.u', 'noX.u', 'quoted name.v', 'sp ace.w',
      'keep.bin', 'special.bin', 'other.bin', 'dir/x', 'dir', 'neg.bin', 'only/a', 'only/b/c', 'only/keep.txt',
      'tokenizer.json', 'x/tokenizer.json', 'indented.k', 'ax.m', '-x.m', 'dx.m', 'multi.n',
      'nested/a.txt', 'nested/b/a.txt', 'a.txt', 'nested/anchored.md', 'nested/x/anchored.md', 'anchored.md',
      'nested/m.bin', 'nested/q/m.bin', 'nested/in/z.p', 'nested/in/y/z.p', 'in/z.p', 'ünï/çødé.bin', 'é.txt',
    ];
    const repo = join(dir, 'repo');
    ok(await run('git', ['init', '-q', repo], process.env), 'git init');
    writeFileSync(join(repo, '.gitattributes'), root);
    mkdirSync(join(repo, 'nested'));
    writeFileSync(join(repo, 'nested', '.gitattributes'), nested);
    const checkAttr = ok(await run('git', ['-C', repo, '-c', 'core.quotePath=false', 'check-attr', '-z', 'filter', '--', ...paths], process.env), 'git check-attr');
    const fields = checkAttr.stdout.split('\0');
    const truth = new Map<string, boolean>();
    for (let i = 0; i + 2 < fields.length; i += 3) truth.set(fields[i]!, fields[i + 2] === 'lfs');

    const matcher = `${internal('gitattributes.nix')}.lfsMatcher [ { dir = ""; text = ${nixString(root)}; } { dir = "nested/"; text = ${nixString(nested)}; } ]`;
    const got = await evalJson<boolean[]>(`let m = ${matcher}; in map m ${nixList(paths)}`);
    const mismatches = paths.filter((p, i) => got[i] !== truth.get(p)).map((p) => `${p}: git ${truth.get(p)}, nix-hug ${got[paths.indexOf(p)]}`);
    assert.deepEqual(mismatches, []);
    // Not vacuous: both verdicts occur.
    assert.ok(got.filter(Boolean).length > 15 && got.filter((x) => !x).length > 15);
  });

  it('patterns with many stars or several ** (matched without backtracking): like git, and in linear time', async () => {
    const bomb = '*a'.repeat(10) + '*';
    const patterns = [
      `${bomb}b`, '*tfevents*', '*x*y*z*', 'a*b*c.d', '**/m*n*/**', '**/p/**/q*r*', 'k/**/l/**', 'zz/**', '**/zy/**',
      '*[0-9]*[0-9]*.e', '?*?*?.f', 's*/*t*u', 'w/**/x*y*z/*.g',
    ];
    const root = patterns.map((p) => `${p} filter=lfs`).join('\n');
    const long = 'a'.repeat(200);
    const paths = [
      `${long}b`, long, 'a'.repeat(28), `${'a'.repeat(28)}b`, `dir/${long}b`, 'run.tfevents.1', 'x/events.out.tfevents',
      'xyz', 'axbycz', 'zyx', 'abc.d', 'a1b2c.d', 'ab.d', 'mn/x', 'q/manyn/z/w', 'mn', 'p/q/r', 'v/p/w/qxr', 'p/qr', 'qr',
      'k/l/m', 'k/j/l/m/n', 'k/l', 'zz/a', 'zz', 'zz/b/c', 'a/zy/b', 'zy/b', 'zy', 'a/b/c', '1a2.e', '12.e', 'a.e', 'abc.f', 'ab.f', 'xyz.f', 'st/tu', 'sx/tu',
      's/t/u', 'w/x/xyz/a.g', 'w/xyz/a.g', 'w/q/xaybz/c.g', 'w/q/xyz/c/d.g',
    ];
    const repo = join(dir, 'repo-stars');
    ok(await run('git', ['init', '-q', repo], process.env), 'git init');
    writeFileSync(join(repo, '.gitattributes'), root);
    const checkAttr = ok(await run('git', ['-C', repo, 'check-attr', '-z', 'filter', '--', ...paths], process.env), 'git check-attr');
    const fields = checkAttr.stdout.split('\0');
    const truth = new Map<string, boolean>();
    for (let i = 0; i + 2 < fields.length; i += 3) truth.set(fields[i]!, fields[i + 2] === 'lfs');
    const ga = internal('gitattributes.nix');
    const simple = await evalJson<boolean[]>(`map ${ga}.isSimple ${nixList(patterns)}`);
    assert.deepEqual(patterns.filter((_, i) => simple[i]), ['*tfevents*', 'zz/**'], 'the others take the path without backtracking');
    const t0 = Date.now();
    const got = await evalJson<boolean[]>(`let m = ${ga}.lfsMatcher [ { dir = ""; text = ${nixString(root)}; } ]; in map m ${nixList(paths)}`);
    const ms = Date.now() - t0;
    const mismatches = paths.filter((p, i) => got[i] !== truth.get(p)).map((p) => `${p}: git ${truth.get(p)}, nix-hug ${got[paths.indexOf(p)]}`);
    assert.deepEqual(mismatches, []);
    assert.ok(got.filter(Boolean).length > 10 && got.filter((x) => !x).length > 3, JSON.stringify(Object.fromEntries(paths.map((p, i) => [p.slice(0, 40), got[i]]))));
    // One nix eval (about 0.1 s to start here); ten stars against 200 bytes would take hours with backtracking.
    assert.ok(ms < 10_000, `${ms} ms`);
  });
});
