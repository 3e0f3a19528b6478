/**
 * GGUF quantizations of a repository: which `.gguf` files hold which
 * quantization (read from their names, as the Hub and huggingface.js do), and
 * which files `org/repo:QUANT` — llama.cpp's `-hf` form — selects: every file
 * of that quantization, split shards (`…-00001-of-00003.gguf`) and files in
 * subfolders included. Projector files (`mmproj-…`) are listed apart: they
 * are not a quantization of the model.
 */
import { NixHugError, UsageError } from './errors.js';
import { literalRegex } from './filters.js';
import type { Filters, RepoFile } from './types.js';
import { humanSize } from './ui/size.js';
import { quote } from './ui/text.js';

/**
 * Quantization types as GGUF file names spell them (ggml's file types, and
 * the `_XL` names some uploaders add), longest first so that `Q4_0_4_4` is
 * not read as `Q4_0`. A size variation (`_S`, `_M`, `_L`, `_XL`) may follow.
 */
const BASE_TYPES = [
  'F32', 'F16', 'BF16',
  'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q8_1', 'Q4_0_4_4', 'Q4_0_4_8', 'Q4_0_8_8',
  'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'Q8_K',
  'IQ1_S', 'IQ1_M', 'IQ2_XXS', 'IQ2_XS', 'IQ2_S', 'IQ2_M', 'IQ3_XXS', 'IQ3_XS', 'IQ3_S', 'IQ3_M', 'IQ4_NL', 'IQ4_XS',
  'TQ1_0', 'TQ2_0', 'MXFP4', 'NVFP4', 'Q1_0',
].sort((a, b) => b.length - a.length);

/** A label standing alone between non-alphanumerics: `model-Q4_K_M.gguf`, `Q8_0/…`, `x.UD-Q4_K_XL-00001-of-00002.gguf`. */
const LABEL = new RegExp(`(?<![A-Z0-9])(UD-)?(${BASE_TYPES.join('|')})(_[A-Z]+)?(?![A-Z0-9])`, 'g');

const SHARD = /-(\d{5})-of-(\d{5})\.gguf$/i;

export function isGguf(path: string): boolean {
  return /\.gguf$/i.test(path);
}

/** A multimodal projector (`mmproj-…gguf`), which llama.cpp loads beside a model. */
export function isProjector(path: string): boolean {
  return isGguf(path) && /^mmproj/i.test(path.slice(path.lastIndexOf('/') + 1));
}

/** The last quantization label in `text` (upper case), or null. */
function lastLabel(text: string): string | null {
  const all = text.toUpperCase().match(LABEL);
  return all ? all[all.length - 1]! : null;
}

/**
 * The quantization of a `.gguf` file, from its name, else from the nearest
 * folder that names one (`Q4_K_M/model-00001-of-00002.gguf`); null when no
 * part of the path names one.
 */
export function quantOf(path: string): string | null {
  const parts = path.split('/');
  for (let i = parts.length - 1; i >= 0; i--) {
    const label = lastLabel(parts[i]!);
    if (label) return label;
  }
  return null;
}

/** The file a split belongs to: its path without `-0000N-of-0000M`. */
function modelKey(path: string): string {
  return path.replace(SHARD, '.gguf');
}

export interface QuantGroup {
  /** `Q4_K_M`; null for `.gguf` files whose name names no quantization. */
  quant: string | null;
  files: RepoFile[];
  bytes: number;
}

export interface GgufSummary {
  /** Model files by quantization, in the order of their first file; unlabelled last. */
  groups: QuantGroup[];
  /** `mmproj-…` files. */
  projectors: RepoFile[];
}

/** The repository's `.gguf` files grouped by quantization. */
export function summarizeGguf(files: readonly RepoFile[]): GgufSummary {
  const byQuant = new Map<string | null, RepoFile[]>();
  const projectors: RepoFile[] = [];
  for (const f of files) {
    if (!isGguf(f.path)) continue;
    if (isProjector(f.path)) {
      projectors.push(f);
      continue;
    }
    const q = quantOf(f.path);
    const list = byQuant.get(q) ?? [];
    list.push(f);
    byQuant.set(q, list);
  }
  const groups = [...byQuant.entries()]
    .map(([quant, list]) => ({ quant, files: list, bytes: list.reduce((n, f) => n + f.size, 0) }))
    .sort((a, b) => (a.quant === null ? 1 : 0) - (b.quant === null ? 1 : 0));
  return { groups, projectors };
}

