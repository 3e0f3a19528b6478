/**
 * `nix-hug completion bash|zsh|fish`, run from the built CLI and loaded into
 * the real shells: bash's completion function driven through COMP_WORDS /
 * COMP_CWORD, fish's `complete -C`, and zsh's completion system in an
 * interactive zsh on a pseudo-terminal (zsh/zpty) that presses TAB.
 * Expected commands and flags come from the registry, so a command or flag
 * added there must show up in every shell.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COMMANDS, COMPLETION_SHELLS, GLOBAL_OPTIONS } from '../../src/commands/registry.ts';
import { prebuiltAnswers, type Prebuilt } from '../../src/commands/prebuilt.ts';
import { parseFlags } from '../../src/completion/model.ts';
import { renderLock } from '../../src/lock/format.ts';
import { CLI, cliEnv, lockEntry, requireBuild, runCli, run } from '../support/index.ts';

let tmp: string;
const scripts: Record<'bash' | 'zsh' | 'fish', string> = { bash: '', zsh: '', fish: '' };

before(async () => {
  requireBuild();
  tmp = mkdtempSync(join(tmpdir(), 'nix-hug-completion-'));
  const { env, cleanup } = cliEnv();
  try {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const r = await runCli(['completion', shell], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      scripts[shell] = join(tmp, shell === 'zsh' ? '_nix-hug' : `nix-hug.${shell}`);
      writeFileSync(scripts[shell], r.stdout);
    }
  } finally {
    cleanup();
  }
  // Folders (and a file) for `--out` completion.
  mkdirSync(join(tmp, 'out', 'alpha'), { recursive: true });
  mkdirSync(join(tmp, 'out', 'a b'));
  writeFileSync(join(tmp, 'out', 'afile'), '');
  // A lock file in the folder the shells run in: `update`, `outdated` and `remove` complete its names.
  writeFileSync(join(tmp, 'nix-hug.lock'), renderLock({ entries: [lockEntry('gpt2'), lockEntry('Mistral-7B-v0.3'), lockEntry('squad', { type: 'dataset' })] }));
});

describe('the scripts the build writes', () => {
  it('dist/prebuilt.json holds exactly what the registry produces for every shell, and the CLI prints it', async () => {
    const written = JSON.parse(readFileSync(join(dirname(CLI), 'prebuilt.json'), 'utf8')) as Prebuilt;
    const expected = (await prebuiltAnswers()).completion;
    assert.deepEqual(Object.keys(written.completion).sort(), [...COMPLETION_SHELLS].sort());
    assert.deepEqual(written.completion, expected);
    for (const shell of COMPLETION_SHELLS) assert.equal(readFileSync(scripts[shell], 'utf8'), expected[shell], `nix-hug completion ${shell}`);
  });
});

const ENTRY_NAMES = ['Mistral-7B-v0.3', 'gpt2', 'squad'];

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const commandNames = COMMANDS.map((c) => c.name);
const flagsOf = (name: string) => [...(COMMANDS.find((c) => c.name === name)?.options ?? []), ...GLOBAL_OPTIONS].flatMap((o) => parseFlags(o.flags).names);
const sorted = (xs: string[]) => [...xs].sort();

async function shell(program: string, args: string[]): Promise<string> {
  const r = await run(program, args, { PATH: process.env.PATH, HOME: tmp, TERM: 'dumb' }, { cwd: tmp });
  assert.equal(r.code, 0, `${program} failed: ${r.stderr}`);
  return r.stdout;
}

/** COMPREPLY of bash's completion function for `words`, the last one being completed. */
async function bashComplete(...words: string[]): Promise<string[]> {
  const script = [
    'source "$1"; shift',
    'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}',
    '_nix_hug nix-hug "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const out = await shell('bash', ['--norc', '--noprofile', '-c', script, 'bash', scripts.bash, ...words]);
  return out.split('\n').filter((l) => l !== '');
}

/** Candidates (without descriptions) fish offers for the command line `line`. */
async function fishComplete(line: string): Promise<string[]> {
  const out = await shell('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', scripts.fish, line]);
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0]!);
}

