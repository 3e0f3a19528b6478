import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { NixHugError } from '../../src/errors.ts';
import { canonicalManifest, compareUtf8, fileTreeHash, pathProblem } from '../../src/canonical-manifest.ts';
import { treeEntryToFile } from '../../src/hub/tree.ts';
import type { RepoFile } from '../../src/types.ts';
import { nixTestEnv } from '../support/index.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = '0123456789abcdef'.repeat(4);
const git = (path: string): RepoFile => ({ path, size: 3, oid: '0'.repeat(40), lfs: null });
const lfs = (path: string, sha256: string, size: number): RepoFile => ({ path, size, oid: '1'.repeat(40), lfs: { sha256, size } });

const ASTRAL = '\u{1D538}'; // MATHEMATICAL DOUBLE-STRUCK CAPITAL A: UTF-16 D835 DD38, UTF-8 F0 9D 94 B8
const PRIVATE = '\uE000'; // BMP private use: UTF-16 E000, UTF-8 EE 80 80

// Deliberately shuffled.
const FILES: RepoFile[] = [
  git(`${ASTRAL}.txt`),
  lfs('model.safetensors', SHA_B, 12345),
  git('a/b.txt'),
  git(`${PRIVATE}.txt`),
  git('config.json'),
  git('a.txt'),
  lfs('B.bin', SHA_A, 0),
];

const ascii = (s: string) => Buffer.from(s, 'latin1');
// Written out by hand: sorted by UTF-8 bytes ('B' 0x42 < 'a' 0x61; '.' 0x2E < '/' 0x2F; EE.. < F0..).
const EXPECTED = Buffer.concat([
  ascii(`B.bin\tlfs\t${SHA_A}\t0\n`),
  ascii('a.txt\tgit\n'),
  ascii('a/b.txt\tgit\n'),
  ascii('config.json\tgit\n'),
  ascii(`model.safetensors\tlfs\t${SHA_B}\t12345\n`),
  Buffer.from([0xee, 0x80, 0x80]),
  ascii('.txt\tgit\n'),
  Buffer.from([0xf0, 0x9d, 0x94, 0xb8]),
  ascii('.txt\tgit\n'),
]);

