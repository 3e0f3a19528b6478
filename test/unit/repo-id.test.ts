import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/errors.ts';
import { parseRepoUrl, validateRef, type ParsedRepoUrl } from '../../src/hub/repo-id.ts';
import { parseTarget } from '../../src/hub/resolve.ts';

const EP = 'http://127.0.0.1:8123';
const m = (id: string, ref?: string): ParsedRepoUrl => (ref === undefined ? { type: 'model', repoId: id } : { type: 'model', repoId: id, ref });
const d = (id: string, ref?: string): ParsedRepoUrl => (ref === undefined ? { type: 'dataset', repoId: id } : { type: 'dataset', repoId: id, ref });
const bare = (id: string): ParsedRepoUrl => ({ type: null, repoId: id });
const s = (id: string, ref?: string): ParsedRepoUrl => (ref === undefined ? { type: 'space', repoId: id } : { type: 'space', repoId: id, ref });

const VALID: [string, ParsedRepoUrl][] = [
  ['org/repo', bare('org/repo')],
  ['openai-community/gpt2', bare('openai-community/gpt2')],
  ['mistralai/Mistral-7B-Instruct-v0.3', bare('mistralai/Mistral-7B-Instruct-v0.3')],
  ['a/b', bare('a/b')],
  ['_org/_name_', bare('_org/_name_')],
  ['Org.Name/repo_name-1.0', bare('Org.Name/repo_name-1.0')],
  [`o/${'x'.repeat(96)}`, bare(`o/${'x'.repeat(96)}`)],
  ['hf:org/repo', m('org/repo')],
  ['hf:stas/tiny-random-llama-2', m('stas/tiny-random-llama-2')],
  ['hf-datasets:rajpurkar/squad', d('rajpurkar/squad')],
  ['datasets/rajpurkar/squad', d('rajpurkar/squad')],
  ['https://huggingface.co/org/repo', m('org/repo')],
  ['https://huggingface.co/org/repo/', m('org/repo')],
  ['http://huggingface.co/org/repo', m('org/repo')],
  ['HTTPS://HuggingFace.co/org/repo', m('org/repo')],
  ['https://www.huggingface.co/org/repo', m('org/repo')],
  ['https://hf.co/org/repo', m('org/repo')],
  ['https://huggingface.co/org/repo.git', m('org/repo')],
  ['https://huggingface.co/org/repo?library=transformers', m('org/repo')],
  ['https://huggingface.co/org/repo#model-card', m('org/repo')],
  ['https://huggingface.co/org/repo/tree/main', m('org/repo', 'main')],
  ['https://huggingface.co/org/repo/tree/v1.0/onnx', m('org/repo', 'v1.0')],
  ['https://huggingface.co/org/repo/blob/main/config.json', m('org/repo', 'main')],
  ['https://huggingface.co/org/repo/resolve/0123456789abcdef0123456789abcdef01234567/model.safetensors', m('org/repo', '0123456789abcdef0123456789abcdef01234567')],
  ['https://huggingface.co/org/repo/tree/refs%2Fpr%2F1', m('org/repo', 'refs/pr/1')],
  ['https://huggingface.co/org/repo/tree/refs/pr/7/sub/dir', m('org/repo', 'refs/pr/7')],
  ['https://huggingface.co/datasets/org/name/tree/refs/convert/parquet', d('org/name', 'refs/convert/parquet')],
  ['https://huggingface.co/org/repo/blob/refs%2Fpr%2F12/a/b/c.txt?download=true', m('org/repo', 'refs/pr/12')],
  ['https://huggingface.co/datasets/org/name', d('org/name')],
  ['https://huggingface.co/datasets/org/name/tree/main/data', d('org/name', 'main')],
  ['https://huggingface.co/datasets/org/name/resolve/dev/train.parquet', d('org/name', 'dev')],
  [`${EP}/org/repo`, m('org/repo')],
  [`${EP}/datasets/org/name/tree/v2`, d('org/name', 'v2')],
  ['https://127.0.0.1:8123/org/repo', m('org/repo')],
  // Legacy ids without an owner: the Hub resolves them to their canonical org/name.
  ['gpt2', bare('gpt2')],
  ['bert-base-uncased', bare('bert-base-uncased')],
  ['hf:gpt2', m('gpt2')],
  ['hf://gpt2', m('gpt2')],
  ['datasets/squad', d('squad')],
  ['hf-datasets:imdb', d('imdb')],
  ['spaces/app', s('app')],
  // Spaces
  ['spaces/org/app', s('org/app')],
  ['hf-spaces:org/app', s('org/app')],
  ['https://huggingface.co/spaces/org/app', s('org/app')],
  ['https://huggingface.co/spaces/org/app/tree/main', s('org/app', 'main')],
  ['https://huggingface.co/spaces/org/app/blob/v2/app.py', s('org/app', 'v2')],
  ['https://huggingface.co/spaces/org/app/resolve/refs%2Fpr%2F4/app.py', s('org/app', 'refs/pr/4')],
  [`${EP}/spaces/org/app.git`, s('org/app')],
  // hf:// URIs
  ['hf://org/repo', m('org/repo')],
  ['hf://org/repo/', m('org/repo')],
  ['hf://org/repo@v1.0', m('org/repo', 'v1.0')],
  ['hf://datasets/org/name', d('org/name')],
  ['hf://datasets/org/name@refs/convert/parquet', d('org/name', 'refs/convert/parquet')],
  ['hf://spaces/org/app@refs/pr/3', s('org/app', 'refs/pr/3')],
  ['hf://org/repo@refs%2Fpr%2F12', m('org/repo', 'refs/pr/12')],
  ['hf://org/repo@0123456789abcdef0123456789abcdef01234567/', m('org/repo', '0123456789abcdef0123456789abcdef01234567')],
  // GGUF quantizations
  ['org/repo-GGUF:Q4_K_M', { type: null, repoId: 'org/repo-GGUF', quant: 'Q4_K_M' }],
  ['hf:org/repo:q8_0', { type: 'model', repoId: 'org/repo', quant: 'q8_0' }],
  ['org/repo:UD-Q4_K_XL', { type: null, repoId: 'org/repo', quant: 'UD-Q4_K_XL' }],
];

