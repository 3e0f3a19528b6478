/**
 * The bench's settings: defaults from issue 7, `--quick` for a run under a
 * minute, and every size overridable by a flag or an environment variable
 * (flags win). Sizes accept K/M/G suffixes (powers of 1024).
 */
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

/** Nix 2.26, where this project's machines have it (CI installs it there). */
const MODERN_NIX = '/opt/nix-2.26/bin';

/** The nix on PATH, resolved (null when there is none). */
function nixOnPath(): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir || '.', 'nix');
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  return null;
}

/** PATH's nix, and Nix 2.26 beside it when installed and not the same one. */
function defaultNixDirs(): string[] {
  const modern = join(MODERN_NIX, 'nix');
  return ['PATH', ...(existsSync(modern) && nixOnPath() !== realpathSync(modern) ? [MODERN_NIX] : [])];
}

export const CASES = ['cold', 'network', 'warm', 'second-rev', 'scale', 'startup', 'filters', 'offline', 'lock'] as const;
export type CaseName = (typeof CASES)[number];

export interface BenchConfig {
  /** Repetitions of every timed case (median/min/max over them). */
  reps: number;
  /** LFS shards of the case-1 model, and the size of each. */
  shards: number;
  shardSize: number;
  /** Small (git) files of the case-1 model. */
  smallFiles: number;
  /** Size of each of the 4 safetensors and 4 ONNX files of the filters case. */
  filterSize: number;
  /** File counts of the scale datasets (1 file in 10 is LFS); the growth ratio compares the last with the first. */
  scale: number[];
  /** Runs of `nix-hug --version`. */
  startupReps: number;
  /** Small models pinned side by side in the offline-evaluation case, and the entries of the lock-file case. */
  models: number;
  /** Folders holding the `nix` the fetch cases (1, 2) and each offline-evaluation measurement (7) run with, side by side; `PATH`: the one on PATH. */
  nix: string[];
  /** A Python with huggingface_hub for the cold fetch's Python peer; `auto`: python3 if it has it; `none`: no such peer. */
  python: string;
  /** Cases to run (all by default). */
  only: CaseName[];
  /** Where the Markdown results go; null: nowhere. */
  out: string | null;
  /** The settings came from --quick (said so in the results). */
  quick: boolean;
}

export const DEFAULTS: Omit<BenchConfig, 'out'> = {
  reps: 3,
  shards: 4,
  shardSize: 256 << 20,
  smallFiles: 20,
  filterSize: 64 << 20,
  scale: [1000, 10_000],
  startupReps: 20,
  models: 50,
  nix: defaultNixDirs(),
  python: 'auto',
  only: [...CASES],
  quick: false,
};

/** `--quick`: the same cases with small sizes (under a minute here). */
export const QUICK: Omit<BenchConfig, 'out' | 'only' | 'nix' | 'python'> = {
  reps: 1,
  shards: 4,
  shardSize: 16 << 20,
  smallFiles: 20,
  filterSize: 4 << 20,
  scale: [100, 1000],
  startupReps: 5,
  models: 10,
  quick: true,
};

export const USAGE = `usage: npm run bench -- [options]   (or: tsx bench/run.ts [options])

  --quick               small sizes, 1 repetition (under a minute)
  --reps N              repetitions of each timed case (default 3)         NIX_HUG_BENCH_REPS
  --shards N            LFS shards of the cold-fetch model (default 4)     NIX_HUG_BENCH_SHARDS
  --shard-size SIZE     size of each shard (default 256M)                  NIX_HUG_BENCH_SHARD_SIZE
  --small-files N       small git files of that model (default 20)         NIX_HUG_BENCH_SMALL_FILES
  --filter-size SIZE    each of the 4+4 files of the filters case (64M)    NIX_HUG_BENCH_FILTER_SIZE
  --scale N,N           file counts of the scale datasets (1000,10000)     NIX_HUG_BENCH_SCALE
  --startup-reps N      runs of \`nix-hug --version\` (default 20)           NIX_HUG_BENCH_STARTUP_REPS
  --models N            small models of cases 7 and 8 (50)               NIX_HUG_BENCH_MODELS
  --nix DIR,...         the Nix of each fetch and case-7 measurement ('PATH': the one NIX_HUG_BENCH_NIX
                        on PATH; default PATH and /opt/nix-2.26/bin if there)
  --python PYTHON       a Python with huggingface_hub: the cold fetch's    NIX_HUG_BENCH_PYTHON
                        Python peer (default auto: python3 if it has it; none: leave it out)
  --only CASE,...       ${CASES.join(', ')}                                NIX_HUG_BENCH_ONLY
  --out FILE            results file (default bench/RESULTS.md; '-' for none) NIX_HUG_BENCH_OUT
SIZE: bytes, or a number with K, M or G (binary units), e.g. 256M.
Flags override environment variables; explicit sizes override --quick.`;

