import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/errors.ts';
import { buildFilters, globToRegex, isSelected, missingFiles, nixMatches, selector } from '../../src/filters.ts';
import type { RepoFile } from '../../src/types.ts';
import { nixTestEnv } from '../support/index.ts';

const lfs = (path: string): RepoFile => ({ path, size: 10, oid: 'x', lfs: { sha256: 'a'.repeat(64), size: 10 } });
const git = (path: string): RepoFile => ({ path, size: 1, oid: 'y', lfs: null });

describe('globToRegex', () => {
  it('maps * and ? and escapes the ERE metacharacters Nix accepts escaped', () => {
    assert.equal(globToRegex('*.safetensors'), '.*\\.safetensors');
    assert.equal(globToRegex('model-?????-of-*.bin'), 'model-.....-of-.*\\.bin');
    assert.equal(globToRegex('a+b(c)[d]{e}^f$g|h\\i'), 'a\\+b\\(c\\)\\[d]\\{e}\\^f\\$g\\|h\\\\i');
    assert.equal(globToRegex('ünï code/x y'), 'ünï code/x y');
  });
});

describe('buildFilters', () => {
  it('returns null without flags, and regexes in the library format', () => {
    assert.equal(buildFilters({}), null);
    assert.equal(buildFilters({ include: [], exclude: [], file: [] }), null);
    assert.deepEqual(buildFilters({ include: ['*.bin', '*.bin'], exclude: ['*q4*'] }), { include: ['.*\\.bin'], exclude: ['.*q4.*'] });
    assert.deepEqual(buildFilters({ file: ['config.json', 'onnx/model.onnx'] }), { files: ['config.json', 'onnx/model.onnx'] });
  });

  it('refuses --file mixed with --include/--exclude, empty patterns and impossible paths', () => {
    assert.throws(() => buildFilters({ include: ['*.bin'], file: ['a'] }), (e: unknown) => e instanceof UsageError && /--file cannot be combined/.test(e.message));
    assert.throws(() => buildFilters({ exclude: ['*.bin'], file: ['a'] }), UsageError);
    assert.throws(() => buildFilters({ include: [''] }), /non-empty/);
    assert.throws(() => buildFilters({ file: ['../etc/passwd'] }), UsageError);
    assert.throws(() => buildFilters({ file: ['/abs'] }), UsageError);
    assert.throws(() => buildFilters({ file: ['a\tb'] }), UsageError);
    assert.throws(() => buildFilters({ include: ['a\nb'] }), UsageError);
  });
});

describe('globs with many stars (regex bombs)', () => {
  it('match in linear time: ten stars against 28 and 4,000 bytes', () => {
    const bomb = globToRegex('*a'.repeat(10) + '*b');
    for (const n of [28, 4000]) {
      const t0 = performance.now();
      assert.equal(isSelected(lfs('a'.repeat(n)), { include: [bomb] }), false);
      assert.equal(isSelected(lfs(`${'a'.repeat(n)}b`), { include: [bomb] }), true);
      const ms = performance.now() - t0;
      assert.ok(ms < 200, `${n} bytes took ${Math.round(ms)} ms`);
    }
  });

  it('agree with the regex engine on short inputs (any run, any byte, literals, multi-byte text)', () => {
    const globs = ['*', '**', 'a*', '*a', '*a*', 'a*b*c', '?', '??*', '*.bin', 'x/*/y*', '*é*', 'a?*?b', '*ab*ab*'];
    const texts = ['', 'a', 'ab', 'abab', 'aab', 'ba', 'abc', 'aXbYc', 'x/q/yz', 'é', 'aébé', 'x.bin', 'a/b', 'ababab', 'acb'];
    for (const g of globs) {
      const re = globToRegex(g);
      const engine = new RegExp(`^(?:${Buffer.from(re).toString('latin1')})$`, 's');
      for (const t of texts) assert.equal(nixMatches(re, t), engine.test(Buffer.from(t).toString('latin1')), `${g} ~ ${JSON.stringify(t)}`);
    }
  });
});

