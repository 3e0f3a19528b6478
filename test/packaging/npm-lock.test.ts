/**
 * nix/npm-lock.nix, evaluated by real Nix on this repository's
 * package-lock.json: every registry package npm would install on the system
 * gets the `resolved` tarball URL that nixpkgs' importNpmLock fetches (with
 * the lock's `integrity`); optional binaries for other platforms get none, so
 * they are not downloaded. The oracle is npm itself: for every package
 * `npm ci` installed here, npm's cache index holds a request for exactly that
 * URL (on the configured registry) with the same integrity.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nixString } from '../../src/nix/expr.ts';
import { nixTestEnv, type NixTestEnv, ok, REPO_ROOT, run, runNix } from '../support/index.ts';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
}

const NPM_CPU: Record<string, string> = { x86_64: 'x64', aarch64: 'arm64' };
const SYSTEM = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-${process.platform}`;

let nix: NixTestEnv;
before(() => {
  nix = nixTestEnv();
});
after(() => nix.cleanup());

/** npm's HTTP cache index: request URL → integrity of the stored body. */
function npmCacheIndex(cacheDir: string): Map<string, string> {
  const index = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        for (const line of readFileSync(p, 'utf8').split('\n')) {
          const tab = line.indexOf('\t');
          if (tab < 0) continue;
          try {
            const entry = JSON.parse(line.slice(tab + 1)) as { key?: string; integrity?: string };
            const key = entry.key?.replace(/^make-fetch-happen:request-cache:/, '');
            if (key && entry.integrity) index.set(key, entry.integrity);
          } catch {
            // a line being written concurrently; npm itself skips those too
          }
        }
      }
    }
  };
  walk(join(cacheDir, '_cacache', 'index-v5'));
  return index;
}

describe('package-lock.json for importNpmLock (nix/npm-lock.nix)', () => {
  it('gives every registry package the tarball URL npm fetched it from, with the same integrity', async () => {
    const lockFile = `builtins.fromJSON (builtins.readFile (/. + ${nixString(join(REPO_ROOT, 'package-lock.json'))}))`;
    const expr = `import (/. + ${nixString(join(REPO_ROOT, 'nix', 'npm-lock.nix'))}) { system = ${nixString(SYSTEM)}; } (${lockFile})`;
    const r = ok(await runNix(['eval', '--impure', '--json', '--expr', expr], nix.env), 'nix eval npm-lock.nix');
    const lock = JSON.parse(r.stdout) as { packages: Record<string, LockEntry> };
    const original = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

    // What npm would install here: not optional, or optional and made for this os and cpu (process.platform/arch).
    const [cpu, os] = [NPM_CPU[SYSTEM.split('-')[0]!]!, SYSTEM.split('-')[1]!];
    const forHere = (e: LockEntry) => !e.optional || ((e.os ?? [os]).includes(os) && (e.cpu ?? [cpu]).includes(cpu));
    const entries = Object.entries(lock.packages).filter(([key, e]) => key !== '' && !e.link);
    assert.deepEqual(entries.filter(([, e]) => forHere(e) && e.resolved === undefined).map(([k]) => k), [], 'every package npm installs here has a URL');
    const skipped = entries.filter(([, e]) => !forHere(e));
    assert.ok(skipped.length > 0, 'the lock has optional binaries for other platforms');
    assert.deepEqual(skipped.filter(([, e]) => e.resolved !== undefined).map(([k]) => k), [], 'no URL (no download) for other platforms');
    for (const [key, e] of Object.entries(original.packages)) {
      if (e.resolved !== undefined) assert.equal(lock.packages[key]!.resolved, e.resolved, `${key}: an existing URL is kept`);
    }

    const registry = ok(await run('npm', ['config', 'get', 'registry'], process.env), 'npm config get registry').stdout.trim().replace(/\/?$/, '/');
    const cacheDir = ok(await run('npm', ['config', 'get', 'cache'], process.env), 'npm config get cache').stdout.trim();
    const index = npmCacheIndex(cacheDir);
    const installed = Object.entries(lock.packages).filter(([key, e]) => key !== '' && !e.link && existsSync(join(REPO_ROOT, key, 'package.json')));
    assert.ok(installed.length >= 10, `packages installed by npm ci: ${installed.length}`);
    for (const [key, e] of installed) {
      const url = e.resolved!.replace('https://registry.npmjs.org/', registry);
      assert.equal(index.get(url), e.integrity, `${key}: npm fetched ${url} with the lock's integrity`);
    }
  });
});
