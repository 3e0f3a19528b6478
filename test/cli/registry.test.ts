/**
 * The command registry is the one declaration of every command: the keys
 * handlers read are the ones commander stores, every command that runs has
 * exactly one handler, and the option types follow the flags (checked by
 * the type checker: a flag renamed in the registry no longer compiles where
 * its old name is read).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Option } from 'commander';
import { HANDLERS } from '../../src/commands/handlers.ts';
import { COMMANDS, GLOBAL_OPTIONS, HELP, RUNNABLE, type CommandSpec, type FetchOptions, type ImportOptions, type StoreKeyOptions } from '../../src/commands/registry.ts';
import { optionKey, takesValue, type OptionKey } from '../../src/commands/spec.ts';

function leaves(specs: readonly CommandSpec[], prefix = ''): { path: string; spec: CommandSpec }[] {
  return specs.flatMap((spec) => {
    const path = prefix ? `${prefix} ${spec.name}` : spec.name;
    return spec.subcommands ? leaves(spec.subcommands, path) : [{ path, spec }];
  });
}

const ALL_OPTIONS = [...GLOBAL_OPTIONS, ...leaves(COMMANDS).flatMap((l) => l.spec.options)];

describe('command registry', () => {
  it("reads each flag's key and value the way commander does", () => {
    assert.ok(ALL_OPTIONS.length > 15, `${ALL_OPTIONS.length} options`);
    for (const o of [...ALL_OPTIONS, { flags: '--dry-run' }, { flags: '--no-dry-run' }, { flags: '-x' }, { flags: '--file [path]' }]) {
      const c = new Option(o.flags);
      assert.equal(optionKey(o.flags), c.attributeName(), o.flags);
      assert.equal(takesValue(o.flags), c.required || c.optional, o.flags);
    }
  });

  it('has one handler for every command that runs, and none for another', () => {
    // `help` never runs: src/cli.ts rewrites `help COMMAND` to `COMMAND --help` before parsing.
    const runs = leaves(COMMANDS).filter((l) => l.spec !== HELP);
    const paths = runs.map((l) => l.path).sort();
    assert.deepEqual(Object.keys(HANDLERS).sort(), paths);
    assert.deepEqual(Object.keys(RUNNABLE).sort(), paths);
    for (const { path, spec } of runs) assert.equal(RUNNABLE[path as keyof typeof RUNNABLE], spec, path);
  });

  it('loads every handler as a function', async () => {
    for (const [path, load] of Object.entries(HANDLERS)) assert.equal(typeof (await load()), 'function', path);
  });

  it('derives the option types from the flags', () => {
    // Compile-time checks: `npm run typecheck` fails if any of these stops holding.
    const keys: [OptionKey<'--no-build'>, OptionKey<'-y, --yes'>, OptionKey<'--dry-run <x>'>] = ['build', 'yes', 'dryRun'];
    const fetch: FetchOptions = { ref: undefined, repoType: 'dataset', include: [], exclude: [], file: [], allowEmpty: false, out: 'dir', override: false, outLink: undefined, link: true, vendor: undefined, build: true, dryRun: false, hfCache: undefined, json: false, quiet: false };
    // @ts-expect-error -- not a flag of fetch
    void fetch.output;
    // @ts-expect-error -- an alias reaches handlers under its option's key (ref)
    void fetch.revision;
    // @ts-expect-error -- --token reaches the run as HF_TOKEN, never a handler
    void fetch.token;
    // @ts-expect-error -- only the declared choices
    const checkpoint: FetchOptions['repoType'] = 'checkpoint';
    // @ts-expect-error -- a repeatable flag is a list
    const single: FetchOptions['include'] = 'x';
    const imp: ImportOptions = { ref: 'v1', all: false, yes: true };
    const key: StoreKeyOptions = { substituter: undefined, json: false };
    assert.deepEqual(keys, ['build', 'yes', 'dryRun']);
    assert.ok(fetch && imp && key && single && checkpoint);
  });
});
