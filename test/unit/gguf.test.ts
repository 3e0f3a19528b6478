import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NixHugError, UsageError } from '../../src/errors.ts';
import { nixMatches } from '../../src/filters.ts';
import { checkQuantFilters, isProjector, quantFilters, quantOf, selectQuant, summarizeGguf } from '../../src/gguf.ts';
import type { RepoFile } from '../../src/types.ts';

const lfs = (path: string, size = 100): RepoFile => ({ path, size, oid: 'x', lfs: { sha256: 'a'.repeat(64), size } });
const git = (path: string): RepoFile => ({ path, size: 10, oid: 'y', lfs: null });

describe('quantOf', () => {
  it('reads the quantization from the file name, else from its folder', () => {
    const cases: [string, string | null][] = [
      ['llama-2-7b.Q4_K_M.gguf', 'Q4_K_M'],
      ['Qwen2.5-7B-Instruct-q4_k_m.gguf', 'Q4_K_M'],
      ['model-Q8_0.gguf', 'Q8_0'],
      ['model-f16.gguf', 'F16'],
      ['model-BF16-00001-of-00002.gguf', 'BF16'],
      ['Q4_K_M/model-Q4_K_M-00001-of-00003.gguf', 'Q4_K_M'],
      ['Q5_K_S/model-00002-of-00002.gguf', 'Q5_K_S'],
      ['DeepSeek-R1-UD-Q4_K_XL.gguf', 'UD-Q4_K_XL'],
      ['model-IQ4_XS.gguf', 'IQ4_XS'],
      ['model-IQ2_XXS.gguf', 'IQ2_XXS'],
      ['model-Q4_0_4_4.gguf', 'Q4_0_4_4'],
      ['model.gguf', null],
      ['TQ2_0/x.gguf', 'TQ2_0'],
      ['F16Q4_K_Mnot.gguf', null],
    ];
    for (const [path, quant] of cases) assert.equal(quantOf(path), quant, path);
  });

  it('tells projectors apart', () => {
    assert.equal(isProjector('mmproj-model-f16.gguf'), true);
    assert.equal(isProjector('sub/mmproj-F16.gguf'), true);
    assert.equal(isProjector('model-mmproj.gguf'), false);
  });
});

describe('selectQuant', () => {
  const repo = [
    git('README.md'),
    git('config.json'),
    lfs('model.safetensors', 5000),
    lfs('tiny-Q8_0.gguf', 800),
    lfs('Q4_K_M/tiny-Q4_K_M-00001-of-00002.gguf', 300),
    lfs('Q4_K_M/tiny-Q4_K_M-00002-of-00002.gguf', 200),
    lfs('mmproj-tiny-f16.gguf', 50),
    lfs('tiny.gguf', 10),
  ];

  it('takes every shard of a split, in a subfolder, case-insensitively', () => {
    assert.deepEqual(selectQuant(repo, 'q4_k_m', 'model o/r', 'o/r').map((f) => f.path), ['Q4_K_M/tiny-Q4_K_M-00001-of-00002.gguf', 'Q4_K_M/tiny-Q4_K_M-00002-of-00002.gguf']);
    assert.deepEqual(selectQuant(repo, 'Q8_0', 'model o/r', 'o/r').map((f) => f.path), ['tiny-Q8_0.gguf']);
  });

  it('an unknown quantization lists those that exist', () => {
    assert.throws(() => selectQuant(repo, 'Q2_K', 'model o/r', 'o/r'), (e: unknown) => {
      assert.ok(e instanceof NixHugError && !(e instanceof UsageError));
      assert.equal(e.message, "model o/r has no GGUF quantization 'Q2_K': its quantizations: Q8_0 (1 file, 800 B), Q4_K_M (2 files, 500 B)");
      assert.match(e.hint ?? '', /o\/r:QUANT/);
      return true;
    });
    assert.throws(() => selectQuant([git('a.txt')], 'Q4_K_M', 'model o/x', 'o/x'), /has no \.gguf file whose name names a quantization/);
  });

  it('an ambiguous quantization names the models; an incomplete split names the missing shards', () => {
    const two = [lfs('a-Q4_K_M.gguf'), lfs('b/b-Q4_K_M.gguf')];
    assert.throws(() => selectQuant(two, 'Q4_K_M', 'model o/r', 'o/r'), /the quantization Q4_K_M is ambiguous, 2 models have it: 'a-Q4_K_M\.gguf', 'b\/b-Q4_K_M\.gguf'/);
    const holes = [lfs('m-Q6_K-00001-of-00003.gguf'), lfs('m-Q6_K-00003-of-00003.gguf')];
    assert.throws(() => selectQuant(holes, 'Q6_K', 'model o/r', 'o/r'), /the split 'm-Q6_K\.gguf' \(Q6_K\) is incomplete: shard\(s\) 00002 of 00003 are missing/);
  });

  it('becomes anchored literal regexes the library matches exactly, plus --include, minus --exclude', () => {
    const chosen = selectQuant(repo, 'Q4_K_M', 'model o/r', 'o/r');
    const f = quantFilters(null, chosen);
    assert.deepEqual(f, { include: ['Q4_K_M/tiny-Q4_K_M-00001-of-00002\\.gguf', 'Q4_K_M/tiny-Q4_K_M-00002-of-00002\\.gguf'] });
    for (const file of repo) assert.equal(f.include!.some((re) => nixMatches(re, file.path)), chosen.includes(file), file.path);
    const mixed = quantFilters({ include: ['mmproj.*'], exclude: ['.*00002.*'] }, chosen);
    assert.deepEqual(mixed.include?.slice(-1), ['mmproj.*']);
    assert.deepEqual(mixed.exclude, ['.*00002.*']);
    assert.throws(() => checkQuantFilters('Q4_K_M', { files: ['x'] }), UsageError);
    checkQuantFilters('Q4_K_M', { include: ['x'] });
  });

  it('groups by quantization for ls, unnamed files last, projectors apart', () => {
    const s = summarizeGguf(repo);
    assert.deepEqual(s.groups.map((g) => [g.quant, g.files.length, g.bytes]), [['Q8_0', 1, 800], ['Q4_K_M', 2, 500], [null, 1, 10]]);
    assert.deepEqual(s.projectors.map((f) => f.path), ['mmproj-tiny-f16.gguf']);
  });
});
