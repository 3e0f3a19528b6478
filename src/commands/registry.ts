/**
 * Every command of nix-hug, declared once: name, summary, arguments,
 * options and examples. src/cli.ts builds the commander program from this,
 * shell completions are generated from it (the `value` kinds say what a word
 * completes to), and each handler's options and arguments are typed from it
 * (`FetchOptions`… below; src/commands/handlers.ts links each command to
 * its handler). The handlers themselves are loaded on demand, so
 * `nix-hug --version` and `--help` load nothing but commander and this file.
 */
import { UsageError } from '../errors.js';
import { command, examples, options, type ArgsOf, type ArgumentSpec, type CommandSpec, type OptionSpec, type OptionsOf } from './spec.js';

export type { ArgumentSpec, CommandSpec, ExampleSpec, OptionSpec, ValueKind } from './spec.js';

/** Shells `nix-hug completion` writes scripts for: the one list (completion/script.ts has a writer for each). */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof COMPLETION_SHELLS)[number];

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { flags: '--debug', description: 'log every HTTP request and every nix and git command line, with its exit code and duration (tokens redacted); stack traces on errors' },
];

const REPO_ARGUMENT = {
  name: 'url',
  description: 'repository: org/repo, datasets/org/name, spaces/org/name, hf:/hf-datasets:/hf-spaces:org/name, hf://[datasets/|spaces/]org/name[@REV], org/repo:QUANT (GGUF) or a https://huggingface.co/... URL',
  required: true,
  value: 'repo',
} as const satisfies ArgumentSpec;

const REF_OPTION = { flags: '--ref <ref>', description: 'branch, tag, commit or refs/pr/N (default: main, or the REF of a /tree/REF URL)', value: 'ref' } as const satisfies OptionSpec;

/** Habits of `hf download` users: its names for --ref and --out, --repo-type, --token, file names after the repository. */
const REVISION_OPTION = { flags: '--revision <ref>', description: 'the same as --ref (the name hf download uses)', value: 'ref', aliasOf: 'ref' } as const satisfies OptionSpec;

/** The values of `--repo-type`, as `hf download --repo-type` takes them. */
export const REPO_TYPE_NAMES = ['model', 'dataset', 'space'] as const;

const REPO_TYPE_OPTION = {
  flags: '--repo-type <type>',
  description: 'model, dataset or space: what a bare org/name is, instead of asking the Hub (as hf download --repo-type)',
  choices: REPO_TYPE_NAMES,
} as const satisfies OptionSpec;

const TOKEN_OPTION = {
  flags: '--token <token>',
  description: 'Hugging Face token for this run, as HF_TOKEN (prefer HF_TOKEN or `hf auth login`: a command line is visible to other users)',
  env: 'HF_TOKEN',
} as const satisfies OptionSpec;

const FILES_ARGUMENT = {
  name: 'files',
  description: 'exact paths of files to select, the same as --file for each (as hf download REPO FILE...)',
  required: false,
  value: 'repo-path',
  variadic: true,
  appendTo: 'file',
} as const satisfies ArgumentSpec;

const FILTER_OPTIONS = options([
  { flags: '--include <glob>', description: 'select LFS files matching GLOB (* any text, ? one character); repeatable', repeatable: true, value: 'glob' },
  { flags: '--exclude <glob>', description: 'leave out LFS files matching GLOB; repeatable, combines with --include', repeatable: true, value: 'glob' },
  { flags: '--file <path>', description: 'select exactly this file (any file, LFS or not); repeatable, not with --include/--exclude', repeatable: true, value: 'repo-path' },
]);

/** For commands that pin: filters that select no LFS file are an error unless asked for. */
const ALLOW_EMPTY_OPTION = { flags: '--allow-empty', description: 'pin even when --include/--exclude select none of the LFS files (the weights)' } as const satisfies OptionSpec;

/** `--override` replaces the `--out` directory: it means nothing without one. */
function overrideNeedsOut(o: { override: boolean; out: string | undefined }): void {
  if (o.override && o.out === undefined) throw new UsageError('--override only makes sense with --out DIR', 'add --out DIR, or drop --override');
}

/** `ls` prints the table, JSON or the canonical manifest: one of them. */
function oneOutputFormat(o: { json: boolean; manifest: boolean }): void {
  if (o.json && o.manifest) throw new UsageError('--json and --manifest cannot be combined', 'choose one output format');
}