// Each must be a UsageError; the second element is a substring of the reason.
const INVALID: [string, string][] = [
  ['', 'empty'],
  ['gpt2.git', ".git'"],
  ['hf:-gpt2', 'start and end'],
  ['gp--t2', "'--' or '..'"],
  ['..', "'..' is not a repository name"],
  ['a/b/c', 'exactly two parts'],
  ['/repo', 'empty'],
  ['org/', 'empty'],
  ['org//repo', 'empty'],
  ['../repo', "'..' is not a repository organization"],
  ['org/..', "'..' is not a repository name"],
  ['./repo', "'.' is not a repository organization"],
  ['org/re po', 'whitespace'],
  [' org/repo', 'whitespace'],
  ['org/repo\n', 'control character'],
  ['org/re\u0000po', 'control character'],
  ['org/"repo"', 'quote'],
  ["org/it's", 'quote'],
  ['org/`id`', 'quote'],
  ['org/${x}', "'${'"],
  ['org\\repo', 'backslash'],
  ['org/repo;rm', "character ';'"],
  ['org/répo', "character 'é'"],
  ['org/repo$', "character '$'"],
  ['org/-repo', 'start and end'],
  ['org/repo.', 'start and end'],
  ['org/re--po', "'--' or '..'"],
  ['org/re..po', "'--' or '..'"],
  [`o/${'x'.repeat(97)}`, 'longer than 96'],
  ['org/repo.git', ".git'"],
  ['org/repo?x=1', 'query string'],
  ['org/repo#frag', 'query string'],
  ['datasets/.squad', 'start and end'],
  ['hf-datasets:a/b/c', 'exactly two parts'],
  ['hf-model:org/repo', 'unknown prefix'],
  ['ftp://huggingface.co/org/repo', 'only http://'],
  ['git@huggingface.co:org/repo', 'unknown prefix'],
  ['https://example.com/org/repo', 'unknown host'],
  ['https://user:pw@huggingface.co/org/repo', 'unknown host'],
  ['https://huggingface.co/', 'does not name'],
  ['https://huggingface.co/org', 'does not name'],
  ['https://huggingface.co/org/repo/discussions/1', "unsupported page 'discussions'"],
  ['https://huggingface.co/org/repo/tree', 'no revision'],
  ['https://huggingface.co/org/../repo', "'.' and '..'"],
  ['https://huggingface.co/spaces/org', 'does not name'],
  ['hf-spaces:a/b/c', 'exactly two parts'],
  ['hf://models/org/repo', 'hf://models/'],
  ['hf://buckets/org/b', 'hf://buckets/'],
  ['hf://org/repo@main/config.json', "'config.json' is a path inside the repository"],
  ['hf://org/repo@', 'empty'],
  ['hf://org/repo@a..b', "'..'"],
  ['hf://org/repo@%E0%A4%A', 'percent-encoding'],
  ['hf://org/repo?x=1', 'query string'],
  ['hf://org/repo:Q4_K_M', 'no :QUANT'],
  ['s3://bucket/org/repo', 'only http://, https:// and hf://'],
  ['org/repo:', "after ':' is not a GGUF quantization label"],
  ['org/repo:-x', "after ':' is not a GGUF quantization label"],
  ['org/repo:Q4/x', "after ':' is not a GGUF quantization label"],
  ['https://huggingface.co/org/repo/tree/%E0%A4%A', 'percent-encoding'],
  ['https://huggingface.co/org/repo/tree/a..b', "'..'"],
  ['https://huggingface.co/org/repo/tree/%20x', 'whitespace'],
  ['https://huggingface.co//org/repo', 'empty segment'],
  ['https://127.0.0.1:9999/org/repo', 'unknown host'],
];

