/**
 * Every command of nix-hug, declared once: name, summary, arguments,
 * options, examples and where its handler lives. src/cli.ts builds the
 * commander program from this, and shell completions can be generated from
 * the same data (the `value` kinds say what a word completes to).
 *
 * Handlers are loaded on demand (`import()`), so `nix-hug --version` and
 * `--help` load nothing but commander and this file.
 */
import { NixHugError, UsageError } from '../errors.js';

/** What a value completes to in a shell. */
export type ValueKind = 'repo' | 'ref' | 'glob' | 'repo-path' | 'dir';

export interface OptionSpec {
  /** commander syntax: `--ref <ref>`, `-y, --yes`, `--no-build`. */
  flags: string;
  description: string;
  /** May be given several times; the values accumulate in an array. */
  repeatable?: boolean;
  value?: ValueKind;
}

export interface ArgumentSpec {
  name: string;
  description: string;
  required: boolean;
  value?: ValueKind;
  /** The only accepted words (completed by shells; `check` enforces them). */
  choices?: readonly string[];
}

export interface ExampleSpec {
  command: string;
  comment: string;
}

export interface CommandSpec {
  /** One word; subcommands are nested in `subcommands`. */
  name: string;
  summary: string;
  /** Longer text for `--help` (defaults to the summary). */
  description?: string;
  arguments: ArgumentSpec[];
  options: OptionSpec[];
  examples: ExampleSpec[];
  subcommands?: CommandSpec[];
  /** src/commands/<module>.ts and its export (default `run`), called as `fn(ctx, ...args, options)`. */
  handler?: { module: string; export?: string };
  /** Rules commander cannot express; throws UsageError. */
  check?: (args: readonly (string | undefined)[], options: Record<string, unknown>) => void;
}

/** Shells `nix-hug completion` writes scripts for. */
export const COMPLETION_SHELLS: readonly string[] = ['bash', 'zsh', 'fish'];

export const GLOBAL_OPTIONS: OptionSpec[] = [
  { flags: '--debug', description: 'log every HTTP request and nix command (tokens redacted); stack traces on errors' },
];

const REPO_ARGUMENT: ArgumentSpec = {
  name: 'url',
  description: 'repository: org/repo, hf:org/repo, datasets/org/name, hf-datasets:org/name or a https://huggingface.co/... URL',
  required: true,
  value: 'repo',
};

const REF_OPTION: OptionSpec = { flags: '--ref <ref>', description: 'branch, tag, commit or refs/pr/N (default: main, or the REF of a /tree/REF URL)', value: 'ref' };

const FILTER_OPTIONS: OptionSpec[] = [
  { flags: '--include <glob>', description: 'select LFS files matching GLOB (* any text, ? one character); repeatable', repeatable: true, value: 'glob' },
  { flags: '--exclude <glob>', description: 'leave out LFS files matching GLOB; repeatable, combines with --include', repeatable: true, value: 'glob' },
  { flags: '--file <path>', description: 'select exactly this file (any file, LFS or not); repeatable, not with --include/--exclude', repeatable: true, value: 'repo-path' },
];

