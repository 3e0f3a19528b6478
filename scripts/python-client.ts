/**
 * `npm run check:python -- [--python PYTHON]`: the real Python
 * huggingface_hub (what `hf download`, transformers and
 * sentence-transformers use) against this project, on one machine:
 *
 * 1. the Hub emulator: snapshot_download, revisions, files metadata, the
 *    commit history, tree pagination, and the error classes of unknown,
 *    gated and private repos;
 * 2. the caches nix-hug makes: `buildCache` of the pins `nix-hug fetch`
 *    printed (built by real Nix) and `fetch --hf-cache DIR`, read offline
 *    (snapshot_download, hf_hub_download, try_to_load_from_cache,
 *    scan_cache_dir, and transformers' AutoConfig when transformers is
 *    installed) and checked against the Hub's checksums
 *    (verify_repo_checksums, what `hf cache verify` runs).
 *
 * huggingface_hub is not a dependency of the project and is not on npm, so
 * this is a maintainer's check, not part of `npm test`; it prints one line
 * per check and `N passed, N failed`, and exits 1 on any failure, 2 when
 * PYTHON cannot import huggingface_hub (with how to install it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startHub } from '../hub-emulator/server.ts';
import type { RepoType } from '../hub-emulator/types.ts';
import { cliEnv, nixBuild, nixTestEnv, requireBuild, run, runCli, sha256Hex, STUB_DIR } from '../test/support/index.ts';

const root = resolve(import.meta.dirname, '..');
const CHECKS = join(root, 'scripts', 'python-client', 'checks.py');

const MODEL = 'check/model';
const DATASET = 'check/big';
const GATED = 'check/gated';
const PRIVATE = 'check/private';
const TOKEN = 'hf_checkgranted';
const OTHER_TOKEN = 'hf_checknotgranted';
/** Above the Hub's 1000 entries a page: the tree comes in two. */
const DATASET_FILES = 1205;

function pythonFrom(argv: string[]): string {
  const i = argv.indexOf('--python');
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : (argv.find((a) => a.startsWith('--python='))?.slice('--python='.length) ?? 'python3');
}

const python = pythonFrom(process.argv.slice(2));
const probe = spawnSync(python, ['-c', 'import huggingface_hub; print(huggingface_hub.__version__)'], { encoding: 'utf8' });
if (probe.status !== 0) {
  process.stderr.write(
    `check:python: ${python} cannot import huggingface_hub.\n` +
      'Install it beside the checkout, then name that Python:\n' +
      '  python3 -m venv /tmp/hf-client && /tmp/hf-client/bin/pip install huggingface_hub\n' +
      '  npm run check:python -- --python /tmp/hf-client/bin/python\n',
  );
  process.exit(2);
}
requireBuild();

// Filters select among LFS files (git files always come): `--include '*.parquet'` leaves out extra.bin only.
const dataset: Record<string, string | { lfs: { size: number } }> = { 'README.md': '# big\n', 'data/blob.parquet': { lfs: { size: 5000 } }, 'data/extra.bin': { lfs: { size: 3000 } } };
const LEFT_OUT = 'data/extra.bin';
for (let i = 0; i < DATASET_FILES - 3; i++) dataset[`data/part-${String(i).padStart(5, '0')}.json`] = `{"i": ${i}}\n`;

const hub = await startHub({
  tokens: { [TOKEN]: { grants: [GATED, PRIVATE] }, [OTHER_TOKEN]: { grants: [] } },
  repos: [
    {
      id: MODEL,
      commits: [
        { files: { 'config.json': '{"model_type": "bert"}\n', 'model.safetensors': { lfs: { size: 70_000 } }, 'tokenizer/tokenizer.json': '{}\n' }, tags: ['v1'] },
        { files: { 'config.json': '{"model_type": "bert", "v": 2}\n' }, prs: [1] },
      ],
    },
    { id: GATED, gated: 'auto', commits: [{ files: { 'config.json': '{}\n', 'weights.bin': { lfs: { size: 3000 } } } }] },
    { id: PRIVATE, private: true, commits: [{ files: { 'config.json': '{}\n' } }] },
    { id: DATASET, type: 'dataset', commits: [{ files: dataset }] },
  ],
});
const scratch = mkdtempSync(join(tmpdir(), 'nix-hug-check-python-'));
const nix = nixTestEnv();
const cli = cliEnv();
const env: NodeJS.ProcessEnv = { ...cli.env, ...nix.env, HOME: cli.env.HOME, HF_ENDPOINT: hub.url, NIX_HUG_NIXPKGS: STUB_DIR };
let passed = 0;
let failed = 0;