const QUIET_OPTION = { flags: '--quiet', description: 'no progress or messages on stderr (errors still shown)' } as const satisfies OptionSpec;

const NO_HF_CACHE_OPTION = {
  flags: '--no-hf-cache',
  description: 'do not take LFS files from the local Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub)',
} as const satisfies OptionSpec;

/** `ls` lists a repository or the lock file (`--lock`): one of them, and the file flags only with a repository. */
function repositoryOrLock(url: string | undefined, o: { lock: string | true | undefined; ref: string | undefined; include: string[]; exclude: string[]; file: string[]; manifest: boolean }): void {
  if (o.lock === undefined) {
    if (url === undefined) throw new UsageError('missing repository (or --lock)', 'nix-hug ls URL  or  nix-hug ls --lock [FILE]');
    return;
  }
  if (url !== undefined) throw new UsageError('give either a repository or --lock, not both', 'nix-hug ls URL  or  nix-hug ls --lock [FILE]');
  const flag = o.ref !== undefined ? '--ref' : o.include.length ? '--include' : o.exclude.length ? '--exclude' : o.file.length ? '--file' : o.manifest ? '--manifest' : null;
  if (flag) throw new UsageError(`${flag} is about a repository's files; it cannot be combined with --lock`, 'nix-hug ls --lock [FILE] [--json]');
}

/** A dry run builds and writes nothing: the options that build or write make no sense with it. */
function dryRunAlone(o: { dryRun: boolean; build: boolean; out: string | undefined; hfCache: string | boolean | undefined }): void {
  if (!o.dryRun) return;
  const clash = o.build === false ? '--no-build' : o.out !== undefined ? '--out' : typeof o.hfCache === 'string' || o.hfCache === true ? '--hf-cache' : null;
  if (clash) throw new UsageError(`--dry-run cannot be combined with ${clash}: a dry run builds and writes nothing`, `drop ${clash}, or drop --dry-run`);
}

export const FETCH = command({
  name: 'fetch',
  summary: 'pin a repository and print its Nix expression',
  description:
    'Resolves the revision to a commit, hashes the file list and the git checkout (from a clone of the git objects only: no LFS file is downloaded for it), builds the result in the Nix store (unless --no-build) and prints a nix-hug-lib.fetchModel / fetchDataset / fetchSpace expression on stdout. org/repo:QUANT selects the .gguf files of one quantization plus every non-LFS file. ' +
    'The expression carries fileTreeHash, gitRepoHash and, for repositories of up to 200 files, the manifest inline: it then evaluates without any network (no git, no Hub). ' +
    'With --vendor DIR the manifest goes to DIR/<models|datasets|spaces>--ORG--NAME--<commit>.tsv instead, for any size, and the expression reads it by a path relative to the current folder: save the expression there (`nix-hug fetch ... --vendor nix-hug > model.nix`), or keep the two at the same relative place when you move them.',
  arguments: [REPO_ARGUMENT, FILES_ARGUMENT],
  options: [
    REF_OPTION,
    REVISION_OPTION,
    REPO_TYPE_OPTION,
    ...FILTER_OPTIONS,
    ALLOW_EMPTY_OPTION,
    { flags: '--out <dir>', description: 'also copy the result to DIR as regular, writable files', value: 'dir' },
    { flags: '--local-dir <dir>', description: 'the same as --out (the name hf download uses)', value: 'dir', aliasOf: 'out' },
    { flags: '--override', description: 'with --out: replace a non-empty DIR' },
    { flags: '--out-link <path>', description: 'keep the result from garbage collection with a symlink here (default: ./result, as nix build; none with --out)', value: 'dir' },
    { flags: '--no-link', description: 'make no symlink: the result is not a GC root' },
    { flags: '--vendor <dir>', description: 'write the manifest to a file in DIR and print an expression that reads it by a path relative to the current folder', value: 'dir' },
    { flags: '--no-build', description: 'only print the expression; do not download or build' },
    { flags: '--dry-run', description: 'say what would be downloaded, from where (Nix store, local Hugging Face cache, CDN) and how many bytes; change nothing' },
    // --hf-cache before --no-hf-cache: commander then leaves the option undefined when neither is given.
    { flags: '--hf-cache [dir]', description: 'also write the snapshot into a Hugging Face cache in its own layout (default: the local one)', value: 'dir' },
    NO_HF_CACHE_OPTION,
    { flags: '--json', description: 'print {url, repoId, endpoint, type, rev, fileTreeHash, gitRepoHash, manifest, manifestFile, filters, storePath, outLink, expression} as JSON' },
    QUIET_OPTION,
    TOKEN_OPTION,
  ],
  examples: examples(`
    nix-hug fetch openai-community/gpt2  # pin the main branch and build it
    nix-hug fetch openai-community/gpt2 config.json model.safetensors  # two files, named as with hf download
    nix-hug fetch datasets/stanfordnlp/imdb --vendor nix-hug > imdb.nix  # manifest in ./nix-hug/, read by imdb.nix: evaluates offline
    nix-hug fetch mistralai/Mistral-7B-Instruct-v0.3 --include '*.safetensors'  # only the safetensors weights
    nix-hug fetch google-bert/bert-base-uncased --file config.json --no-build  # one file, expression only
    nix-hug fetch datasets/rajpurkar/squad --ref refs/pr/1 > squad.nix  # a dataset at a pull request, saved to a file
    nix-hug fetch org/repo --out ./model --override  # also copy the files to ./model
    nix-hug fetch org/repo --out-link ./gpt2  # the GC root ./gpt2 instead of ./result
    nix-hug fetch bartowski/Qwen2.5-7B-Instruct-GGUF:Q4_K_M  # one GGUF quantization (all its shards), as llama.cpp's -hf names it
    nix-hug fetch spaces/gradio/hello_world  # a Space's files (fetchSpace)
    nix-hug fetch hf://datasets/rajpurkar/squad@refs%2Fconvert%2Fparquet  # an hf:// URI at a revision
    nix-hug fetch org/repo --dry-run  # what would come from the store, the local HF cache and the CDN
    nix-hug fetch org/repo --hf-cache  # also put it in ~/.cache/huggingface/hub for tools that read it
  `),
  check: (_args, o) => {
    overrideNeedsOut(o);
    dryRunAlone(o);
  },
});

