/**
 * The cold-fetch path that fetches LFS blobs with one `nix build` per core
 * before the snapshot's build: how the blobs are split, and, against the
 * Hub emulator with real Nix, that every blob lands in the store path the
 * library uses (downloaded once), that a wrong download fails with Nix's
 * error naming that blob's `hf-blob-<sha256>.drv`, leaving no blob behind,
 * that an interrupt stops the downloads and the evaluation at once, and
 * that the snapshot evaluated beside the downloads is built from its .drv
 * (no second evaluation) with the library's trace lines kept.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBlobsInParallel, prebuildBlobs, processCount, splitBySize, type Blob } from '../../src/build/parallel-blobs.ts';
import { detectNix, drvInstallable, nixBuild, nixEnv as cliNixEnv, NixBuildError } from '../../src/nix/nix.ts';
import { blobStorePath } from '../../src/nix/store-path.ts';
import { DEFAULT_HTTP } from '../../src/settings/http.ts';
import { isValidPath, nixTestEnv, seeded, sha256Hex } from '../support/index.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';

/** A valid store path (a killed download may leave an invalid file behind, which Nix replaces). */
const isValid = (path: string) => isValidPath(process.env, path);

describe('splitBySize', () => {
  const sizes = (groups: { size: number }[][]) => groups.map((g) => g.map((x) => x.size));
  it('gives each process about the same bytes, every blob exactly once', () => {
    const blobs = [256, 256, 256, 256].map((size, i) => ({ size, i }));
    const groups = splitBySize(blobs, 2);
    assert.deepEqual(sizes(groups), [[256, 256], [256, 256]]);
    assert.deepEqual(groups.flat().map((b) => b.i).sort(), [0, 1, 2, 3]);
    assert.deepEqual(sizes(splitBySize([1, 10, 1, 1, 1].map((size) => ({ size })), 2)), [[10], [1, 1, 1, 1]]);
    assert.deepEqual(sizes(splitBySize([5, 3].map((size) => ({ size })), 4)), [[5], [3]]);
  });
  it('uses one process per core at most, none beyond the blobs, and a few at most', () => {
    assert.equal(processCount(4, 2), 2);
    assert.equal(processCount(1, 8), 1);
    assert.equal(processCount(0, 8), 1);
    assert.equal(processCount(1000, 64), 8);
  });
});