/** Every file of a repo at a commit (or main), with its sha256 (LFS files: their real bytes). */
function filesOf(id: string, type: RepoType, commit?: string, keep: (path: string) => boolean = () => true): Record<string, string> {
  const files = hub.repo(id, type).filesAt(commit);
  return Object.fromEntries([...files].filter(([p]) => keep(p)).map(([p, bytes]) => [p, sha256Hex(bytes)]));
}

/** Runs checks.py and counts its lines. */
async function pythonChecks(mode: 'hub' | 'cache', expect: unknown, extra: NodeJS.ProcessEnv = {}): Promise<void> {
  const r = await run(python, [CHECKS, mode, JSON.stringify(expect)], { ...env, HF_HUB_DISABLE_PROGRESS_BARS: '1', HF_HUB_DISABLE_TELEMETRY: '1', HF_HOME: join(scratch, 'hf-home'), ...extra });
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    // `-- …`: a check it could not make (an optional library missing), said and not counted.
    process.stdout.write(`${line}\n`);
    if (line.startsWith('ok ')) passed++;
    else if (line.startsWith('FAIL ')) failed++;
  }
  if (r.code !== 0) {
    failed++;
    process.stdout.write(`FAIL checks.py ${mode} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}\n`);
  }
}

/** `nix-hug fetch ARGS`: the pinned expression it prints, with the library named `lib` (as nixBuild has it). */
async function fetchPin(args: string[]): Promise<string> {
  const r = await runCli(['fetch', ...args, '--no-link', '--quiet'], env);
  if (r.code !== 0) throw new Error(`nix-hug fetch ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return `(${r.stdout.trim().replace(/^nix-hug-lib\./, 'lib.')})`;
}

try {
  process.stdout.write(`# huggingface_hub ${probe.stdout.trim()} (${python}) against the Hub emulator at ${hub.url}\n`);
  const model = hub.repo(MODEL);
  const [v1, pr] = [model.refs.v1!, model.refs['refs/pr/1']!];
  const text = (commit: string, path: string) => new TextDecoder().decode(model.filesAt(commit).get(path));
  const gatedFiles = filesOf(GATED, 'model');
  await pythonChecks('hub', {
    model: {
      id: MODEL,
      files: filesOf(MODEL, 'model'),
      tag: 'v1',
      tagConfig: text(v1, 'config.json'),
      prConfig: text(pr, 'config.json'),
      lfs: { 'model.safetensors': filesOf(MODEL, 'model')['model.safetensors'] },
      history: [...model.commits].reverse(),
    },
    dataset: { id: DATASET, fileCount: Object.keys(filesOf(DATASET, 'dataset')).length },
    gated: { id: GATED, lfsPath: 'weights.bin', sha256: gatedFiles['weights.bin'] },
    private: { id: PRIVATE },
    token: TOKEN,
    otherToken: OTHER_TOKEN,
  });

  process.stdout.write('# the caches nix-hug makes: buildCache of the printed pins (real Nix), and fetch --hf-cache DIR\n');
  const written = join(scratch, 'hf-cache');
  const modelPin = await fetchPin([MODEL, '--hf-cache', written]);
  const datasetPin = await fetchPin([`datasets/${DATASET}`, '--include', '*.parquet', '--hf-cache', written]);
  const built = await nixBuild(`lib.buildCache { models = [ ${modelPin} ]; datasets = [ ${datasetPin} ]; }`, env);
  if (!built.outPath) throw new Error(`nix build of the cache failed:\n${built.stderr}`);
  const repos = [
    { id: MODEL, type: 'model', commit: model.commits[1], ref: 'main', files: filesOf(MODEL, 'model'), notSelected: [], modelType: 'bert' },
    {
      id: DATASET,
      type: 'dataset',
      commit: hub.repo(DATASET, 'dataset').commits[0],
      ref: 'main',
      files: filesOf(DATASET, 'dataset', undefined, (p) => p !== LEFT_OUT),
      notSelected: [LEFT_OUT],
    },
  ];
  for (const [label, cache] of [
    ['buildCache', built.outPath],
    ['fetch --hf-cache', written],
  ] as const) {
    process.stdout.write(`# ${label}: ${cache}\n`);
    // Offline except verify_repo_checksums, which asks the Hub for its checksums on purpose.
    await pythonChecks('cache', { repos }, { HF_HUB_CACHE: cache });
  }
} catch (err) {
  failed++;
  process.stdout.write(`FAIL ${(err as Error).message}\n`);
} finally {
  await hub.close();
  nix.cleanup();
  cli.cleanup();
  rmSync(scratch, { recursive: true, force: true });
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