export const LS = command({
  name: 'ls',
  summary: 'list the files of a repository without downloading',
  description:
    'Lists every file at the revision: size, LFS or not, and whether fetch would select it under the given filters, with totals and the fileTreeHash; GGUF files grouped by quantization.',
  arguments: [{ ...REPO_ARGUMENT, required: false }],
  options: [
    REF_OPTION,
    REVISION_OPTION,
    REPO_TYPE_OPTION,
    ...FILTER_OPTIONS,
    { flags: '--lock [file]', description: "instead of a repository, list the lock file's entries (default: $NIX_HUG_LOCK, else ./nix-hug.lock)", value: 'file' },
    { flags: '--json', description: 'print {repoId, type, endpoint, ref, rev, fileTreeHash, filters, ggufQuants, files: [{path, size, lfs, selected}]} as JSON (with --lock: {lock, entries})' },
    { flags: '--manifest', description: 'print the canonical manifest whose sha256 is the fileTreeHash' },
    TOKEN_OPTION,
  ],
  examples: examples(`
    nix-hug ls mistralai/Mistral-7B-Instruct-v0.3  # every file with sizes
    nix-hug ls stanfordnlp/imdb --include '*.parquet'  # what --include would select
    nix-hug ls https://huggingface.co/org/repo/tree/v1.0  # at a tag, from a page URL
    nix-hug ls datasets/org/name --json | jq '.files[].path'  # machine-readable
    nix-hug ls bartowski/Qwen2.5-7B-Instruct-GGUF  # the GGUF files grouped by quantization
    nix-hug ls org/repo-GGUF:Q8_0  # what the :Q8_0 quantization selects
    nix-hug ls --lock  # the entries of ./nix-hug.lock
  `),
  check: (args, o) => {
    oneOutputFormat(o);
    repositoryOrLock(args[0], o);
  },
});

const LOCK_OPTION = { flags: '--lock <file>', description: 'the lock file (default: $NIX_HUG_LOCK, else ./nix-hug.lock)', value: 'file' } as const satisfies OptionSpec;

/** Entry names: every remaining word. */
function entryNames(description: string, required: boolean) {
  return { name: 'names', description, required, variadic: true, value: 'lock-entry' } as const satisfies ArgumentSpec;
}

