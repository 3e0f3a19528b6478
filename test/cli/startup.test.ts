/**
 * Start-up: `--version`, `--help`, `COMMAND --help`, `help COMMAND` and `completion SHELL`
 * load neither commander nor the Hub client, the progress display or the Nix
 * runner. Checked on the list of modules the process resolved (a loader
 * hook preloaded with `node --import`), never by timing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, cliEnv, requireBuild, run } from '../support/index.ts';

/** Registers a resolve hook that appends every resolved URL to NIX_HUG_TEST_MODULES_FILE. */
const MODULE_PROBE =
  'data:text/javascript,' +
  encodeURIComponent(
    "import{register}from'node:module';" +
      'register(' +
      JSON.stringify(
        'data:text/javascript,' +
          encodeURIComponent(
            "import{appendFileSync}from'node:fs';" +
              'export async function resolve(s,c,n){const r=await n(s,c);appendFileSync(process.env.NIX_HUG_TEST_MODULES_FILE,r.url+"\\n");return r}',
          ),
      ) +
      ');',
  );

/** What a fast start must not load (paths relative to the package). */
const HEAVY = ['node_modules/commander/', 'dist/hub/client.js', 'dist/build/download-progress.js', 'node_modules/cli-progress/', 'dist/nix/nix.js'];

const env = cliEnv({ HF_ENDPOINT: 'http://127.0.0.1:9', NIX_HUG_MAX_RETRIES: '0' });
let dir: string;
before(() => {
  requireBuild();
  dir = mkdtempSync(join(tmpdir(), 'nix-hug-startup-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  env.cleanup();
});

let runs = 0;
async function loadedModules(args: string[]): Promise<{ code: number | null; stdout: string; modules: string[] }> {
  const file = join(dir, `modules-${runs++}`);
  const r = await run(process.execPath, ['--import', MODULE_PROBE, CLI, ...args], { ...env.env, NIX_HUG_TEST_MODULES_FILE: file });
  const modules = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  return { code: r.code, stdout: r.stdout, modules };
}

function heavyIn(modules: readonly string[]): string[] {
  return modules.filter((m) => HEAVY.some((h) => m.includes(`/${h}`)));
}

describe('start-up', () => {
  for (const args of [['--version'], ['-V'], ['--help'], ['-h'], ['fetch', '--help'], ['store', 'ls', '--help'], ['help', 'fetch'], ['completion', 'bash'], ['completion', 'fish']]) {
    it(`nix-hug ${args.join(' ')} loads neither commander, the Hub client, the progress display nor the Nix runner`, async () => {
      const r = await loadedModules(args);
      assert.equal(r.code, 0);
      assert.notEqual(r.stdout, '');
      assert.ok(r.modules.some((m) => m.endsWith('/dist/cli.js')), `the probe saw the CLI load: ${r.modules.join(' ')}`);
      assert.deepEqual(heavyIn(r.modules), []);
    });
  }

  for (const args of [['completion', 'bash'], ['completion', 'zsh'], ['completion', 'fish'], ['--help'], ['fetch', '--help'], ['help', 'store', 'ls']]) {
    it(`nix-hug ${args.join(' ')} into a pipe loads no module of its own but the CLI: it prints what the build wrote`, async () => {
      const r = await loadedModules(args);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /nix-hug/);
      assert.deepEqual(
        r.modules.filter((m) => m.includes('/dist/') || m.includes('/node_modules/')).map((m) => m.replace(/^.*\/dist\//, 'dist/')),
        ['dist/cli.js'],
      );
    });
  }

  it('the probe sees them when a command needs them (a request to the Hub)', async () => {
    const r = await loadedModules(['ls', 'org/repo']);
    assert.notEqual(r.code, 0, 'nothing listens on the endpoint');
    const heavy = heavyIn(r.modules);
    assert.ok(heavy.some((m) => m.includes('/node_modules/commander/')), heavy.join(' '));
    assert.ok(heavy.some((m) => m.endsWith('/dist/hub/client.js')), heavy.join(' '));
  });

  it('words before --help that name no command are left to the parser', async () => {
    const r = await loadedModules(['nosuchcommand', '--help']);
    assert.ok(r.modules.some((m) => m.includes('/node_modules/commander/')));
    assert.match(r.stdout, /^Usage: nix-hug /);
  });
});