describe('isSelected', () => {
  it('include/exclude choose among LFS files; non-LFS files always stay', () => {
    const f = buildFilters({ include: ['*.safetensors'], exclude: ['*-bad.*'] });
    assert.equal(isSelected(lfs('model.safetensors'), f), true);
    assert.equal(isSelected(lfs('model-bad.safetensors'), f), false);
    assert.equal(isSelected(lfs('pytorch_model.bin'), f), false);
    assert.equal(isSelected(git('config.json'), f), true);
    assert.equal(isSelected(git('notes-bad.txt'), f), true);
    const onlyExclude = buildFilters({ exclude: ['*.bin'] });
    assert.equal(isSelected(lfs('a.bin'), onlyExclude), false);
    assert.equal(isSelected(lfs('a.onnx'), onlyExclude), true);
    assert.equal(isSelected(lfs('anything'), null), true);
  });

  it('--file picks exact paths among all files', () => {
    const f = buildFilters({ file: ['config.json', 'big.bin'] });
    const pick = selector(f);
    for (const file of [git('config.json'), lfs('big.bin')]) {
      assert.equal(isSelected(file, f), true);
      assert.equal(pick(file), true);
    }
    for (const file of [git('README.md'), lfs('other.bin'), git('sub/config.json')]) {
      assert.equal(isSelected(file, f), false);
      assert.equal(pick(file), false);
    }
    assert.deepEqual(missingFiles(f, [git('config.json')]), ['big.bin']);
  });

  it('anchors the whole path: * crosses folders, a suffix alone does not match', () => {
    const f = buildFilters({ include: ['*.bin'] });
    assert.equal(isSelected(lfs('deep/nested/w.bin'), f), true);
    assert.equal(isSelected(lfs('w.bin.old'), f), false);
  });
});

// (glob, path) pairs; the JS answer must equal Nix's builtins.match on the generated regex.
const PAIRS: [string, string][] = [
  ['*.safetensors', 'model.safetensors'],
  ['*.safetensors', 'model.safetensors.index.json'],
  ['*.safetensors', 'sub/dir/model.safetensors'],
  ['*.bin', 'pytorch_model.bin'],
  ['*.bin', 'pytorch_model_bin'],
  ['model.bin', 'modelXbin'],
  ['model.bin', 'model.bin'],
  ['model-?????-of-?????.safetensors', 'model-00001-of-00002.safetensors'],
  ['model-?????-of-?????.safetensors', 'model-0001-of-00002.safetensors'],
  ['?', 'a'],
  ['?', 'ab'],
  ['?', 'é'],
  ['??', 'é'],
  ['*é*', 'café.bin'],
  ['caf?.bin', 'café.bin'],
  ['caf??.bin', 'café.bin'],
  ['*', ''],
  ['*', 'anything/at/all'],
  ['a[1].bin', 'a[1].bin'],
  ['a[1].bin', 'a1.bin'],
  ['[abc]', 'a'],
  ['[abc]', '[abc]'],
  ['x{2}', 'xx'],
  ['x{2}', 'x{2}'],
  ['a+b', 'a+b'],
  ['a+b', 'aab'],
  ['$HOME', '$HOME'],
  ['a$', 'a$'],
  ['^a', '^a'],
  ['^a', 'a'],
  ['(x)', '(x)'],
  ['(x)', 'x'],
  ['a|b', 'a|b'],
  ['a|b', 'a'],
  ['back\\slash', 'back\\slash'],
  ['back\\slash', 'backslash'],
  ['my file *.txt', 'my file 1.txt'],
  ['my file *.txt', 'my_file 1.txt'],
  ['onnx/*', 'onnx/model.onnx'],
  ['onnx/*', 'onnx/sub/model.onnx'],
  ['onnx/*', 'other/onnx/model.onnx'],
  ['*/onnx/*', 'other/onnx/model.onnx'],
  ['🤗*', '🤗 hug.bin'],
  ['*🤗', 'a🤗'],
  ['a]b', 'a]b'],
  ['a}b', 'a}b'],
  ['*.*', 'noext'],
  ['*q4_K_M*', 'model-q4_K_M.gguf'],
  ['.gitattributes', '.gitattributes'],
  ['.*', '.hidden'],
  ['.*', 'visible'],
  ['日本語/*.txt', '日本語/ファイル.txt'],
];

describe('globToRegex agrees with Nix builtins.match', () => {
  it(`on ${PAIRS.length} (glob, path) pairs`, () => {
    assert.ok(PAIRS.length >= 40);
    const dir = mkdtempSync(join(tmpdir(), 'nix-hug-filters-'));
    const nix = nixTestEnv();
    try {
      const cases = PAIRS.map(([glob, path]) => ({ re: globToRegex(glob), path }));
      const file = join(dir, 'cases.json');
      writeFileSync(file, JSON.stringify(cases));
      const expr = `map (c: builtins.match c.re c.path != null) (builtins.fromJSON (builtins.readFile ${JSON.stringify(file)}))`;
      const out = execFileSync('nix', ['eval', '--impure', '--json', '--expr', expr], { env: nix.env, encoding: 'utf8' });
      const fromNix = JSON.parse(out) as boolean[];
      assert.equal(fromNix.length, PAIRS.length);
      const disagreements = PAIRS.flatMap(([glob, path], i) => {
        const js = nixMatches(globToRegex(glob), path);
        return js === fromNix[i] ? [] : [`${glob} vs ${path}: nix ${fromNix[i]}, js ${js}`];
      });
      assert.deepEqual(disagreements, []);
      // The table is not trivially one-sided.
      assert.ok(fromNix.filter(Boolean).length >= 15 && fromNix.filter((x) => !x).length >= 15);
    } finally {
      nix.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
