/** Repositories the CLI tests list: folders, a 5,000-file dataset, gated/private repos, name clashes. */
import type { FileSpec, HubOptions, RepoSpec } from '../../hub-emulator/types.ts';

export const GRANTED = 'hf_grantedTokenForCliTests0000000001';
export const UNGRANTED = 'hf_ungrantedTokenForCliTests00000002';

export const folders: RepoSpec = {
  id: 'acme/folders',
  commits: [
    {
      files: {
        'config.json': '{"model_type":"llama"}\n',
        'README.md': '# folders\n',
        'tokenizer/vocab.txt': 'a\nb\nc\n',
        'onnx/model.onnx': { lfs: { size: 2_000 } },
        'weights/model-00001-of-00002.safetensors': { lfs: { size: 5_000 } },
        'weights/model-00002-of-00002.safetensors': { lfs: { size: 3_000 } },
        'docs/ünï code.md': 'unicode name\n',
      },
      tags: ['v1.0'],
    },
    { branch: 'dev', files: { 'dev-only.txt': 'dev\n' } },
    { branch: 'pr-src', files: { 'from-pr.bin': { lfs: { size: 100 } } }, prs: [1] },
  ],
};

export const BIG_COUNT = 5000;
const bigFiles: Record<string, FileSpec> = {};
for (let i = 0; i < BIG_COUNT; i++) bigFiles[`data/part-${String(Math.floor(i / 1000))}/row-${String(i).padStart(5, '0')}.jsonl`] = `{"i":${i}}\n`;

export const big: RepoSpec = { id: 'acme/big', type: 'dataset', gitattributes: 'none', commits: [{ files: bigFiles }] };

const tiny = (id: string, extra: Partial<RepoSpec> = {}): RepoSpec => ({ id, commits: [{ files: { 'config.json': '{}\n', 'w.bin': { lfs: { size: 10 } } } }], ...extra });

export const cliHubOptions: HubOptions = {
  repos: [
    folders,
    big,
    tiny('acme/both'),
    tiny('acme/both', { type: 'dataset' }),
    tiny('acme/app', { type: 'space' }),
    {
      id: 'acme/quants-GGUF',
      commits: [
        {
          files: {
            'README.md': '# quants\n',
            'quants-Q8_0.gguf': { lfs: { size: 8_000 } },
            'Q4_K_M/quants-Q4_K_M-00001-of-00003.gguf': { lfs: { size: 2_000 } },
            'Q4_K_M/quants-Q4_K_M-00002-of-00003.gguf': { lfs: { size: 2_000 } },
            'Q4_K_M/quants-Q4_K_M-00003-of-00003.gguf': { lfs: { size: 1_000 } },
            'mmproj-quants-f16.gguf': { lfs: { size: 500 } },
          },
        },
      ],
    },
    tiny('acme/twice', { type: 'dataset' }),
    tiny('acme/twice', { type: 'space' }),
    tiny('acme/gated', { gated: 'manual' }),
    tiny('acme/private', { private: true }),
    tiny('acme/flaky-500'),
    tiny('acme/flaky-429'),
    tiny('acme/drops'),
    tiny('acme/tree-503', { type: 'dataset' }),
    // Legacy ids without an owner, as the Hub keeps them for its oldest repos.
    tiny('openai-community/gpt2', { aliases: ['gpt2'] }),
    tiny('rajpurkar/squad', { type: 'dataset', aliases: ['squad'] }),
  ],
  tokens: { [GRANTED]: { grants: ['acme/gated', 'acme/private'] }, [UNGRANTED]: { grants: [] } },
  pageSize: 1000,
};
