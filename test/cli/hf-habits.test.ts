/**
 * Habits from `hf download` work as its users type them: file names after
 * the repository, --revision, --repo-type, --local-dir, --token,
 * `nix-hug help COMMAND`, and legacy ids without an owner (`gpt2`), resolved
 * through the Hub's API.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliHubOptions, GRANTED, hubSandbox, runCli } from '../support/index.ts';

const suite = hubSandbox(cliHubOptions);
const cli = (...args: string[]) => runCli(args, suite.box.env());
const json = async (...args: string[]) => {
  const r = await cli(...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { rev: string; type: string; filters: unknown; expression: string; repoId: string };
};

describe('hf download habits', () => {
  it('file names after the repository are --file, alone or mixed with it', async () => {
    const positional = await json('fetch', 'acme/folders', 'config.json', 'onnx/model.onnx', '--no-build', '--json');
    const flags = await json('fetch', 'acme/folders', '--file', 'config.json', '--file', 'onnx/model.onnx', '--no-build', '--json');
    assert.deepEqual(positional.filters, { files: ['config.json', 'onnx/model.onnx'] });
    assert.equal(positional.expression, flags.expression);
    const mixed = await json('fetch', 'acme/folders', 'config.json', '--file', 'onnx/model.onnx', '--no-build', '--json');
    assert.deepEqual(mixed.filters, { files: ['onnx/model.onnx', 'config.json'] });

    const missing = await cli('fetch', 'acme/folders', 'nope.json', '--no-build');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.json/);
    const mixedKinds = await cli('fetch', 'acme/folders', 'config.json', '--include', '*.onnx', '--no-build');
    assert.equal(mixedKinds.code, 2);
    assert.match(mixedKinds.stderr, /--file cannot be combined with --include or --exclude/);
  });

  it('--revision is --ref; both with different values is a usage error', async () => {
    const state = suite.hub.repo('acme/folders');
    assert.equal((await json('fetch', 'acme/folders', '--revision', 'v1.0', '--no-build', '--json')).rev, state.refs['v1.0']);
    assert.equal((await json('ls', 'acme/folders', '--revision', 'dev', '--json')).rev, state.refs.dev);
    assert.equal((await json('fetch', 'acme/folders', '--revision', 'dev', '--ref', 'dev', '--no-build', '--json')).rev, state.refs.dev);
    suite.hub.resetStats();
    const both = await cli('fetch', 'acme/folders', '--revision', 'dev', '--ref', 'main', '--no-build');
    assert.equal(both.code, 2);
    assert.equal(both.stderr, 'nix-hug: error: --revision and --ref name different values\nhint: give one of them (--revision is another name for --ref)\n');
    const bad = await cli('ls', 'acme/folders', '--revision', 'a..b');
    assert.equal(bad.code, 2, 'validated like --ref');
    assert.deepEqual(suite.hub.requests, []);
  });

  it('--repo-type says what a bare org/name is (no lookup of the others), Spaces included', async () => {
    suite.hub.resetStats();
    const dataset = await json('ls', 'acme/both', '--repo-type', 'dataset', '--json');
    assert.equal(dataset.type, 'dataset');
    assert.ok(!suite.hub.requests.some((q) => q.url.startsWith('/api/models/')), 'the model was not asked for');
    assert.equal((await json('fetch', 'acme/big', '--repo-type', 'dataset', '--no-build', '--json')).type, 'dataset');
    assert.equal((await json('ls', 'hf:acme/both', '--repo-type', 'model', '--json')).type, 'model');
    const space = await json('fetch', 'acme/twice', '--repo-type', 'space', '--no-build', '--json');
    assert.equal(space.type, 'space');
    assert.match(space.expression, /^nix-hug-lib\.fetchSpace \{/);
    suite.hub.resetStats();
    for (const [args, says] of [
      [['ls', 'datasets/acme/big', '--repo-type', 'model'], /--repo-type model contradicts 'datasets\/acme\/big', which names a dataset\nhint: drop --repo-type, or name the model as org\/name/],
      [['ls', 'acme/app', '--repo-type', 'dataset', '--revision', 'x y'], /invalid revision 'x y'/],
      [['fetch', 'acme/both', '--repo-type', 'checkpoint', '--no-build'], /argument 'checkpoint' is invalid\. Allowed choices are model, dataset, space/],
    ] as const) {
      const r = await cli(...args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, says);
    }
    assert.deepEqual(suite.hub.requests, [], 'usage errors come before any request');
  });

  it('--token: used like HF_TOKEN, never printed, with a note to prefer the environment', async () => {
    const denied = await cli('ls', 'hf:acme/private', '--json');
    assert.equal(denied.code, 1);
    suite.hub.resetStats();
    const r = await cli('--debug', 'ls', 'hf:acme/private', '--json', '--token', GRANTED);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(GRANTED) && !r.stderr.includes(GRANTED), 'the token is never echoed');
    assert.match(r.stderr, /note: a token given with --token is visible to other users of this machine \(ps\) and kept in your shell history: prefer HF_TOKEN, or `hf auth login`/);
    assert.ok(suite.hub.requests.some((q) => q.url.startsWith('/api/models/acme/private') && q.authorized));
    // A token of another shape is hidden too (the Hub echoing it back in an error is printed as ***).
    const odd = await cli('--debug', 'ls', 'hf:acme/private', '--token', 'not-an-hf-shape-secret');
    assert.equal(odd.code, 1);
    assert.ok(!odd.stderr.includes('not-an-hf-shape-secret'), odd.stderr);
  });

  it('--local-dir is --out, and refuses to differ from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-habits-local-dir-'));
    try {
      const local = join(dir, 'model');
      writeFileSync(join(dir, 'file'), 'x');
      const both = await cli('fetch', 'acme/folders', 'config.json', '--local-dir', local, '--out', join(dir, 'other'));
      assert.equal(both.code, 2);
      assert.match(both.stderr, /^nix-hug: error: --local-dir and --out name different values/);
      const noBuild = await cli('fetch', 'acme/folders', '--local-dir', local, '--no-build');
      assert.equal(noBuild.code, 2, 'checked as --out is');
      assert.match(noBuild.stderr, /--out needs a build/);
      const notEmpty = await cli('fetch', 'acme/folders', '--local-dir', dir);
      assert.equal(notEmpty.code, 2, notEmpty.stderr);
      assert.match(notEmpty.stderr, /--override/);
      assert.deepEqual(readdirSync(dir), ['file']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('nix-hug help COMMAND is COMMAND --help; an unknown one is a usage error', async () => {
    for (const path of [['fetch'], ['ls'], ['store', 'key'], ['completion']]) {
      const help = await cli('help', ...path);
      const flag = await cli(...path, '--help');
      assert.equal(help.code, 0, help.stderr);
      assert.equal(help.stdout, flag.stdout, path.join(' '));
      assert.match(help.stdout, new RegExp(`^Usage: nix-hug ${path.join(' ')} `));
    }
    const top = await cli('help');
    assert.equal(top.code, 0);
    assert.equal(top.stdout, (await cli('--help')).stdout);
    assert.match(top.stdout, /^ {2}help \[command\.\.\.\] +show the help of a command/m);
    const fetchHelp = await cli('help', 'fetch');
    assert.match(fetchHelp.stdout, /^Usage: nix-hug fetch \[options\] <url> \[files\.\.\.\]/);
    assert.match(fetchHelp.stdout, /--revision <ref> +the same as --ref/);
    const unknown = await cli('help', 'nope');
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, "nix-hug: error: unknown command 'nope'\nhint: see 'nix-hug --help' for the commands\n");
  });
});

describe('legacy ids without an owner', () => {
  it('gpt2 is resolved through the API to its canonical id, said in a note and printed in the expression', async () => {
    suite.hub.resetStats();
    const ls = await cli('ls', 'gpt2', '--json');
    assert.equal(ls.code, 0, ls.stderr);
    const listed = JSON.parse(ls.stdout) as { repoId: string; type: string };
    assert.deepEqual([listed.repoId, listed.type], ['openai-community/gpt2', 'model']);
    assert.match(ls.stderr, /note: 'gpt2' is the model openai-community\/gpt2 on the Hub \(an id without its owner, which the Hub still answers for\): pinning openai-community\/gpt2\n/);
    // Only the identification uses the legacy id; every later request the canonical one.
    const later = suite.hub.requests.filter((q) => !/^\/api\/(models|datasets|spaces)\/gpt2$/.test(q.url));
    assert.ok(later.length > 0 && later.every((q) => q.url.includes('/openai-community/gpt2')), later.map((q) => q.url).join('\n'));

    for (const input of ['gpt2', 'hf:gpt2', 'hf://gpt2']) {
      const f = await cli('fetch', input, '--no-build');
      assert.equal(f.code, 0, f.stderr);
      assert.match(f.stdout, /^nix-hug-lib\.fetchModel \{\n {2}url = "openai-community\/gpt2";\n/, input);
    }
    const typed = await cli('fetch', 'gpt2', '--repo-type', 'model', '--no-build', '--json');
    assert.equal((JSON.parse(typed.stdout) as { repoId: string }).repoId, 'openai-community/gpt2');
  });

  it('datasets too (squad is rajpurkar/squad); an unknown one is not found, one line', async () => {
    for (const input of ['squad', 'datasets/squad', 'hf-datasets:squad']) {
      const r = await cli('fetch', input, '--no-build', '--json');
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { repoId: string; type: string; expression: string };
      assert.deepEqual([j.repoId, j.type], ['rajpurkar/squad', 'dataset'], input);
      assert.match(j.expression, /^nix-hug-lib\.fetchDataset \{\n {2}url = "rajpurkar\/squad";/);
    }
    const unknown = await cli('ls', 'gpt3');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^nix-hug: error: repository gpt3 not found on http:\/\/127\.0\.0\.1:\d+: it is neither a model, a dataset nor a Space\n/);
    const typed = await cli('ls', 'hf:squad');
    assert.equal(typed.code, 1, 'squad is a dataset, not a model');
    assert.match(typed.stderr, /model squad not found|squad/);
    const url = await cli('ls', 'https://huggingface.co/gpt2');
    assert.equal(url.code, 2);
    assert.match(url.stderr, /hint: for an id without an owner \(gpt2\), give the id alone: nix-hug ls gpt2;/);
  });
});
