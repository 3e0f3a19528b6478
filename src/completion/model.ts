/**
 * The command tree as shells see it, derived from the registry (the single
 * definition of commands and options): every command path with its options
 * (commander's flag syntax parsed into names and whether a value follows),
 * subcommands and positional arguments. The bash, zsh and fish writers only
 * render this tree.
 */
import type { ArgumentSpec, CommandSpec, OptionSpec, ValueKind } from '../commands/registry.js';
import { optionKey } from '../commands/spec.js';

export interface CompletionOption {
  /** `-y`, `--yes`: short names first, as declared. */
  names: string[];
  description: string;
  /** A value follows the flag (`--ref <ref>`). */
  takesValue: boolean;
  /** The value's placeholder in the help (`ref` for `--ref <ref>`), or ''. */
  valueName: string;
  /** What that value is (`dir` and `file` complete to local paths, `lock-entry` to the lock file's names). */
  value?: ValueKind;
  /** The only values it takes (`--repo-type`). */
  choices?: readonly string[];
  repeatable: boolean;
  /** Ends option parsing for the run (`--help`, `--version`): nothing else is offered after it. */
  exclusive: boolean;
}

export interface CompletionArgument {
  name: string;
  required: boolean;
  /** Takes every remaining word. */
  variadic: boolean;
  value?: ValueKind;
  choices?: readonly string[];
}

export interface CompletionCommand {
  /** Words after `nix-hug`: [] for the program, ['store', 'ls'] for a subcommand. */
  path: string[];
  name: string;
  summary: string;
  options: CompletionOption[];
  arguments: CompletionArgument[];
  subcommands: CompletionCommand[];
}

/** The program's name as installed (the bin of package.json). */
export const PROGRAM = 'nix-hug';

// src/cli.ts adds these to the program and to every command (commander's own flags).
const HELP: OptionSpec = { flags: '-h, --help', description: 'show help' };
const VERSION: OptionSpec = { flags: '-V, --version', description: 'print the version' };

/** Parses commander flag syntax: `-y, --yes`, `--ref <ref>`, `--no-build`, `--file [path]`. */
export function parseFlags(flags: string): { names: string[]; takesValue: boolean; valueName: string } {
  const names: string[] = [];
  let valueName: string | null = null;
  for (const part of flags.split(/[ ,|]+/).filter((p) => p !== '')) {
    if (/^-{1,2}[A-Za-z0-9][A-Za-z0-9-]*$/.test(part)) names.push(part);
    else if (/^(<[^<>]+>|\[[^[\]]+\])$/.test(part)) valueName = part.slice(1, -1).replace(/\.\.\.$/, '');
    else throw new Error(`cannot read option flags ${JSON.stringify(flags)}`);
  }
  if (names.length === 0) throw new Error(`option flags without a name: ${JSON.stringify(flags)}`);
  return { names, takesValue: valueName !== null, valueName: valueName ?? '' };
}

function option(spec: OptionSpec, exclusive = false): CompletionOption {
  const { names, takesValue, valueName } = parseFlags(spec.flags);
  const out: CompletionOption = { names, description: spec.description, takesValue, valueName, repeatable: spec.repeatable === true, exclusive };
  if (spec.value !== undefined) out.value = spec.value;
  if (spec.choices !== undefined) out.choices = spec.choices;
  return out;
}

function argument(spec: ArgumentSpec): CompletionArgument {
  const out: CompletionArgument = { name: spec.name, required: spec.required, variadic: spec.variadic === true };
  if (spec.value !== undefined) out.value = spec.value;
  if (spec.choices !== undefined) out.choices = spec.choices;
  return out;
}

/** An alias (`--revision` for `--ref`) is one more name of its option: a shell offers neither once one was given. */
function withAliases(options: readonly OptionSpec[]): CompletionOption[] {
  const canonical = options.filter((o) => o.aliasOf === undefined);
  const out = canonical.map((o) => option(o));
  for (const alias of options.filter((o) => o.aliasOf !== undefined)) {
    const target = out[canonical.findIndex((o) => optionKey(o.flags) === alias.aliasOf)];
    if (target) target.names = [...target.names, ...parseFlags(alias.flags).names];
    else out.push(option(alias));
  }
  return out;
}

/**
 * The tree for `commands`. Global options (e.g. `--debug`) are accepted
 * after any command word too (commander reads parent options anywhere), so
 * every command lists them.
 */
export function completionTree(commands: readonly CommandSpec[], globalOptions: readonly OptionSpec[]): CompletionCommand {
  const globals = globalOptions.map((o) => option(o));
  const command = (spec: CommandSpec, path: string[]): CompletionCommand => ({
    path,
    name: spec.name,
    summary: spec.summary,
    options: [...withAliases(spec.options), ...globals, option(HELP, true)],
    arguments: spec.subcommands ? [] : spec.arguments.map(argument),
    subcommands: (spec.subcommands ?? []).map((sub) => command(sub, [...path, sub.name])),
  });
  return {
    path: [],
    name: PROGRAM,
    summary: 'Pin Hugging Face models and datasets into the Nix store',
    options: [...globals, option(VERSION, true), option(HELP, true)],
    arguments: [],
    subcommands: commands.map((c) => command(c, [c.name])),
  };
}

/**
 * The lock file's entry names, for shells to complete `update NAME`: the
 * `"name"` lines of `$NIX_HUG_LOCK`, else `./nix-hug.lock`, as nix-hug
 * writes them (one key per line, names never hold quotes or backslashes).
 */
export const LOCK_NAMES_SED = `sed -n 's/^      "name": "\\(.*\\)",$/\\1/p'`;

/** Every command of the tree, the program first, parents before children. */
export function allCommands(root: CompletionCommand): CompletionCommand[] {
  return [root, ...root.subcommands.flatMap(allCommands)];
}
