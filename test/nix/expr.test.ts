import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { nixString, renderFetchExpression } from '../../src/nix/expr.ts';
import { nixTestEnv } from '../support/index.ts';

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
  });
  assert.match(expr, /^nix-hug-lib\.fetchDataset \{\n  url = "org\/name";\n  endpoint = "http:\/\/127\.0\.0\.1:8080";\n/);
  assert.doesNotMatch(expr, /filters/);
});