export class ConfigError extends Error {}

/** `256M` → 268435456. */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)i?B?$/i.exec(text.trim());
  if (!m) throw new ConfigError(`${what}: not a size: ${JSON.stringify(text)} (e.g. 256M, 4096)`);
  const unit = { '': 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 }[(m[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G'];
  const n = Math.round(Number(m[1]) * unit);
  if (n < 1) throw new ConfigError(`${what}: must be at least 1 byte`);
  return n;
}

function parseCount(text: string, what: string, min = 1): number {
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(`${what}: not a whole number: ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < min) throw new ConfigError(`${what}: must be at least ${min}`);
  return n;
}

function parseList(text: string, what: string): number[] {
  const xs = text.split(',').map((s) => parseCount(s, what, 10));
  if (xs.length === 0) throw new ConfigError(`${what}: give at least one count`);
  return xs;
}

function parseNixDirs(text: string): string[] {
  const dirs = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (dirs.length === 0) throw new ConfigError('--nix: give at least one folder (or PATH)');
  for (const d of dirs) if (d !== 'PATH' && !existsSync(`${d}/nix`)) throw new ConfigError(`--nix: ${d}/nix does not exist`);
  return dirs;
}

function parseCases(text: string): CaseName[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(CASES as readonly string[]).includes(n)) throw new ConfigError(`--only: unknown case ${JSON.stringify(n)} (cases: ${CASES.join(', ')})`);
  }
  return CASES.filter((c) => names.includes(c));
}

type Key = 'reps' | 'shards' | 'shard-size' | 'small-files' | 'filter-size' | 'scale' | 'startup-reps' | 'models' | 'nix' | 'python' | 'only' | 'out';
const KEYS: Key[] = ['reps', 'shards', 'shard-size', 'small-files', 'filter-size', 'scale', 'startup-reps', 'models', 'nix', 'python', 'only', 'out'];
const envName = (k: Key) => `NIX_HUG_BENCH_${k.toUpperCase().replace(/-/g, '_')}`;

/** Settings from argv (without node and the script) and the environment; `null` means `--help` was asked. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv, defaultOut: string): BenchConfig | null {
  const given = new Map<Key, string>();
  for (const k of KEYS) {
    const v = env[envName(k)];
    if (v !== undefined && v !== '') given.set(k, v);
  }
  let quick = env.NIX_HUG_BENCH_QUICK === '1';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return null;
    if (arg === '--quick') {
      quick = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const key = m?.[1] as Key | undefined;
    if (!m || !key || !KEYS.includes(key)) throw new ConfigError(`unknown option ${JSON.stringify(arg)}\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new ConfigError(`--${key} needs a value`);
    given.set(key, value);
  }
  const base = quick ? { ...DEFAULTS, ...QUICK } : DEFAULTS;
  const get = <T>(k: Key, parse: (s: string) => T, fallback: T): T => {
    const v = given.get(k);
    return v === undefined ? fallback : parse(v);
  };
  const out = get('out', (s) => (s === '-' ? null : s), defaultOut as string | null);
  return {
    reps: get('reps', (s) => parseCount(s, '--reps'), base.reps),
    shards: get('shards', (s) => parseCount(s, '--shards'), base.shards),
    shardSize: get('shard-size', (s) => parseSize(s, '--shard-size'), base.shardSize),
    smallFiles: get('small-files', (s) => parseCount(s, '--small-files', 0), base.smallFiles),
    filterSize: get('filter-size', (s) => parseSize(s, '--filter-size'), base.filterSize),
    scale: get('scale', (s) => parseList(s, '--scale'), base.scale),
    startupReps: get('startup-reps', (s) => parseCount(s, '--startup-reps'), base.startupReps),
    models: get('models', (s) => parseCount(s, '--models'), base.models),
    nix: get('nix', parseNixDirs, DEFAULTS.nix),
    python: get('python', (s) => s.trim() || 'auto', DEFAULTS.python),
    only: get('only', parseCases, base.only),
    out,
    quick,
  };
}
