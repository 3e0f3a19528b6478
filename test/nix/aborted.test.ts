/**
 * An interrupt that came before a step started stops that step too. A fake
 * `nix` that takes 3 s stands in for a build: with an already-aborted signal
 * (SIGINT during the Hub phase, before the build), `nixBuild`, the parallel
 * blob builds and `capture` must not wait for it, and must leave no child.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError } from '../../src/errors.ts';
import { buildBlobsInParallel, prebuildBlobs } from '../../src/build/parallel-blobs.ts';
import { DEFAULT_HTTP } from '../../src/settings/http.ts';
import { capture, nixBuild } from '../../src/nix/nix.ts';

let dir: string;
let env: NodeJS.ProcessEnv;
/** The fake nix appends a line to this file when it starts and when it ends. */
let trace: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nix-hug-aborted-'));
  trace = join(dir, 'trace');
  // One process (no `sleep` child holding its pipes), as nix is.
  writeFileSync(
    join(dir, 'nix'),
    `#!${process.execPath}\nconst fs = require('node:fs');\nfs.appendFileSync(${JSON.stringify(trace)}, 'start\\n');\nsetTimeout(() => { fs.appendFileSync(${JSON.stringify(trace)}, 'end\\n'); console.log('[]'); }, 3000);\n`,
  );
  chmodSync(join(dir, 'nix'), 0o755);
  writeFileSync(join(dir, 'build.nix'), '[ ]\n');
  env = { PATH: `${dir}:${process.env.PATH}` };
});
after(() => rmSync(dir, { recursive: true, force: true }));

function aborted(): AbortSignal {
  const c = new AbortController();
  c.abort(new Error('interrupted by SIGINT'));
  return c.signal;
}

/** Runs `step`; it must settle within 1 s (the fake nix takes 3) and no fake nix may still run after it. */
async function settlesAtOnce(step: () => Promise<unknown>): Promise<unknown> {
  rmSync(trace, { force: true });
  const t0 = Date.now();
  const outcome = await step().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const ms = Date.now() - t0;
  assert.ok(ms < 1000, `took ${ms} ms: it waited for the 3 s child`);
  await sleep(3500);
  const lines = existsSync(trace) ? readFileSync(trace, 'utf8').split('\n').filter(Boolean) : [];
  assert.ok(!lines.includes('end'), `a child ran to its end after the interrupt: ${JSON.stringify(lines)}`);
  return 'error' in outcome ? outcome.error : outcome.value;
}

describe('a signal aborted before the step starts', () => {
  it('nixBuild: InterruptedError without waiting for nix', { timeout: 15_000 }, async () => {
    const err = await settlesAtOnce(() => nixBuild({ target: { file: join(dir, 'build.nix') }, env, http: DEFAULT_HTTP, maxJobs: 1, signal: aborted() }));
    assert.ok(err instanceof InterruptedError, String(err));
  });

  it('the parallel blob builds and the evaluation beside them', { timeout: 15_000 }, async () => {
    const blobs = [1, 2].map((i) => ({ url: `http://127.0.0.1:9/${i}`, sha256: String(i).repeat(64), size: 10 }));
    const err = await settlesAtOnce(() => buildBlobsInParallel({ blobs, processes: 2, dir, env, http: DEFAULT_HTTP, signal: aborted() }));
    assert.ok(err instanceof InterruptedError, String(err));
    const err2 = await settlesAtOnce(() =>
      prebuildBlobs({ fetch: (signal) => buildBlobsInParallel({ blobs, processes: 2, dir, env, http: DEFAULT_HTTP, signal }), file: join(dir, 'build.nix'), evalEnv: env, signal: aborted() }),
    );
    assert.ok(err2 instanceof InterruptedError, String(err2));
  });

  it('capture: the child is stopped at once', { timeout: 15_000 }, async () => {
    await settlesAtOnce(() => capture('nix', ['--version'], env, undefined, aborted()));
  });
});