describe('bash completion', () => {
  it('registers the function for nix-hug', async () => {
    const out = await shell('bash', ['--norc', '--noprofile', '-c', 'source "$1"; complete -p nix-hug', 'bash', scripts.bash]);
    assert.equal(out.trim(), 'complete -F _nix_hug nix-hug');
  });

  it('completes commands, subcommands and each command\'s flags from the registry', async () => {
    assert.deepEqual(await bashComplete('nix-hug', 'f'), ['fetch']);
    assert.deepEqual(sorted(await bashComplete('nix-hug', '')), sorted(commandNames));
    assert.deepEqual(await bashComplete('nix-hug', 'fetch', '--in'), ['--include']);
    assert.deepEqual(await bashComplete('nix-hug', 'store', ''), ['ls', 'path', 'key']);
    assert.deepEqual(await bashComplete('nix-hug', '--debug', 'store', 'p'), ['path']);
    assert.deepEqual(await bashComplete('nix-hug', 'store', 'ls', '--'), ['--json', '--debug', '--help']);
    for (const name of commandNames.filter((n) => n !== 'store')) {
      assert.deepEqual(sorted(await bashComplete('nix-hug', name, '--')), sorted([...flagsOf(name).filter((f) => f.startsWith('--')), '--help']), name);
    }
  });

  it('completes shell names, folders for --out, and nothing for values it cannot know', async () => {
    assert.deepEqual(await bashComplete('nix-hug', 'completion', ''), ['bash', 'zsh', 'fish']);
    assert.deepEqual(sorted(await bashComplete('nix-hug', 'fetch', 'org/repo', '--out', join(tmp, 'out', 'a'))), sorted([join(tmp, 'out', 'a b'), join(tmp, 'out', 'alpha')]));
    assert.deepEqual(sorted(await bashComplete('nix-hug', 'fetch', '--out', '=', join(tmp, 'out', 'al'))), [join(tmp, 'out', 'alpha')]);
    assert.deepEqual(await bashComplete('nix-hug', 'fetch', '--ref', ''), []);
    assert.deepEqual(await bashComplete('nix-hug', 'fetch', 'org/repo', '--repo-type', ''), ['model', 'dataset', 'space']);
    assert.deepEqual(await bashComplete('nix-hug', 'add', '--repo-type', '=', 'd'), ['dataset']);
    assert.deepEqual(await bashComplete('nix-hug', 'fetch', ''), [], 'a repository is not a local file');
  });

  it("completes the lock file's entry names (every one after the first too) and files for --lock", async () => {
    assert.deepEqual(sorted(await bashComplete('nix-hug', 'update', '')), ENTRY_NAMES);
    assert.deepEqual(sorted(await bashComplete('nix-hug', 'remove', 'gpt2', '')), ENTRY_NAMES);
    assert.deepEqual(await bashComplete('nix-hug', 'outdated', '--json', 'g'), ['gpt2']);
    assert.deepEqual(await bashComplete('nix-hug', 'add', 'org/repo', '--lock', 'nix-hug.l'), ['nix-hug.lock']);
    assert.deepEqual(await bashComplete('nix-hug', 'add', ''), [], 'a repository is not an entry');
  });

  it('does not offer a flag twice unless it may repeat', async () => {
    // --revision is another name of --ref: neither is offered again.
    assert.deepEqual(await bashComplete('nix-hug', 'fetch', '--ref', 'main', '--r'), ['--repo-type']);
    assert.deepEqual(await bashComplete('nix-hug', 'fetch', '--revision', 'main', '--r'), ['--repo-type']);
    assert.deepEqual(await bashComplete('nix-hug', 'fetch', '--out', 'x', '--lo'), [], '--local-dir is --out');
    assert.deepEqual(await bashComplete('nix-hug', 'fetch', '--include', '*.bin', '--inc'), ['--include']);
    const afterYes = await bashComplete('nix-hug', 'import', '-y', '-');
    assert.ok(!afterYes.includes('--yes') && !afterYes.includes('-y'), afterYes.join(' '));
    assert.ok(afterYes.includes('--all'));
  });
});

describe('fish completion', () => {
  it('parses', async () => {
    await shell('fish', ['--no-config', '--no-execute', scripts.fish]);
  });

  it('completes commands, subcommands, flags, shell names and folders', async () => {
    assert.deepEqual(await fishComplete('nix-hug f'), ['fetch']);
    assert.deepEqual(sorted(await fishComplete('nix-hug ')), sorted(commandNames));
    assert.deepEqual(await fishComplete('nix-hug fetch --in'), ['--include']);
    assert.deepEqual(sorted(await fishComplete('nix-hug store ')), ['key', 'ls', 'path']);
    assert.deepEqual(sorted(await fishComplete('nix-hug store ls --')), ['--debug', '--help', '--json']);
    assert.deepEqual(sorted(await fishComplete('nix-hug completion ')), ['bash', 'fish', 'zsh']);
    assert.deepEqual(sorted(await fishComplete(`nix-hug fetch x --out ${join(tmp, 'out', 'a')}`)), sorted([join(tmp, 'out', 'a b') + '/', join(tmp, 'out', 'alpha') + '/']));
    assert.deepEqual(await fishComplete('nix-hug fetch --ref '), [], 'no local files for a ref');
    assert.deepEqual(sorted(await fishComplete('nix-hug fetch x --repo-type ')), ['dataset', 'model', 'space']);
    assert.deepEqual(sorted(await fishComplete('nix-hug help ')), sorted(commandNames.filter((n) => n !== 'help')));
    assert.deepEqual(sorted(await fishComplete('nix-hug update ')), ENTRY_NAMES);
    assert.deepEqual(sorted(await fishComplete('nix-hug remove squad ')), ENTRY_NAMES);
    assert.deepEqual(await fishComplete('nix-hug add x --lock nix-hug.l'), ['nix-hug.lock']);
    for (const name of commandNames.filter((n) => n !== 'store')) {
      assert.deepEqual(sorted(await fishComplete(`nix-hug ${name} --`)), sorted([...flagsOf(name).filter((f) => f.startsWith('--')), '--help']), name);
    }
  });
});

