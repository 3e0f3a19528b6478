import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { lfsContent, lfsContentStream, lfsRange, lfsSha256 } from '../../hub-emulator/content.ts';

async function collect(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('LFS content', () => {
  it('is deterministic per seed and size, differs across seeds, and holds NUL bytes', () => {
    const a = lfsContent('seed', 100_000);
    assert.equal(a.length, 100_000);
    assert.deepEqual(lfsContent('seed', 100_000), a);
    assert.notDeepEqual(lfsContent('other', 100_000), a);
    assert.ok(a.includes(0));
    // A prefix of a longer file is the shorter file.
    assert.deepEqual(lfsContent('seed', 1000), a.subarray(0, 1000));
    assert.equal(lfsContent('seed', 0).length, 0);
  });

  it('streams the same bytes, from any offset', async () => {
    const size = 3 * (1 << 20) + 17;
    const whole = lfsContent('s', size);
    assert.deepEqual(await collect(lfsContentStream('s', size)), whole);
    for (const start of [1, 15, 16, 1 << 20, size - 1]) {
      assert.deepEqual(await collect(lfsContentStream('s', size, start)), whole.subarray(start), `start ${start}`);
      assert.deepEqual(lfsRange('s', start, 1), whole.subarray(start, start + 1));
    }
  });

  it('reports the sha256 of the content', async () => {
    const expected = createHash('sha256').update(lfsContent('x', 5000)).digest('hex');
    assert.equal(await lfsSha256('x', 5000), expected);
  });
});