function describeQuants(summary: GgufSummary): string {
  const named = summary.groups.filter((g) => g.quant !== null);
  if (named.length === 0) return 'it has no .gguf file whose name names a quantization';
  return `its quantizations: ${named.map((g) => `${g.quant} (${g.files.length === 1 ? '1 file' : `${g.files.length} files`}, ${humanSize(g.bytes)})`).join(', ')}`;
}

/**
 * The files `:QUANT` selects: every model `.gguf` file of that quantization
 * (compared without regard to case), which must all belong to one model —
 * one file, or the shards of one split. Unknown, ambiguous and incomplete
 * selections are errors listing what the repository has.
 */
export function selectQuant(files: readonly RepoFile[], quant: string, what: string, reference: string): RepoFile[] {
  const summary = summarizeGguf(files);
  const wanted = quant.toUpperCase();
  const group = summary.groups.find((g) => g.quant === wanted);
  if (!group) {
    const hint = summary.groups.some((g) => g.quant !== null)
      ? `write ${reference}:QUANT with one of them; \`nix-hug ls ${reference}\` lists the files of each`
      : `select files with --include or --file instead; \`nix-hug ls ${reference}\` lists them`;
    throw new NixHugError(`${what} has no GGUF quantization ${quote(quant)}: ${describeQuants(summary)}`, hint);
  }
  const models = new Map<string, RepoFile[]>();
  for (const f of group.files) {
    const key = modelKey(f.path);
    models.set(key, [...(models.get(key) ?? []), f]);
  }
  if (models.size > 1) {
    throw new NixHugError(
      `${what}: the quantization ${wanted} is ambiguous, ${models.size} models have it: ${[...models.keys()].map(quote).join(', ')}`,
      `choose one with --include (e.g. --include ${quote(group.files[0]!.path)}) instead of :${quant}`,
    );
  }
  const [key, chosen] = [...models.entries()][0]!;
  const shards = chosen.map((f) => SHARD.exec(f.path)).filter((m) => m !== null);
  if (shards.length > 0) {
    const total = Number(shards[0]![2]);
    const have = new Set(shards.map((m) => Number(m[1])));
    const missing = Array.from({ length: total }, (_, i) => i + 1).filter((n) => !have.has(n));
    if (missing.length > 0 || shards.length !== chosen.length) {
      throw new NixHugError(
        `${what}: the split ${quote(key)} (${wanted}) is incomplete: shard(s) ${missing.map((n) => String(n).padStart(5, '0')).join(', ') || '?'} of ${String(total).padStart(5, '0')} are missing`,
        `the repository is missing files; \`nix-hug ls ${reference}\` lists what is there`,
      );
    }
  }
  return chosen;
}

/** `:QUANT` picks files itself; `--file` (exact paths) cannot be added to that. */
export function checkQuantFilters(quant: string | undefined, filters: Filters | null): void {
  if (quant !== undefined && filters?.files) {
    throw new UsageError(`--file cannot be combined with :${quant}`, 'the quantization selects its .gguf files; add other LFS files with --include GLOB, or drop :QUANT and list every file with --file');
  }
}

/**
 * The filters that fetch exactly `chosen` among the LFS files, plus what
 * `--include` adds and minus what `--exclude` removes: the chosen paths
 * become anchored literal regexes, so the expression names each file.
 */
export function quantFilters(filters: Filters | null, chosen: readonly RepoFile[]): Filters {
  const include = [...new Set([...chosen.map((f) => literalRegex(f.path)), ...(filters?.include ?? [])])];
  return { include, ...(filters?.exclude ? { exclude: filters.exclude } : {}) };
}