/** line → the words zsh offers after TAB there (sorted, unique), by test/packaging/zsh-complete.zsh. */
async function zshComplete(lines: string[]): Promise<Map<string, string[]>> {
  const out = await shell('zsh', ['-f', join(import.meta.dirname, 'zsh-complete.zsh'), tmp, ...lines]);
  const result = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const l of out.split('\n')) {
    if (l.startsWith('== ')) result.set(l.slice(3), (current = new Set()));
    else if (current && /^<<.*>>\r?$/.test(l)) current.add(l.replace(/\r$/, '').slice(2, -2));
  }
  return new Map([...result].map(([k, v]) => [k, [...v].sort()]));
}

describe('zsh completion', () => {
  it('completes commands, subcommands, flags, shell names and folders when TAB is pressed', async () => {
    // zsh runs in `tmp`, which holds the scripts (files) and out/ (folders alpha, 'a b', and a file afile).
    const lines = ['nix-hug f', 'nix-hug ', 'nix-hug fetch --in', 'nix-hug store ', 'nix-hug store ls --', 'nix-hug completion ', 'nix-hug fetch --out ', 'nix-hug fetch x --out out/a', 'nix-hug fetch --ref ', 'nix-hug import -y --', 'nix-hug update ', 'nix-hug remove gpt2 ', 'nix-hug add x --lock nix-hug.l'];
    const got = await zshComplete(lines);
    assert.deepEqual(got.get('nix-hug f'), ['fetch']);
    assert.deepEqual(got.get('nix-hug '), sorted(commandNames));
    assert.deepEqual(got.get('nix-hug fetch --in'), ['--include']);
    assert.deepEqual(got.get('nix-hug store '), ['key', 'ls', 'path']);
    assert.deepEqual(got.get('nix-hug store ls --'), ['--debug', '--help', '--json']);
    assert.deepEqual(got.get('nix-hug completion '), ['bash', 'fish', 'zsh']);
    assert.deepEqual(got.get('nix-hug fetch --out '), ['out'], 'folders only');
    // _path_files reports each path segment, and names both raw and quoted.
    assert.deepEqual(got.get('nix-hug fetch x --out out/a'), ['a b', 'a\\ b', 'alpha', 'out']);
    assert.deepEqual(got.get('nix-hug fetch --ref '), [], 'no local files for a ref');
    assert.deepEqual(got.get('nix-hug import -y --'), ['--all', '--debug', '--help', '--ref'], '--yes is given already');
    assert.deepEqual(got.get('nix-hug update '), ENTRY_NAMES);
    assert.deepEqual(got.get('nix-hug remove gpt2 '), ENTRY_NAMES);
    assert.deepEqual(got.get('nix-hug add x --lock nix-hug.l'), ['nix-hug.lock']);
  });

  it('parses, and registers _nix-hug both from $fpath (compinit) and when sourced', async () => {
    await shell('zsh', ['-n', scripts.zsh]);
    const viaFpath = await shell('zsh', ['-f', '-c', 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -D; print -r -- $_comps[nix-hug]', 'zsh', tmp]);
    assert.equal(viaFpath.trim(), '_nix-hug');
    const sourced = await shell('zsh', ['-f', '-c', 'autoload -Uz compinit; compinit -u -D; source "$1"; print -r -- $_comps[nix-hug]; whence -w _nix-hug_store_ls', 'zsh', scripts.zsh]);
    assert.equal(sourced.trim(), '_nix-hug\n_nix-hug_store_ls: function');
  });
});

describe('nix-hug completion', () => {
  it('refuses an unknown shell as a usage error', async () => {
    const { env, cleanup } = cliEnv();
    try {
      const r = await runCli(['completion', 'tcsh'], env);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /unknown shell 'tcsh'/);
      assert.match(r.stderr, /bash, zsh, fish/);
    } finally {
      cleanup();
    }
  });
});