describe('parseRepoUrl', () => {
  it(`accepts ${VALID.length} valid forms`, () => {
    assert.ok(VALID.length >= 30);
    for (const [input, expected] of VALID) {
      assert.deepEqual(parseRepoUrl(input, { endpoint: EP }), expected, input);
    }
  });

  it(`rejects ${INVALID.length} invalid inputs with a UsageError naming the input`, () => {
    assert.ok(INVALID.length >= 30);
    for (const [input, reason] of INVALID) {
      assert.throws(
        () => parseRepoUrl(input, { endpoint: EP }),
        (err: unknown) => {
          assert.ok(err instanceof UsageError, `${JSON.stringify(input)}: ${String(err)}`);
          assert.equal(err.exitCode, 2);
          assert.ok(err.message.includes(reason), `${JSON.stringify(input)}: "${err.message}" lacks "${reason}"`);
          assert.ok(!/[\n\r\u0000]/.test(err.message), 'the message stays on one line');
          assert.ok(err.hint, 'there is a hint');
          return true;
        },
      );
    }
  });

  it('accepts the HF_ENDPOINT host only when configured, and honours its path prefix', () => {
    assert.throws(() => parseRepoUrl(`${EP}/org/repo`), UsageError);
    assert.deepEqual(parseRepoUrl('https://mirror.example/hf/org/repo/tree/v1', { endpoint: 'https://mirror.example/hf' }), m('org/repo', 'v1'));
    assert.throws(() => parseRepoUrl('https://mirror.example/org/repo', { endpoint: 'https://mirror.example/hf' }), /HF_ENDPOINT path/);
  });
});

describe('validateRef and parseTarget', () => {
  it('accepts branches, tags, commits and PR refs', () => {
    for (const ref of ['main', 'v1.0', 'release/2024-01', 'refs/pr/1', '0123456789abcdef0123456789abcdef01234567', 'feature_x']) {
      assert.equal(validateRef(ref), ref);
    }
  });

  it('rejects unsafe refs', () => {
    for (const ref of ['', 'a b', 'a\tb', 'x\n', '..', 'a..b', '-x', '/main', 'main/', 'a//b', 'a.lock', '.hidden', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[', 'a\\b', '"x"', '${x}', 'a@{1}', '@', 'x.']) {
      assert.throws(() => validateRef(ref), UsageError, JSON.stringify(ref));
    }
  });

  it('--ref wins over the URL REF; the default is main', () => {
    const endpoint = EP;
    assert.equal(parseTarget('org/repo', undefined, endpoint).ref, 'main');
    assert.equal(parseTarget('https://huggingface.co/org/repo/tree/dev', undefined, endpoint).ref, 'dev');
    assert.equal(parseTarget('https://huggingface.co/org/repo/tree/dev', 'v2', endpoint).ref, 'v2');
    assert.throws(() => parseTarget('org/repo', 'a b', endpoint), UsageError);
  });
});