describe('canonical manifest', () => {
  it('has exactly the documented bytes, sorted by UTF-8 bytes (not UTF-16 code units)', () => {
    assert.ok(`${ASTRAL}.txt` < `${PRIVATE}.txt`, 'JS string order puts the astral character first');
    assert.ok(compareUtf8(`${PRIVATE}.txt`, `${ASTRAL}.txt`) < 0, 'byte order puts the private-use character first');
    const bytes = canonicalManifest(FILES);
    assert.equal(bytes.toString('hex'), EXPECTED.toString('hex'));
  });

  it('does not depend on the input order', () => {
    assert.equal(fileTreeHash(FILES), fileTreeHash([...FILES].reverse()));
  });

  it('fileTreeHash is sha256- + base64 of the manifest', () => {
    const expected = `sha256-${createHash('sha256').update(EXPECTED).digest('base64')}`;
    assert.equal(fileTreeHash(FILES), expected);
    assert.match(expected, /^sha256-[A-Za-z0-9+/]{43}=$/);
  });

  it('an empty repository hashes the empty manifest', () => {
    assert.equal(canonicalManifest([]).length, 0);
    assert.equal(fileTreeHash([]), 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  });

  it('rejects forbidden paths, naming the repository and the file', () => {
    const bad = ['a\tb', 'a\nb', 'a\rb', 'bell\u0007', 'del\u007f', '../x', 'a/../b', './a', 'a/./b', '/abs', '.git/config', 'sub/.git/HEAD', 'a//b', 'dir/', '', 'lone\uD800'];
    for (const path of bad) {
      assert.throws(
        () => canonicalManifest([git('ok.txt'), git(path)], 'model org/repo'),
        (err: unknown) => err instanceof NixHugError && err.message.includes('model org/repo') && err.exitCode === 1 && !err.message.includes('\n'),
        JSON.stringify(path),
      );
    }
  });

  it('rejects duplicate paths and malformed LFS info', () => {
    assert.throws(() => canonicalManifest([git('x'), git('x')], 'org/r'), /twice/);
    assert.throws(() => canonicalManifest([lfs('x', 'A'.repeat(64), 1)], 'org/r'), /malformed/);
    assert.throws(() => canonicalManifest([lfs('x', SHA_A, -1)], 'org/r'), /malformed/);
  });

  it('equals the Nix library manifest (lib/internal/manifest.nix) byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nix-hug-manifest-'));
    const nix = nixTestEnv();
    try {
      const input = join(dir, 'files.json');
      // The library reads sizes from pointer files, as strings.
      writeFileSync(input, JSON.stringify(FILES.map((f) => ({ path: f.path, lfs: f.lfs ? { sha256: f.lfs.sha256, size: String(f.lfs.size) } : null }))));
      const lib = resolve('lib/internal/manifest.nix');
      const expr = `let m = import ${lib}; files = builtins.fromJSON (builtins.readFile ${JSON.stringify(input)}); text = m.render files; in { inherit text; hash = m.hash text; }`;
      const out = JSON.parse(execFileSync('nix', ['eval', '--impure', '--json', '--expr', expr], { env: nix.env, encoding: 'utf8' })) as { text: string; hash: string };
      assert.equal(Buffer.from(out.text, 'utf8').toString('hex'), EXPECTED.toString('hex'));
      assert.equal(out.hash, fileTreeHash(FILES));
    } finally {
      nix.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tree entries → RepoFile', () => {
  const repo = { type: 'model' as const, repoId: 'org/repo' };
  it('keeps files, drops folders, takes sha256 and size from lfs', () => {
    assert.equal(treeEntryToFile({ type: 'directory', path: 'onnx', size: 0, oid: 'd' }, repo), null);
    assert.deepEqual(treeEntryToFile({ type: 'file', path: 'config.json', size: 42, oid: 'c0ffee' }, repo), { path: 'config.json', size: 42, oid: 'c0ffee', lfs: null });
    assert.deepEqual(
      treeEntryToFile({ type: 'file', path: 'w.bin', size: 134, oid: 'b10b', lfs: { oid: SHA_B, size: 999_999_999_999, pointerSize: 134 }, xetHash: 'ignored' }, repo),
      { path: 'w.bin', size: 999_999_999_999, oid: 'b10b', lfs: { sha256: SHA_B, size: 999_999_999_999 } },
    );
  });
  it('refuses malformed entries and forbidden paths', () => {
    assert.throws(() => treeEntryToFile({ type: 'file', path: 'w.bin', size: 1, oid: 'x', lfs: { oid: 'nothex', size: 1 } }, repo), /sha256/);
    assert.throws(() => treeEntryToFile({ type: 'file', path: '../x', size: 1, oid: 'x' }, repo), /org\/repo/);
    assert.throws(() => treeEntryToFile({ type: 'submodule', path: 'x', size: 1, oid: 'x' }, repo), /type/);
  });
});

describe('.git as a case-insensitive file system reads it', () => {
  it('refuses .GIT, .Git, .git., .git with a space, git~1 and .g\u200cit in any segment; keeps look-alikes', () => {
    for (const p of ['.GIT/config', 'a/.Git/hooks/post-checkout', '.git./x', '.git /x', 'GIT~1/config', '.g\u200cit/config', 'x/.GiT']) {
      assert.match(pathProblem(p) ?? '', /'\.git'/, JSON.stringify(p));
    }
    for (const p of ['.gitattributes', '.github/workflows/x.yml', 'git/x', '.gitkeep', 'a.git', 'x/.gitignore', 'git~2']) {
      assert.equal(pathProblem(p), null, JSON.stringify(p));
    }
  });
});