export const COMMANDS: CommandSpec[] = [
  {
    name: 'fetch',
    summary: 'pin a repository and print its Nix expression',
    description:
      'Resolves the revision to a commit, hashes the file list, builds the result in the Nix store (unless --no-build) and prints a nix-hug-lib.fetchModel / fetchDataset expression on stdout.',
    arguments: [REPO_ARGUMENT],
    options: [
      REF_OPTION,
      ...FILTER_OPTIONS,
      { flags: '--out <dir>', description: 'also copy the result to DIR as regular, writable files', value: 'dir' },
      { flags: '--override', description: 'with --out: replace a non-empty DIR' },
      { flags: '--no-build', description: 'only print the expression; do not download or build' },
      { flags: '--json', description: 'print {url, type, rev, fileTreeHash, filters, storePath, expression} as JSON' },
      { flags: '--quiet', description: 'no progress or messages on stderr (errors still shown)' },
    ],
    examples: [
      { command: 'nix-hug fetch openai-community/gpt2', comment: 'pin the main branch and build it' },
      { command: "nix-hug fetch mistralai/Mistral-7B-Instruct-v0.3 --include '*.safetensors'", comment: 'only the safetensors weights' },
      { command: 'nix-hug fetch google-bert/bert-base-uncased --file config.json --no-build', comment: 'one file, expression only' },
      { command: 'nix-hug fetch datasets/rajpurkar/squad --ref refs/pr/1 > squad.nix', comment: 'a dataset at a pull request, saved to a file' },
      { command: 'nix-hug fetch org/repo --out ./model --override', comment: 'also copy the files to ./model' },
    ],
    handler: { module: 'fetch' },
    check: (_args, o) => {
      if (o.override === true && o.out === undefined) throw new UsageError('--override only makes sense with --out DIR', 'add --out DIR, or drop --override');
    },
  },
  {
    name: 'ls',
    summary: 'list the files of a repository without downloading',
    description:
      'Lists every file at the revision: size, LFS or not, and whether fetch would select it under the given filters, with totals and the fileTreeHash.',
    arguments: [REPO_ARGUMENT],
    options: [
      REF_OPTION,
      ...FILTER_OPTIONS,
      { flags: '--json', description: 'print {repoId, type, rev, files: [{path, size, lfs, selected}]} as JSON' },
      { flags: '--manifest', description: 'print the canonical manifest whose sha256 is the fileTreeHash' },
    ],
    examples: [
      { command: 'nix-hug ls mistralai/Mistral-7B-Instruct-v0.3', comment: 'every file with sizes' },
      { command: "nix-hug ls stanfordnlp/imdb --include '*.parquet'", comment: 'what --include would select' },
      { command: 'nix-hug ls https://huggingface.co/org/repo/tree/v1.0', comment: 'at a tag, from a page URL' },
      { command: "nix-hug ls datasets/org/name --json | jq '.files[].path'", comment: 'machine-readable' },
    ],
    handler: { module: 'ls' },
    check: (_args, o) => {
      if (o.json === true && o.manifest === true) throw new UsageError('--json and --manifest cannot be combined', 'choose one output format');
    },
  },
  {
    name: 'export',
    summary: 'build a repository and copy it to the persistent store',
    description: 'Builds like fetch, then copies the store path to the configured persist store and records it in the manifest, so it survives garbage collection.',
    arguments: [REPO_ARGUMENT],
    options: [REF_OPTION, ...FILTER_OPTIONS, { flags: '--quiet', description: 'no progress or messages on stderr (errors still shown)' }],
    examples: [
      { command: 'nix-hug export openai-community/gpt2', comment: 'persist the main branch' },
      { command: "nix-hug export openai-community/gpt2 --include '*.safetensors'", comment: 'persist a selection' },
    ],
    handler: { module: 'export' },
  },
  {
    name: 'import',
    summary: 'restore exported repositories into the Nix store',
    description: 'Copies an exported entry (the latest export unless --ref is given) or all entries (--all) back from the persist store.',
    arguments: [{ ...REPO_ARGUMENT, required: false }],
    options: [
      { flags: '--ref <ref>', description: 'the export of this branch, tag or commit', value: 'ref' },
      { flags: '--all', description: 'restore every entry of the manifest' },
      { flags: '-y, --yes', description: 'do not ask for confirmation (required without a TTY)' },
    ],
    examples: [
      { command: 'nix-hug import openai-community/gpt2', comment: 'restore the latest export' },
      { command: 'nix-hug import --all --yes', comment: 'restore everything, no prompt' },
    ],
    handler: { module: 'import' },
    check: (args, o) => {
      const url = args[0];
      if (o.all === true && url !== undefined) throw new UsageError('give either a repository or --all, not both', 'nix-hug import URL  or  nix-hug import --all');
      if (o.all !== true && url === undefined) throw new UsageError('missing repository (or --all)', 'nix-hug import URL  or  nix-hug import --all');
      if (o.all === true && o.ref !== undefined) throw new UsageError('--ref cannot be combined with --all', 'drop --ref, or name a repository');
    },
  },
  {
    name: 'store',
    summary: 'inspect the persistent store',
    arguments: [],
    options: [],
    examples: [
      { command: 'nix-hug store ls', comment: 'list exported entries and whether they are still in the Nix store' },
      { command: 'nix-hug store path', comment: 'print the configured persist location' },
      { command: 'nix-hug store key', comment: 'the signing key and nix.conf lines for other machines' },
    ],
    subcommands: [
      {
        name: 'ls',
        summary: "list exported entries with 'valid' or 'gc'd'",
        arguments: [],
        options: [{ flags: '--json', description: 'print the entries as JSON' }],
        examples: [{ command: 'nix-hug store ls', comment: 'every export and its state' }],
        handler: { module: 'store', export: 'ls' },
      },
      {
        name: 'path',
        summary: 'print the configured persist location',
        arguments: [],
        options: [],
        examples: [{ command: 'nix-hug store path', comment: 'e.g. /persist/models' }],
        handler: { module: 'store', export: 'path' },
      },
      {
        name: 'key',
        summary: "print this machine's signing key and the nix.conf lines that trust its exports",
        description:
          'Prints, as lines to add to nix.conf on other machines, the public key nix-hug signs exports with (generated on first use) and the persist store as a substituter: Nix there then substitutes exported models from the store, and `nix-hug import` verifies them without a prompt.',
        arguments: [],
        options: [
          { flags: '--substituter <url>', description: 'the persist store as other machines reach it (e.g. http://cache.lan:8080 for a directory served over HTTP); default: persist_dir' },
          { flags: '--json', description: 'print {publicKey, substituter, nixConf} as JSON' },
        ],
        examples: [
          { command: 'nix-hug store key', comment: 'the key and the nix.conf lines' },
          { command: 'nix-hug store key --substituter http://cache.lan:8080', comment: 'for a persist directory served over HTTP' },
        ],
        handler: { module: 'store', export: 'key' },
        check: (_args, o) => {
          const url = o.substituter;
          if (typeof url === 'string' && !/^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/i.test(url)) {
            throw new UsageError(`--substituter must be a Nix store URL such as http://cache.lan:8080, found '${url}'`, 'give the address other machines reach the persist store at');
          }
        },
      },
    ],
  },
  {
    name: 'completion',
    summary: 'print the shell completion script for bash, zsh or fish',
    description:
      'Prints a completion script for SHELL on stdout, generated from the same command list as this help. The Nix package installs all three already.',
    arguments: [{ name: 'shell', description: 'bash, zsh or fish', required: true, choices: COMPLETION_SHELLS }],
    options: [],
    examples: [
      { command: 'source <(nix-hug completion bash)', comment: 'bash: this shell (add the line to ~/.bashrc)' },
      { command: 'nix-hug completion zsh > ~/.zfunc/_nix-hug', comment: 'zsh: a folder in $fpath, before compinit' },
      { command: 'nix-hug completion fish > ~/.config/fish/completions/nix-hug.fish', comment: 'fish' },
    ],
    handler: { module: 'completion' },
    check: (args) => {
      const shell = args[0] ?? '';
      if (!COMPLETION_SHELLS.includes(shell)) throw new UsageError(`unknown shell '${shell}'`, `choose one of ${COMPLETION_SHELLS.join(', ')}`);
    },
  },
];

/** Loads a handler; a missing module or export is an internal error, not a crash. */
export type Handler = (...args: unknown[]) => Promise<void>;

export async function loadHandler(spec: CommandSpec, commandPath: string): Promise<Handler> {
  if (!spec.handler) throw new Error(`command ${commandPath} has no handler`);
  const { module, export: name = 'run' } = spec.handler;
  let mod: Record<string, unknown>;
  try {
    // A computed specifier: handlers are optional at type-check time and loaded only when used.
    const specifier = `./${module}.js`;
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(`${module}.`)) {
      throw new NixHugError(`the command '${commandPath}' is not available in this build of nix-hug`, 'update nix-hug');
    }
    throw err;
  }
  const fn = mod[name];
  if (typeof fn !== 'function') throw new Error(`src/commands/${module}.ts does not export ${name}()`);
  return fn as Handler;
}