describe('buildBlobsInParallel (real Nix, Hub emulator)', () => {
  let hub: RunningHub;
  let nix: ReturnType<typeof nixTestEnv>;
  let dir: string;
  const id = 'parallel/blobs';
  const paths = ['a.safetensors', 'b.safetensors', 'c.safetensors', 'onnx/d.onnx', 'slow-1.bin', 'slow-2.bin'];

  const blobsOf = (wanted: string[]): Blob[] => {
    const files = hub.repo(id).filesAt();
    const rev = hub.repo(id).refs.main!;
    return wanted.map((p) => {
      const bytes = files.get(p)!;
      return { url: `${hub.url}/${id}/resolve/${rev}/${p}`, sha256: sha256Hex(bytes), size: bytes.length };
    });
  };

  before(async () => {
    hub = await startHub({
      repos: [{ id, commits: [{ files: Object.fromEntries(paths.map((p, i) => [p, seeded(p, p.startsWith('slow') ? 100_000 : 20_000 + i * 1000)])) }] }],
    });
    nix = nixTestEnv();
    dir = mkdtempSync(join(tmpdir(), 'nix-hug-parallel-blobs-'));
  });
  after(async () => {
    await hub?.close();
    nix?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('puts every blob, once, at the store path the library uses', async () => {
    const blobs = blobsOf(paths.slice(0, 3));
    hub.resetStats();
    const started = new Set<string>();
    await buildBlobsInParallel({
      blobs,
      processes: 2,
      dir,
      env: cliNixEnv(nix.env),
      http: DEFAULT_HTTP,
      onEvent: (ev) => {
        if (ev.action === 'start' && ev.type === 101) started.add(String(ev.fields?.[0]));
      },
    });
    const files = hub.repo(id).filesAt();
    for (const [i, b] of blobs.entries()) {
      const p = blobStorePath(b.sha256);
      assert.ok(existsSync(p), `${p} is not in the store`);
      assert.deepEqual(readFileSync(p), Buffer.from(files.get(paths[i]!)!));
    }
    assert.equal(hub.cdnBytes(), blobs.reduce((n, b) => n + b.size, 0), 'each blob downloaded exactly once');
    assert.equal(started.size, 3, 'a download event for every blob');
  });

  it('fails on wrong bytes with the error naming that blob, and leaves no blob for it', async () => {
    const [blob] = blobsOf(['onnx/d.onnx']);
    hub.addFault({ match: '/repos/', kind: { corrupt: true }, times: Infinity });
    try {
      await assert.rejects(
        buildBlobsInParallel({ blobs: [blob!, ...blobsOf(paths.slice(0, 2))], processes: 2, dir, env: cliNixEnv(nix.env), http: DEFAULT_HTTP }),
        (err: unknown) => {
          assert.ok(err instanceof NixBuildError, String(err));
          assert.ok(err.failedDerivations.some((d) => d.endsWith(`-hf-blob-${blob!.sha256}.drv`)), err.nixErrors.join('\n'));
          return true;
        },
      );
      assert.equal(await isValid(blobStorePath(blob!.sha256)), false);
    } finally {
      hub.clearFaults();
    }
  });

  it('an interrupt stops the downloads and the evaluation at once, and leaves no blob', async () => {
    const slow = blobsOf(['slow-1.bin', 'slow-2.bin']);
    // Both the CDN and git crawl: without the interrupt this would take minutes.
    hub.addFault({ match: '/repos/', kind: { slowBytesPerSecond: 200 }, times: Infinity });
    hub.addFault({ match: 'git-upload-pack', kind: { slowBytesPerSecond: 50 }, times: Infinity });
    const file = join(dir, 'slow-eval.nix');
    const rev = hub.repo(id).refs.main!;
    writeFileSync(file, `{ drvPath = (builtins.fetchGit { url = "${hub.url}/${id}.git"; rev = "${rev}"; allRefs = true; }).outPath; }\n`);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 1500);
    try {
      await assert.rejects(
        prebuildBlobs({ fetch: (signal) => buildBlobsInParallel({ blobs: slow, processes: 2, dir, env: cliNixEnv(nix.env), http: DEFAULT_HTTP, signal }), file, evalEnv: cliNixEnv(nix.env), signal: controller.signal }),
        /interrupted/,
      );
      assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms to stop`);
      for (const b of slow) assert.equal(await isValid(blobStorePath(b.sha256)), false, `${b.sha256} is in the store`);
    } finally {
      hub.clearFaults();
    }
  });

  it('the evaluation beside the downloads gives the .drv the build then builds without evaluating, and its trace lines', async () => {
    const env = cliNixEnv(nix.env);
    const file = join(dir, 'traced.nix');
    const derivation = `derivation { name = "prebuild-traced"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo built > $out" ]; }`;
    writeFileSync(file, `builtins.trace "hf-check: a library warning" (${derivation})\n`);
    let fetched = false;
    const evaluated = await prebuildBlobs({ fetch: async () => void (fetched = true), file, evalEnv: env });
    assert.ok(fetched);
    assert.ok(evaluated, 'the evaluation succeeded');
    assert.match(evaluated.drvPath, /^\/nix\/store\/[a-z0-9]{32}-prebuild-traced\.drv$/);
    assert.deepEqual(evaluated.traces, ['trace: hf-check: a library warning']);
    const built = await nixBuild({ target: { drv: evaluated.drvPath, nix: await detectNix(env) }, env, maxJobs: 1, http: DEFAULT_HTTP });
    assert.equal(built.outPaths.length, 1);
    assert.equal(readFileSync(built.outPaths[0]!, 'utf8'), 'built\n');

    // An evaluation that fails leaves the build to evaluate the file (and report the error).
    writeFileSync(file, 'throw "no such attribute"\n');
    assert.equal(await prebuildBlobs({ fetch: async () => {}, file, evalEnv: env }), null);
  });
});

describe('drvInstallable', () => {
  const nix = (version: string, isLix = false) => {
    const [major, minor, patch = 0] = version.split('.').map(Number) as [number, number, number?];
    return { version, major, minor, patch, isLix };
  };
  it('names the output with ^out from Nix 2.13 and in Lix, the bare .drv before', () => {
    const drv = '/nix/store/00000000000000000000000000000000-x.drv';
    assert.equal(drvInstallable(drv, nix('2.8')), drv);
    assert.equal(drvInstallable(drv, nix('2.12')), drv);
    assert.equal(drvInstallable(drv, nix('2.13')), `${drv}^out`);
    assert.equal(drvInstallable(drv, nix('2.26')), `${drv}^out`);
    assert.equal(drvInstallable(drv, nix('3.1')), `${drv}^out`);
    assert.equal(drvInstallable(drv, nix('2.91', true)), `${drv}^out`);
  });
});