export const ADD = command({
  name: 'add',
  summary: 'pin a repository and record it in the lock file',
  description:
    'Pins like fetch (the ref resolved to a commit, fileTreeHash, gitRepoHash and the manifest), builds it unless --no-build, and records it in the lock file (./nix-hug.lock, --lock FILE or NIX_HUG_LOCK), which is created when missing. ' +
    'The entry follows the ref (default main) for `nix-hug update`; a --ref that is a 40-hex commit pins it for good. ' +
    'Manifests of up to 200 files go into the lock; larger ones into FILE.d/ beside it (commit both). In Nix: `(nix-hug-lib.fromLock ./nix-hug.lock).models.NAME`. ' +
    'A name, or a repository with the same filters, already in the lock is refused unless --force, which replaces that entry.',
  arguments: [REPO_ARGUMENT],
  options: [
    REF_OPTION,
    REVISION_OPTION,
    REPO_TYPE_OPTION,
    ...FILTER_OPTIONS,
    ALLOW_EMPTY_OPTION,
    { flags: '--name <name>', description: "the entry's name (default: the repository's name); letters, digits, '_', '-', '.'" },
    LOCK_OPTION,
    { flags: '--force', description: 'replace an entry with the same name, or the same repository and filters' },
    { flags: '--no-build', description: 'record the pin without downloading or building' },
    NO_HF_CACHE_OPTION,
    { flags: '--json', description: 'print the recorded entry as JSON' },
    QUIET_OPTION,
    TOKEN_OPTION,
  ],
  examples: examples(`
    nix-hug add openai-community/gpt2  # pin main as 'gpt2' and build it
    nix-hug add mistralai/Mistral-7B-Instruct-v0.3 --include '*.safetensors' --name mistral  # only the safetensors weights, as models.mistral
    nix-hug add datasets/stanfordnlp/imdb --ref v1.0 --no-build  # a dataset at a tag, recorded without a download
    nix-hug add org/repo --ref 0123456789abcdef0123456789abcdef01234567  # pinned to a commit: update leaves it
  `),
});

export const UPDATE = command({
  name: 'update',
  summary: 'move lock entries to the newest commit of their ref',
  description:
    'Asks the Hub once per entry whether its branch or tag has moved. An entry that did not move stays byte for byte the same; a moved one is pinned again and built (only LFS files that changed are downloaded) unless --no-build. ' +
    "Prints one line per entry: 'unchanged', or the old and new commits with the LFS bytes that differ. A repository that is gone (or a deleted ref) is reported and its entry kept; the exit code is then 1.",
  arguments: [entryNames('entries to update (default: all)', false)],
  options: [
    LOCK_OPTION,
    { flags: '--no-build', description: 'record the new pins without downloading or building' },
    { flags: '--dry-run', description: 'only say what would change (like outdated, with exit code 0)' },
    NO_HF_CACHE_OPTION,
    { flags: '--json', description: 'print {lock, entries: [{name, state, rev, newRev, lfsFiles, lfsBytes, updated, storePath, error}]} as JSON' },
    QUIET_OPTION,
    TOKEN_OPTION,
  ],
  examples: examples(`
    nix-hug update  # every entry that follows a ref
    nix-hug update gpt2 mistral --no-build  # two entries, pins only
    nix-hug update --dry-run  # what would change
  `),
});

export const OUTDATED = command({
  name: 'outdated',
  summary: 'list lock entries whose ref has moved (exit code 1 when one has)',
  description:
    'What update would change, without changing anything: one revision request per entry, then the LFS bytes that differ for each moved one. Exit code 1 when an entry moved or could not be checked (a repository gone, a ref deleted), 0 when all are current: for CI jobs and bots.',
  arguments: [entryNames('entries to check (default: all)', false)],
  options: [LOCK_OPTION, { flags: '--json', description: 'print {lock, entries: [{name, state, rev, newRev, lfsFiles, lfsBytes, error}]} as JSON' }, TOKEN_OPTION],
  examples: examples(`
    nix-hug outdated  # one line per entry
    nix-hug outdated --json | jq '.entries[] | select(.state == "moved") | .name'  # the names of moved entries
    nix-hug outdated || nix-hug update  # in CI: update when something moved
  `),
});

export const REMOVE = command({
  name: 'remove',
  summary: 'remove entries from the lock file',
  description: 'Removes the named entries (and their manifest files in FILE.d/) from the lock file. The store paths stay until garbage collection.',
  arguments: [entryNames('entries to remove', true)],
  options: [LOCK_OPTION],
  examples: examples(`
    nix-hug remove gpt2  # drop the entry 'gpt2'
    nix-hug remove a b --lock models.lock  # two entries of another lock file
  `),
});

