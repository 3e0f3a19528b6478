import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DownloadTracker } from '../../src/nix/progress.ts';
import { formatDuration, pathFromResolveUrl, transferRate } from '../../src/build/download-progress.ts';

test('the tracker follows LFS downloads from internal-json events and ignores other transfers', () => {
  const t = new DownloadTracker(2, 300);
  assert.equal(t.onEvent({ action: 'start', id: 1, type: 101, fields: ['http://h/org/r/resolve/abc/a.bin'] })?.url, 'http://h/org/r/resolve/abc/a.bin');
  assert.equal(t.onEvent({ action: 'start', id: 2, type: 101, fields: ['http://h/api/models/org/r/tree/abc'] }), null);
  t.onEvent({ action: 'result', id: 1, type: 105, fields: [50, 100, 0, 0] });
  let s = t.snapshot();
  assert.deepEqual([s.filesDone, s.filesTotal, s.bytesDone, s.bytesTotal], [0, 2, 50, 300]);
  t.onEvent({ action: 'result', id: 1, type: 105, fields: [100, 100, 0, 0] });
  assert.equal(t.onEvent({ action: 'stop', id: 1 })?.finished, true);
  t.onEvent({ action: 'start', id: 3, type: 101, fields: ['http://h/org/r/resolve/abc/b.bin'] });
  t.onEvent({ action: 'result', id: 3, type: 105, fields: [20, 200, 0, 0] });
  s = t.snapshot();
  assert.deepEqual([s.filesDone, s.filesTotal, s.bytesDone, s.bytesTotal, s.active.length], [1, 2, 120, 300, 1]);
  t.onEvent({ action: 'stop', id: 3 });
  s = t.snapshot();
  assert.deepEqual([s.filesDone, s.bytesDone, s.active.length], [2, 300, 0]);
});

test('the file path of a download comes from its resolve URL, percent-decoded', () => {
  assert.equal(pathFromResolveUrl('http://h/org/r/resolve/0123/sub%20dir/%C3%BC.bin'), 'sub dir/ü.bin');
  assert.equal(pathFromResolveUrl('http://h/datasets/org/r/resolve/main/a.parquet'), 'a.parquet');
});

test('the rate and ETA say – until bytes arrive, never 0 B/s or an infinite ETA', () => {
  const fmt = (n: number) => `${Math.round(n)} B`;
  assert.deepEqual(transferRate(0, 1000, 5, fmt), { rate: '–', eta: '–' });
  assert.deepEqual(transferRate(100, 1000, 0, fmt), { rate: '–', eta: '–' });
  assert.deepEqual(transferRate(100, 1000, 1, fmt), { rate: '100 B/s', eta: '9s' });
  assert.deepEqual(transferRate(1000, 1000, 2, fmt), { rate: '500 B/s', eta: '0s' });
  for (const [s, text] of [[59, '59s'], [61, '1m01s'], [3599, '59m59s'], [3720, '1h02m'], [Number.NaN, '0s']] as const) assert.equal(formatDuration(s), text);
});
