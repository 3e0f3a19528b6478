import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { dirname, join } from 'node:path';
import { COMMANDS, type CommandSpec } from '../../src/commands/registry.ts';
import { renderHelp } from '../../src/commands/help.ts';
import { helpKey, helpPaths, PIPE_WIDTH, type Prebuilt } from '../../src/commands/prebuilt.ts';
import { CLI, cliEnv, requireBuild, runCli } from '../support/index.ts';

const env = cliEnv({ HF_ENDPOINT: 'http://127.0.0.1:9' });
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

function all(specs: readonly CommandSpec[], prefix: string[] = []): { path: string[]; spec: CommandSpec }[] {
  return specs.flatMap((spec) => [{ path: [...prefix, spec.name], spec }, ...all(spec.subcommands ?? [], [...prefix, spec.name])]);
}

before(() => requireBuild());
after(() => env.cleanup());

describe('help and version', () => {
  it('--version and -V print the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag], env.env);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${version}\n`);
      assert.equal(r.stderr, '');
    }
  });

  it('--help lists every command, with examples', async () => {
    const r = await runCli(['--help'], env.env);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: nix-hug \[--debug\] \[--version\] \[--help\] COMMAND/);
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c.name}\\b.*${c.summary.slice(0, 20).replace(/[()]/g, '.')}`, 'm'));
    assert.match(r.stdout, /Examples:\n {2}\$ nix-hug fetch/);
  });

  for (const { path, spec } of all(COMMANDS)) {
    it(`nix-hug ${path.join(' ')} --help shows its usage, options and examples`, async () => {
      const r = await runCli([...path, '--help'], env.env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: nix-hug ${path.join(' ')} `));
      for (const o of spec.options) {
        const long = /--[\w-]+/.exec(o.flags)?.[0] ?? '';
        assert.ok(r.stdout.includes(long), `${long} in help`);
      }
      for (const e of spec.examples) assert.ok(r.stdout.includes(`$ ${e.command}`), e.command);
      assert.ok(!r.stdout.includes('(default: [])'));
      // The page starts with a sentence, as every page does.
      const description = r.stdout.split('\n\n')[1] ?? '';
      assert.match(description, /^[A-Z][\s\S]*\.$/, `the description of ${path.join(' ')} is a sentence: ${description}`);
    });
  }

  it('fetch declares every documented option', () => {
    const fetch = COMMANDS.find((c) => c.name === 'fetch');
    const flags = fetch?.options.map((o) => o.flags) ?? [];
    for (const f of ['--ref <ref>', '--include <glob>', '--exclude <glob>', '--file <path>', '--out <dir>', '--override', '--no-build', '--json', '--quiet']) {
      assert.ok(flags.includes(f), f);
    }
  });

  it('every help page the build wrote (dist/prebuilt.json) is the one the registry renders at 80 columns, and a pipe gets exactly it', async () => {
    const written = (JSON.parse(readFileSync(join(dirname(CLI), 'prebuilt.json'), 'utf8')) as Prebuilt).help;
    const paths = helpPaths();
    assert.equal(paths.length, 1 + all(COMMANDS).length);
    assert.deepEqual(Object.keys(written).sort(), paths.map(helpKey).sort());
    for (const path of paths) {
      const page = renderHelp(path, PIPE_WIDTH);
      assert.equal(written[helpKey(path)], page, path.join(' '));
      for (const args of [[...path, '--help'], ...(path[0] === 'help' ? [] : [['help', ...path]])]) {
        const r = await runCli(args, env.env);
        assert.equal(r.code, 0, args.join(' '));
        assert.equal(r.stdout, page, args.join(' '));
      }
    }
    // Words that name no command (one with a space, Object keys) are still the parser's: the program's page, or an error.
    for (const args of [['store ls', '--help'], ['__proto__', '--help']]) {
      const r = await runCli(args, env.env);
      assert.equal(r.stdout, renderHelp([], PIPE_WIDTH), args.join(' '));
    }
    const unknown = await runCli(['help', 'constructor'], env.env);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stdout, '');
  });

  it('no command: the help on stderr, exit 2', async () => {
    const r = await runCli([], env.env);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Usage: nix-hug/);
    const store = await runCli(['store'], env.env);
    assert.equal(store.code, 2);
    assert.match(store.stderr, /^Usage: nix-hug store/);
  });
});