export const EXPORT = command({
  name: 'export',
  summary: 'build a repository and copy it to the persistent store',
  description: 'Builds like fetch, then copies the store path to the configured persist store and records it in the export index kept in that store, so it survives garbage collection.',
  arguments: [REPO_ARGUMENT],
  options: [REF_OPTION, REVISION_OPTION, REPO_TYPE_OPTION, ...FILTER_OPTIONS, ALLOW_EMPTY_OPTION, NO_HF_CACHE_OPTION, QUIET_OPTION, TOKEN_OPTION],
  examples: examples(`
    nix-hug export openai-community/gpt2  # persist the main branch
    nix-hug export openai-community/gpt2 --include '*.safetensors'  # persist a selection
  `),
});

export const IMPORT = command({
  name: 'import',
  summary: 'restore exported repositories into the Nix store',
  description: 'Copies an exported entry (the latest export unless --ref is given) or all entries (--all) back from the persist store.',
  arguments: [{ ...REPO_ARGUMENT, required: false }],
  options: [
    { flags: '--ref <ref>', description: 'the export of this branch, tag or commit', value: 'ref' },
    { flags: '--all', description: 'restore every entry of the manifest' },
    { flags: '-y, --yes', description: 'do not ask for confirmation (required without a TTY)' },
  ],
  examples: examples(`
    nix-hug import openai-community/gpt2  # restore the latest export
    nix-hug import --all --yes  # restore everything, no prompt
  `),
  check: (args, o) => {
    const url = args[0];
    if (o.all === true && url !== undefined) throw new UsageError('give either a repository or --all, not both', 'nix-hug import URL  or  nix-hug import --all');
    if (o.all !== true && url === undefined) throw new UsageError('missing repository (or --all)', 'nix-hug import URL  or  nix-hug import --all');
    if (o.all === true && o.ref !== undefined) throw new UsageError('--ref cannot be combined with --all', 'drop --ref, or name a repository');
  },
});

export const STORE_LS = command({
  name: 'ls',
  summary: "list exported entries with 'valid' or 'gc'd'",
  description: "Lists every export recorded in the persist store, with 'valid' when its store path is in the local Nix store and 'gc'd' when garbage collection removed it (nix-hug import brings it back).",
  arguments: [],
  options: [{ flags: '--json', description: 'print the entries as JSON' }],
  examples: examples(`
    nix-hug store ls  # every export and its state
  `),
});

export const STORE_PATH = command({
  name: 'path',
  summary: 'print the configured persist location',
  description: 'Prints the persist store nix-hug exports to: NIX_HUG_PERSIST_DIR, else persist_dir in ~/.config/nix-hug/config.',
  arguments: [],
  options: [],
  examples: examples(`
    nix-hug store path  # e.g. /persist/models
  `),
});

export const STORE_KEY = command({
  name: 'key',
  summary: "print this machine's signing key and the nix.conf lines that trust its exports",
  description:
    'Prints, as lines to add to nix.conf on other machines, the public key nix-hug signs exports with (generated on first use) and the persist store as a substituter: Nix there then substitutes exported models from the store, and `nix-hug import` verifies them without a prompt.',
  arguments: [],
  options: [
    { flags: '--substituter <url>', description: 'the persist store as other machines reach it (e.g. http://cache.lan:8080 for a directory served over HTTP); default: persist_dir' },
    { flags: '--json', description: 'print {publicKey, substituter, nixConf} as JSON' },
  ],
  examples: examples(`
    nix-hug store key  # the key and the nix.conf lines
    nix-hug store key --substituter http://cache.lan:8080  # for a persist directory served over HTTP
  `),
  check: (_args, o) => {
    const url = o.substituter;
    if (typeof url === 'string' && !/^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/i.test(url)) {
      throw new UsageError(`--substituter must be a Nix store URL such as http://cache.lan:8080, found '${url}'`, 'give the address other machines reach the persist store at');
    }
  },
});

export const STORE = command({
  name: 'store',
  summary: 'inspect the persistent store',
  description:
    'Shows what export has persisted: every recorded export and whether it is still in the Nix store (ls), where the persist store is (path), and the key and nix.conf lines other machines need to trust it (key).',
  arguments: [],
  options: [],
  examples: examples(`
    nix-hug store ls  # list exported entries and whether they are still in the Nix store
    nix-hug store path  # print the configured persist location
    nix-hug store key  # the signing key and nix.conf lines for other machines
  `),
  subcommands: [STORE_LS, STORE_PATH, STORE_KEY],
});

