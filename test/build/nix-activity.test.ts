/**
 * What the CLI reads from Nix's internal-json log during a build: the
 * finished derivations, the --debug lines with durations (the bench's
 * timeline), and what an interrupted build tells the user about the next run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restartHint } from '../../src/build/build.ts';
import { NixActivities } from '../../src/build/nix-activity.ts';
import { blobName } from '../../src/nix/store-path.ts';
import type { RepoFile } from '../../src/types.ts';

const sha = (c: string) => c.repeat(64);
const file = (path: string, c: string, size: number): RepoFile => ({ path, size, oid: c.repeat(40), lfs: { sha256: sha(c), size } });
const drv = (c: string) => `/nix/store/${'x'.repeat(32)}-${blobName(sha(c))}.drv`;

describe("Nix's activities", () => {
  it('logs downloads and builds with their durations, and remembers the finished derivations', () => {
    const lines: string[] = [];
    let now = 1000;
    const a = new NixActivities((l) => lines.push(l), () => now);
    a.onEvent({ action: 'start', id: 1, type: 105, fields: [drv('a')] });
    a.onEvent({ action: 'start', id: 2, type: 101, fields: ['http://hub/org/m/resolve/abc/w.bin'] });
    a.onEvent({ action: 'start', id: 3, type: 104, fields: [] }); // not worth a line
    now += 1500;
    a.onEvent({ action: 'stop', id: 2 });
    now += 250;
    a.onEvent({ action: 'stop', id: 1 });
    a.onEvent({ action: 'stop', id: 3 });
    assert.deepEqual(lines, [
      `nix: build ${drv('a')}: started`,
      'nix: download http://hub/org/m/resolve/abc/w.bin: started',
      'nix: download http://hub/org/m/resolve/abc/w.bin: done in 1.500 s',
      `nix: build ${drv('a')}: done in 1.750 s`,
    ]);
    assert.deepEqual([...a.built], [drv('a')]);
  });

  it('without --debug: no lines, the finished derivations still counted', () => {
    const a = new NixActivities(null);
    a.onEvent({ action: 'start', id: 7, type: 105, fields: [drv('b')] });
    a.onEvent({ action: 'stop', id: 7 });
    assert.deepEqual([...a.built], [drv('b')]);
  });

  it('times events handed over later (the head start held them) by when they came', () => {
    const lines: string[] = [];
    const a = new NixActivities((l) => lines.push(l), () => 5000);
    a.onEvent({ action: 'start', id: 1, type: 101, fields: ['http://hub/org/m/resolve/abc/w.bin'] }, 1000);
    a.onEvent({ action: 'stop', id: 1 }, 3250);
    a.onEvent({ action: 'start', id: 2, type: 105, fields: [drv('c')] }, 4000);
    a.onEvent({ action: 'stop', id: 2 }); // now: 5000
    assert.deepEqual(lines.filter((l) => l.includes('done in')), ['nix: download http://hub/org/m/resolve/abc/w.bin: done in 2.250 s', `nix: build ${drv('c')}: done in 1.000 s`]);
  });
});

describe('after an interrupted build', () => {
  const files = [file('a.bin', 'a', 2_000_000), file('b.bin', 'b', 3_000_000), file('c.bin', 'c', 5_000_000)];

  it('says which files are kept and that the others start again from their first byte', () => {
    const hint = restartHint(files, (s) => s === sha('a'));
    assert.match(hint, /the 1 LFS file\(s\) finished are kept/);
    assert.match(hint, /the 2 not finished \(8\.00 MB\) are downloaded again from their first byte, because a download stopped midway is not kept/);
  });

  it('nothing finished, everything finished, nothing to download', () => {
    assert.match(restartHint(files, () => false), /^run the command again to continue: the 3 not finished \(10\.0 MB\) are downloaded again from their first byte/);
    assert.match(restartHint(files, () => true), /every LFS file is in the Nix store already/);
    assert.equal(restartHint([], () => false), 'run the command again to continue');
  });
});
