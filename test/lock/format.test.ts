/**
 * The lock file's text: canonical (the same lock renders to the same bytes;
 * an entry nobody changed keeps its bytes), diffable (sorted, one manifest
 * line per file, trailing newline), and read strictly: every malformed
 * field, a newer version, two entries of one name, an inline manifest that
 * does not hash to its fileTreeHash are clear errors naming the entry.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { NixHugError } from '../../src/errors.ts';
import { entryNameProblem, parseLock, renderLock } from '../../src/lock/format.ts';
import { LOCK_FILES as FILES, LOCK_SHA_A as SHA_A, lockEntry as entry } from '../support/index.ts';

const FILE = 'nix-hug.lock';

function rejects(text: string, re: RegExp): void {
  assert.throws(
    () => parseLock(text, FILE),
    (err: unknown) => {
      assert.ok(err instanceof NixHugError, String(err));
      assert.match(err.message, re);
      assert.match(err.hint ?? '', /left untouched|upgrade/);
      return true;
    },
  );
}

describe('lock file format', () => {
  it('renders sorted entries with a fixed key order, one manifest line per file, and a trailing newline', () => {
    const text = renderLock({ entries: [entry('zeta'), entry('alpha', { filters: { include: ['.*\\.safetensors'] }, endpoint: 'http://mirror.example', ref: null })] });
    assert.ok(text.endsWith('}\n'));
    assert.ok(text.indexOf('"alpha"') < text.indexOf('"zeta"'));
    const alpha = text.slice(text.indexOf('"alpha"'), text.indexOf('"name": "zeta"'));
    const keys = [...alpha.matchAll(/^ {6}"(\w+)":/gm)].map((m) => m[1]);
    assert.deepEqual(keys, ['type', 'repoId', 'endpoint', 'ref', 'rev', 'filters', 'fileTreeHash', 'gitRepoHash', 'manifest']);
    assert.match(alpha, /"filters": \{ "include": \[".\*\\\\.safetensors"\] \}/);
    assert.match(alpha, /"ref": null/);
    assert.match(text, new RegExp(`^ {8}"model.safetensors": \\{ "sha256": "${SHA_A}", "size": 1234 \\},?$`, 'm'));
    // The default endpoint is not written.
    assert.equal(text.match(/"endpoint"/g)?.length, 1);
    assert.equal(renderLock({ entries: [] }), '{\n  "version": 1,\n  "entries": []\n}\n');
  });

  it('reads back what it writes, to the same bytes', () => {
    const lock = { entries: [entry('b', { type: 'dataset', filters: { files: ['config.json'] } }), entry('a', { manifest: { kind: 'file', path: 'nix-hug.lock.d/models--org--a--0123456789ab.tsv' } })] };
    const text = renderLock(lock);
    const parsed = parseLock(text, FILE);
    assert.equal(renderLock(parsed), text);
    assert.deepEqual(parsed.entries.map((e) => e.name), ['a', 'b']);
    assert.deepEqual(parsed.entries[1]!.manifest, { kind: 'inline', files: FILES });
  });

  it('keeps manifest order for names a JavaScript object would reorder ("10" before "2", "0" after "-")', () => {
    const files = [{ path: '-', lfs: null }, { path: '0', lfs: null }, { path: '10', lfs: null }, { path: '2', lfs: null }];
    const text = renderLock({ entries: [entry('n', {}, files)] });
    assert.deepEqual([...text.matchAll(/^ {8}"([^"]+)": "git"/gm)].map((m) => m[1]), ['-', '0', '10', '2']);
    assert.equal(renderLock(parseLock(text, FILE)), text);
  });

  it('refuses what is not a lock file, and a newer version, with the file named', () => {
    rejects('{"version": 1, "entries": [', /^the lock file nix-hug.lock is not valid: not JSON/);
    rejects('[]', /expected a JSON object/);
    rejects('{"entries": []}', /no "version" number/);
    rejects('{"version": 0, "entries": []}', /unknown version 0/);
    rejects('{"version": 1}', /"entries" must be a list/);
    rejects('{"version": 1, "entries": [], "extra": 1}', /unknown field 'extra'/);
    rejects('{"version": 2, "entries": "anything"}', /has version 2, written by a newer nix-hug \(this one reads version 1\)/);
  });

  it('refuses malformed entries, naming them', () => {
    const lock = (e: object) => JSON.stringify({ version: 1, entries: [e] });
    const base = JSON.parse(renderLock({ entries: [entry('m')] })).entries[0] as Record<string, unknown>;
    rejects(lock({ ...base, rev: 'main' }), /entry 'm': "rev" must be a commit/);
    rejects(lock({ ...base, fileTreeHash: 'sha256-abc' }), /entry 'm': "fileTreeHash" must be/);
    rejects(lock({ ...base, gitRepoHash: null }), /entry 'm': "gitRepoHash" must be a string/);
    rejects(lock({ ...base, type: 'kernel' }), /"type" must be "model", "dataset" or "space"/);
    rejects(lock({ ...base, repoId: 'org' }), /"repoId"/);
    rejects(lock({ ...base, repoId: 'datasets/org/x' }), /"repoId"/);
    rejects(lock({ ...base, name: '../x' }), /the name '..\/x' is not allowed/);
    rejects(lock({ ...base, ref: 'a..b' }), /invalid revision/);
    rejects(lock({ ...base, endpoint: 'http://mirror.example/' }), /"endpoint" must be written 'http:\/\/mirror.example'/);
    rejects(lock({ ...base, filters: { include: [] } }), /"filters.include" must be a non-empty list/);
    rejects(lock({ ...base, filters: { files: ['a'], include: ['b'] } }), /cannot have "include"/);
    rejects(lock({ ...base, manifest: '../outside.tsv' }), /must be a relative path of plain names/);
    rejects(lock({ ...base, manifest: '/etc/passwd' }), /must be a relative path/);
    rejects(lock({ ...base, manifest: { 'config.json': 'git' } }), /does not hash to its "fileTreeHash"/);
    rejects(lock({ ...base, manifest: { 'a/../b': 'git' } }), /'a\/..\/b'/);
    rejects(lock({ ...base, extra: true }), /unknown field 'extra'/);
    rejects(lock({ ...base, name: 7 }), /entry 1: "name" must be a string/);
    rejects(JSON.stringify({ version: 1, entries: [base, base] }), /two entries are called 'm'/);
  });

  it("the flake check's lock file (nix/fixtures/nix-hug.lock) is one this nix-hug writes", () => {
    const text = readFileSync('nix/fixtures/nix-hug.lock', 'utf8');
    assert.equal(renderLock(parseLock(text, 'nix/fixtures/nix-hug.lock')), text);
    assert.throws(() => parseLock(readFileSync('nix/fixtures/newer.lock', 'utf8'), 'newer.lock'), /has version 2, written by a newer nix-hug/);
  });

  it('allows the names a repository can have', () => {
    for (const ok of ['gpt2', 'Mistral-7B-Instruct-v0.3', '_x', '0', 'a.b_c-d']) assert.equal(entryNameProblem(ok), null, ok);
    for (const bad of ['', '.hidden', '-x', 'a/b', 'a b', 'ü', 'x'.repeat(97), '${x}']) assert.notEqual(entryNameProblem(bad), null, bad);
  });
});