export const SCAN = command({
  name: 'scan',
  summary: 'list what the local Hugging Face cache holds, and what of it the Nix store has',
  description:
    'Reads the local Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub) without changing it: every repository with its type, revisions and refs, size and file count, and whether each revision is already in the Nix store. fetch takes LFS files from this cache instead of downloading them.',
  arguments: [],
  options: [{ flags: '--json', description: 'print {dir, repos: [{type, repoId, size, blobs, revisions: [{commit, refs, files, size, inNixStore, ...}]}], warnings} as JSON' }],
  examples: examples(`
    nix-hug scan  # every cached repository and revision
    HF_HUB_CACHE=/data/hf nix-hug scan --json  # another cache, machine-readable
  `),
});

export const COMPLETION = command({
  name: 'completion',
  summary: 'print the shell completion script for bash, zsh or fish',
  description:
    'Prints a completion script for SHELL on stdout, generated from the same command list as this help. The Nix package installs all three already.',
  arguments: [{ name: 'shell', description: 'bash, zsh or fish', required: true, choices: COMPLETION_SHELLS }],
  options: [],
  examples: examples(`
    source <(nix-hug completion bash)  # bash: this shell (add the line to ~/.bashrc)
    nix-hug completion zsh > ~/.zfunc/_nix-hug  # zsh: a folder in $fpath, before compinit
    nix-hug completion fish > ~/.config/fish/completions/nix-hug.fish  # fish
  `),
  check: (args) => {
    const shell = args[0] ?? '';
    if (!(COMPLETION_SHELLS as readonly string[]).includes(shell)) throw new UsageError(`unknown shell '${shell}'`, `choose one of ${COMPLETION_SHELLS.join(', ')}`);
  },
});

const WITH_HANDLERS: readonly CommandSpec[] = [FETCH, LS, ADD, UPDATE, OUTDATED, REMOVE, EXPORT, IMPORT, STORE, SCAN, COMPLETION];

/**
 * `nix-hug help COMMAND...` is `nix-hug COMMAND... --help`: src/cli.ts
 * rewrites it before parsing, so it has no handler. Declared for the
 * program's help and for shell completion.
 */
export const HELP = command({
  name: 'help',
  summary: 'show the help of a command (the same as COMMAND --help)',
  arguments: [{ name: 'command', description: 'a command, e.g. fetch or store key', required: false, variadic: true, choices: WITH_HANDLERS.map((c) => c.name) }],
  options: [],
  examples: examples(`
    nix-hug help fetch  # what nix-hug fetch --help shows
    nix-hug help store key  # a subcommand
  `),
});

export const COMMANDS: readonly CommandSpec[] = [...WITH_HANDLERS, HELP];

/** The commands that run a handler, by the words that name them. */
export const RUNNABLE = {
  fetch: FETCH,
  ls: LS,
  add: ADD,
  update: UPDATE,
  outdated: OUTDATED,
  remove: REMOVE,
  export: EXPORT,
  import: IMPORT,
  'store ls': STORE_LS,
  'store path': STORE_PATH,
  'store key': STORE_KEY,
  scan: SCAN,
  completion: COMPLETION,
} as const;
export type CommandPath = keyof typeof RUNNABLE;

/** The options object the handler of `P` receives. */
export type OptionsFor<P extends CommandPath> = OptionsOf<(typeof RUNNABLE)[P]['options']>;
/** Its positional arguments, in order. */
export type ArgsFor<P extends CommandPath> = ArgsOf<(typeof RUNNABLE)[P]['arguments']>;

export type FetchOptions = OptionsFor<'fetch'>;
export type LsOptions = OptionsFor<'ls'>;
export type AddOptions = OptionsFor<'add'>;
export type UpdateOptions = OptionsFor<'update'>;
export type OutdatedOptions = OptionsFor<'outdated'>;
export type RemoveOptions = OptionsFor<'remove'>;
export type ExportOptions = OptionsFor<'export'>;
export type ImportOptions = OptionsFor<'import'>;
export type StoreLsOptions = OptionsFor<'store ls'>;
export type StorePathOptions = OptionsFor<'store path'>;
export type StoreKeyOptions = OptionsFor<'store key'>;
export type ScanOptions = OptionsFor<'scan'>;
