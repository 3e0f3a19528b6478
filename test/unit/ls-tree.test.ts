/**
 * `git ls-tree -r -l -z` read as it streams: entries split across chunks
 * anywhere (even inside a name's UTF-8 bytes) give the same tree, and the
 * entry past the bound is refused with the error naming the repository.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LsTreeReader } from '../../src/git/tree.ts';
import { NixHugError } from '../../src/errors.ts';

const OID = 'a'.repeat(40);
const OUTPUT = Buffer.from(
  [
    `100644 blob ${OID}      12\tconfig.json`,
    `100755 blob ${OID}       3\tbin/run ü.sh`,
    `120000 blob ${OID}       9\tlinks/to-config`,
    `160000 commit ${OID}       -\tsub`,
  ].join('\0') + '\0',
  'utf8',
);

function read(chunkSize: number, maxFiles?: number) {
  const reader = new LsTreeReader('model org/repo', maxFiles);
  for (let i = 0; i < OUTPUT.length; i += chunkSize) reader.push(OUTPUT.subarray(i, i + chunkSize));
  return reader.end();
}

describe('LsTreeReader', () => {
  it('builds the same tree whatever the chunks', () => {
    const whole = read(OUTPUT.length);
    assert.deepEqual([...(whole as { entries: Map<string, unknown> }).entries.keys()].sort(), ['bin', 'config.json', 'links', 'sub']);
    for (const size of [1, 2, 7, 64]) assert.deepEqual(read(size), whole, `chunks of ${size} bytes`);
  });

  it('refuses the entry past maxFiles, naming the repository', () => {
    assert.doesNotThrow(() => read(5, 4));
    assert.throws(
      () => read(5, 3),
      (err: unknown) => err instanceof NixHugError && err.message === 'the file list of model org/repo has more than 3 files: more than nix-hug holds in memory',
    );
  });

  it('refuses output that ends inside an entry', () => {
    const reader = new LsTreeReader('model org/repo');
    reader.push(OUTPUT.subarray(0, OUTPUT.length - 1));
    assert.throws(() => reader.end(), /ended inside an entry/);
  });
});
