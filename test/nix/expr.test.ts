import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { nixString, relativeNixPath, renderFetchExpression } from '../../src/nix/expr.ts';
import { canonicalManifest } from '../../src/canonical-manifest.ts';
import type { RepoFile } from '../../src/types.ts';
import { LIB_DIR, nixTestEnv } from '../support/index.ts';

const nasty = [
  'plain',
  'a"b',
  'back\\slash',
  '${x}',
  '$${x}',
  '\\${x}',
  "''${x}",
  '$(rm -rf ~)',
  '`touch pwned`',
  'new\nline',
  'tab\there',
  'cr\rhere',
  'ünïcødé 🤗',
  '$',
  '\\',
  '"',
  '',
];

test('nixString round-trips every nasty string through real nix eval', () => {
  const { env, cleanup } = nixTestEnv();
  try {
    const expr = `[ ${nasty.map(nixString).join(' ')} ]`;
    const r = spawnSync('nix', ['eval', '--json', '--expr', expr], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), nasty);
  } finally {
    cleanup();
  }
});

test('the fetch expression has exactly the documented shape', () => {
  const expr = renderFetchExpression({
    type: 'model',
    repoId: 'org/repo',
    rev: '0123456789abcdef0123456789abcdef01234567',
    fileTreeHash: 'sha256-AAAA',
    filters: { include: ['.*\\.safetensors'] },
    endpoint: 'https://huggingface.co',
    gitRepoHash: null,
  });
  assert.equal(
    expr,
    [
      'nix-hug-lib.fetchModel {',
      '  url = "org/repo";',
      '  rev = "0123456789abcdef0123456789abcdef01234567";',
      '  filters = { include = [ ".*\\\\.safetensors" ]; };',
      '  fileTreeHash = "sha256-AAAA";',
      '}',
    ].join('\n'),
  );
});

test('datasets use fetchDataset; a non-default endpoint is carried; no filters line without filters', () => {
  const expr = renderFetchExpression({
    type: 'dataset',
    repoId: 'org/name',
    rev: 'f'.repeat(40),
    fileTreeHash: 'sha256-B',
    filters: null,
    endpoint: 'http://127.0.0.1:8080',
    gitRepoHash: null,
  });
  assert.match(expr, /^nix-hug-lib\.fetchDataset \{\n  url = "org\/name";\n  endpoint = "http:\/\/127\.0\.0\.1:8080";\n/);
  assert.doesNotMatch(expr, /filters/);
});

test('with gitRepoHash and an inline manifest: one attribute per file, in manifest order, after the hashes', () => {
  const files: RepoFile[] = [
    { path: 'model.safetensors', size: 12, oid: 'a'.repeat(40), lfs: { sha256: 'b'.repeat(64), size: 12 } },
    { path: '.gitattributes', size: 1, oid: 'c'.repeat(40), lfs: null },
  ];
  const pin = { type: 'model' as const, repoId: 'org/repo', rev: '0'.repeat(40), fileTreeHash: 'sha256-F', filters: null, endpoint: 'https://huggingface.co', gitRepoHash: 'sha256-G' };
  assert.equal(
    renderFetchExpression(pin, { kind: 'inline', files }),
    [
      'nix-hug-lib.fetchModel {',
      '  url = "org/repo";',
      `  rev = "${'0'.repeat(40)}";`,
      '  fileTreeHash = "sha256-F";',
      '  gitRepoHash = "sha256-G";',
      '  manifest = {',
      '    ".gitattributes" = "git";',
      `    "model.safetensors" = { sha256 = "${'b'.repeat(64)}"; size = 12; };`,
      '  };',
      '}',
    ].join('\n'),
  );
  assert.match(renderFetchExpression(pin, { kind: 'file', nix: './nix-hug/x.tsv' }), /\n  gitRepoHash = "sha256-G";\n  manifest = \.\/nix-hug\/x\.tsv;\n\}$/);
});

test('relative paths become Nix path literals where they can, else ./. plus a string', () => {
  assert.equal(relativeNixPath('nix-hug/models--org--name--0123456789ab.tsv'), './nix-hug/models--org--name--0123456789ab.tsv');
  assert.equal(relativeNixPath('../shared/a.tsv'), '../shared/a.tsv');
  assert.equal(relativeNixPath('my pins/a.tsv'), '(./. + "/my pins/a.tsv")');
  assert.equal(relativeNixPath('$x/a.tsv'), '(./. + "/\\$x/a.tsv")');
});

test('an inline manifest of hostile paths means exactly the canonical manifest to the library (real nix eval)', () => {
  const paths = ['a"b', '$(rm -rf ~)', '${x}', "''${x}", 'x y/z', 'ünï/çødé 🤗', 'back\\slash', '.gitattributes'];
  const files: RepoFile[] = paths.map((path, i) => ({ path, size: i, oid: 'a'.repeat(40), lfs: i % 2 ? { sha256: String(i).repeat(64).slice(0, 64), size: i } : null }));
  const pin = { type: 'model' as const, repoId: 'org/repo', rev: '0'.repeat(40), fileTreeHash: 'sha256-F', filters: null, endpoint: 'https://huggingface.co', gitRepoHash: 'sha256-G' };
  const expr = renderFetchExpression(pin, { kind: 'inline', files });
  const inline = expr.slice(expr.indexOf('  manifest = ') + '  manifest = '.length, expr.lastIndexOf(';\n}'));
  const { env, cleanup } = nixTestEnv();
  try {
    const code = `((import ${nixString(`${LIB_DIR}/internal/manifest.nix`)}).fromArgument { describe = "test"; value = ${inline}; }).text`;
    const r = spawnSync('nix', ['eval', '--impure', '--raw', '--expr', code], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, canonicalManifest(files).toString('utf8'));
  } finally {
    cleanup();
  }
});
