/**
 * Start-up: `--version`, `--help`, `COMMAND --help`, `help COMMAND` and `completion SHELL`
 * load neither commander nor the Hub client, the progress display or the Nix
 * runner; from the executable (dist/bin.cjs), their prebuilt answers load no
 * ES module at all. Checked on the list of modules the process resolved (a
 * resolve hook registered by a `node --require` preload; a test below shows
 * it sees the executable load the CLI), never by timing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, CLI_MODULE, cliEnv, requireBuild, run } from '../support/index.ts';

/**
 * A CommonJS preload (`node --require`) that registers a resolve hook appending
 * every resolved URL to NIX_HUG_TEST_MODULES_FILE. Not `--import`: that would
 * make Node start even a CommonJS entry through its ES module loader.
 */
const MODULE_PROBE =
  "require('node:module').register(" +
  JSON.stringify(
    'data:text/javascript,' +
      encodeURIComponent(
        "import{appendFileSync}from'node:fs';" +
          'export async function resolve(s,c,n){const r=await n(s,c);appendFileSync(process.env.NIX_HUG_TEST_MODULES_FILE,r.url+"\\n");return r}',
      ),
  ) +
  ');\n';

/** What a fast start must not load (paths relative to the package). */
const HEAVY = ['node_modules/commander/', 'dist/hub/client.js', 'dist/build/download-progress.js', 'node_modules/cli-progress/', 'dist/nix/nix.js'];

const env = cliEnv({ HF_ENDPOINT: 'http://127.0.0.1:9', NIX_HUG_MAX_RETRIES: '0' });
let dir: string;
let probe: string;
before(() => {
  requireBuild();
  dir = mkdtempSync(join(tmpdir(), 'nix-hug-startup-'));
  probe = join(dir, 'module-probe.cjs');
  writeFileSync(probe, MODULE_PROBE);
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  env.cleanup();
});

let runs = 0;
/** Runs `entry ARGS` (the executable unless told) and lists the ES modules it resolved (none: no file written). */
async function loadedModules(args: string[], entry: string = CLI): Promise<{ code: number | null; stdout: string; modules: string[] }> {
  const file = join(dir, `modules-${runs++}`);
  const r = await run(process.execPath, ['--require', probe, entry, ...args], { ...env.env, NIX_HUG_TEST_MODULES_FILE: file });
  const modules = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
  return { code: r.code, stdout: r.stdout, modules };
}

/** Our own modules and our dependencies among `modules`, as `dist/…` and `node_modules/…`. */
function ours(modules: readonly string[]): string[] {
  return modules.filter((m) => m.includes('/dist/') || m.includes('/node_modules/')).map((m) => m.replace(/^.*\/(dist|node_modules)\//, '$1/'));
}

function heavyIn(modules: readonly string[]): string[] {
  return modules.filter((m) => HEAVY.some((h) => m.includes(`/${h}`)));
}

describe('start-up', () => {
  for (const args of [['--version'], ['-V'], ['fetch', '--help'], ['completion', 'bash'], ['completion', 'fish']]) {
    it(`nix-hug ${args.join(' ')} (dist/cli.js run directly) loads neither commander, the Hub client, the progress display nor the Nix runner`, async () => {
      const r = await loadedModules(args, CLI_MODULE);
      assert.equal(r.code, 0);
      assert.notEqual(r.stdout, '');
      assert.ok(r.modules.some((m) => m.endsWith('/dist/cli.js')), `the probe saw the CLI load: ${r.modules.join(' ')}`);
      assert.deepEqual(heavyIn(r.modules), []);
    });
  }

  for (const args of [['--version'], ['-V'], ['completion', 'bash'], ['completion', 'zsh'], ['completion', 'fish'], ['--help'], ['-h'], ['fetch', '--help'], ['store', 'ls', '--help'], ['help', 'store', 'ls']]) {
    it(`nix-hug ${args.join(' ')} into a pipe loads no ES module: the executable prints what the build wrote`, async () => {
      const r = await loadedModules(args);
      assert.equal(r.code, 0);
      assert.match(r.stdout, args[0] === '--version' || args[0] === '-V' ? /^\d+\.\d+\.\d+\n$/ : /nix-hug/);
      assert.deepEqual(ours(r.modules), []);
    });
  }

  it('dist/cli.js run directly gives the same prebuilt answers, loading nothing of ours but itself and fast-answers.cjs', async () => {
    for (const args of [['--help'], ['help', 'store', 'ls'], ['completion', 'zsh'], ['--version']]) {
      const [direct, executable] = await Promise.all([loadedModules(args, CLI_MODULE), loadedModules(args)]);
      assert.equal(direct.stdout, executable.stdout, args.join(' '));
      assert.deepEqual([...new Set(ours(direct.modules))], ['dist/cli.js', 'dist/fast-answers.cjs'], args.join(' '));
    }
  });

  it('a command loads the CLI module from the executable', async () => {
    const r = await loadedModules(['fetch', '--no-such-option']);
    assert.equal(r.code, 2);
    assert.ok(r.modules.some((m) => m.endsWith('/dist/cli.js')), r.modules.join(' '));
  });

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
