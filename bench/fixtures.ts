/**
 * The repositories the bench serves from the Hub emulator, sized by the
 * config. Seeds include the sizes (and the scale datasets whether the run is
 * quick), so a quick run and a full run share no blob and no commit: their
 * store paths can be cleaned up independently.
 */
import type { FileSpec, HubOptions, RepoSpec } from '../hub-emulator/types.ts';
import type { BenchConfig } from './config.ts';

export const ORG = 'nixhug-bench';
export const MODEL = `${ORG}/model`;
export const FILTERS = `${ORG}/filters`;
/** The dataset of `n` files for the scale case. */
export const scaleRepo = (n: number) => `${ORG}/scale-${n}`;
/** The `i`-th of the small models pinned side by side in the offline-evaluation case. */
export const smallModel = (i: number) => `${ORG}/small-${String(i).padStart(3, '0')}`;
/** The tag of the model's first revision; `main` is the second one (only config.json changed). */
export const FIRST_REV_TAG = 'v1';

export function shardName(i: number, n: number): string {
  const w = Math.max(5, String(n).length);
  return `model-${String(i + 1).padStart(w, '0')}-of-${String(n).padStart(w, '0')}.safetensors`;
}

function modelRepo(c: BenchConfig): RepoSpec {
  const files: Record<string, FileSpec> = {
    'config.json': JSON.stringify({ model_type: 'llama', hidden_size: 4096, revision: 1 }, null, 2) + '\n',
  };
  for (let i = 0; i < c.shards; i++) {
    files[shardName(i, c.shards)] = { lfs: { size: c.shardSize, seed: `${MODEL}/${c.shardSize}/${i}` } };
  }
  const smallNames = ['README.md', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors.index.json'];
  // config.json and .gitattributes (written by the emulator) count among the small files.
  for (let i = 0; i < c.smallFiles - 2; i++) {
    const name = smallNames[i] ?? `extra/notes-${String(i).padStart(3, '0')}.txt`;
    files[name] = `${name}: small file ${i} of the bench model (${c.shardSize})\n`.repeat(20);
  }
  return {
    id: MODEL,
    commits: [
      { files, tags: [FIRST_REV_TAG] },
      { message: 'only config.json changes', files: { 'config.json': JSON.stringify({ model_type: 'llama', hidden_size: 4096, revision: 2 }, null, 2) + '\n' } },
    ],
  };
}

function filtersRepo(c: BenchConfig): RepoSpec {
  const files: Record<string, FileSpec> = { 'config.json': '{"model_type":"llama"}\n' };
  for (let i = 0; i < 4; i++) {
    files[`model-${i}.safetensors`] = { lfs: { size: c.filterSize, seed: `${FILTERS}/${c.filterSize}/st/${i}` } };
    files[`onnx/model-${i}.onnx`] = { lfs: { size: c.filterSize, seed: `${FILTERS}/${c.filterSize}/onnx/${i}` } };
  }
  return { id: FILTERS, commits: [{ files }] };
}

/** `n` files (README.md, .gitattributes, data in folders of 100); every 10th is a small LFS file (distinct content). */
function scaleDataset(n: number, salt: string): RepoSpec {
  const files: Record<string, FileSpec> = { 'README.md': `# ${n} files (${salt})\n` };
  for (let i = 0; i < n - 2; i++) {
    const dir = `data/part-${String(Math.floor(i / 100)).padStart(4, '0')}`;
    const id = String(i).padStart(6, '0');
    files[i % 10 === 9 ? `${dir}/shard-${id}.parquet` : `${dir}/rows-${id}.jsonl`] =
      i % 10 === 9 ? { lfs: { size: 1024, seed: `${ORG}/scale/${salt}/${n}/${i}` } } : `{"row":${i},"text":"bench row ${i}"}\n`;
  }
  return { id: scaleRepo(n), type: 'dataset', commits: [{ files }] };
}

/** A small model as most pins are: a config, a tokenizer, a README and one LFS weight (4 KiB). */
function smallModelRepo(i: number, salt: string): RepoSpec {
  return {
    id: smallModel(i),
    commits: [
      {
        files: {
          'config.json': JSON.stringify({ model_type: 'bert', index: i, salt }) + '\n',
          'tokenizer.json': '{"version":"1.0"}\n',
          'README.md': `# small model ${i}\n`,
          'model.safetensors': { lfs: { size: 4096, seed: `${ORG}/small/${salt}/${i}` } },
        },
      },
    ],
  };
}

/** The largest scale dataset: the one case 7 evaluates from a vendored manifest. */
export const largestScale = (c: BenchConfig) => Math.max(...c.scale);

export function benchHubOptions(c: BenchConfig): HubOptions {
  const repos: RepoSpec[] = [];
  const wants = (name: BenchConfig['only'][number]) => c.only.includes(name);
  const salt = c.quick ? 'quick' : 'full';
  if (wants('cold') || wants('network') || wants('warm') || wants('second-rev')) repos.push(modelRepo(c));
  if (wants('filters')) repos.push(filtersRepo(c));
  const scales = new Set(wants('scale') ? c.scale : []);
  if (wants('offline')) scales.add(largestScale(c));
  for (const n of scales) repos.push(scaleDataset(n, salt));
  if (wants('offline') || wants('lock')) for (let i = 0; i < c.models; i++) repos.push(smallModelRepo(i, salt));
  return { repos, pageSize: 1000 };
}
