/**
 * The shape of a command declaration, and the types derived from it: the
 * options object and the positional arguments a handler receives. A flag's
 * key is computed from its syntax, at the type level and at run time by the
 * same rule commander follows (`--no-build` → build, `--dry-run` → dryRun),
 * so a renamed flag no longer compiles where its old name is read.
 */

/** What a value completes to in a shell. */
export type ValueKind = 'repo' | 'ref' | 'glob' | 'repo-path' | 'dir' | 'file' | 'lock-entry';

export interface OptionSpec {
  /** commander syntax: `--ref <ref>`, `-y, --yes`, `--no-build`. */
  readonly flags: string;
  readonly description: string;
  /** May be given several times; the values accumulate in an array. */
  readonly repeatable?: boolean;
  readonly value?: ValueKind;
  /** The only accepted values (commander refuses others; shells complete them). */
  readonly choices?: readonly string[];
  /**
   * Another name of the option stored under this key (`--revision` for
   * `ref`, as `hf download` calls it): src/cli.ts moves the value there, so
   * handlers only ever see the canonical key.
   */
  readonly aliasOf?: string;
  /**
   * A secret handed to the run as this environment variable (`--token` as
   * HF_TOKEN), where settings are read from: never printed, never seen by a
   * handler, and the user is told that the environment is the safer place.
   */
  readonly env?: string;
}

export interface ArgumentSpec {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
  /** Takes every remaining word (`NAME...`); the handler gets an array (empty when none and not required). */
  readonly variadic?: boolean;
  readonly value?: ValueKind;
  /** The only accepted words (completed by shells; `check` enforces them). */
  readonly choices?: readonly string[];
  /**
   * The words are more values of the repeatable option with this key
   * (`fetch REPO config.json` = `fetch REPO --file config.json`), not an
   * argument of the handler.
   */
  readonly appendTo?: string;
}

export interface ExampleSpec {
  readonly command: string;
  readonly comment: string;
}

/** The long name of a flag (`--ref <ref>` → ref, `-y, --yes` → yes), else its short one. */
type FlagName<F extends string> = F extends `${string}--${infer R}`
  ? R extends `${infer N} ${string}`
    ? N
    : R
  : F extends `-${infer S}`
    ? S extends `${infer N} ${string}`
      ? N
      : S
    : never;
type Camel<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S;

/** The key a flag's value is stored under. */
export type OptionKey<F extends string> = FlagName<F> extends `no-${infer N}` ? Camel<N> : Camel<FlagName<F>>;

type TakesValue<F extends string> = F extends `${string}<${string}>${string}` | `${string}[${string}]${string}` ? true : false;

/**
 * A value flag: a string (absent: undefined), or every value given (absent: []); a switch: a boolean (absent: false, `--no-x`: true).
 * An optional value (`--hf-cache [dir]`) is `true` when the flag comes alone.
 */
type OptionValue<O extends OptionSpec> = TakesValue<O['flags']> extends true
  ? O extends { repeatable: true }
    ? string[]
    : O['flags'] extends `${string}[${string}]${string}`
      ? string | true | undefined
      : O extends { choices: readonly (infer C extends string)[] }
        ? C | undefined
        : string | undefined
  : boolean;

/** The values of every declaration stored under `K` (`--hf-cache [dir]` and `--no-hf-cache` share one). */
type ValueUnder<S, K extends string> = S extends OptionSpec ? (OptionKey<S['flags']> extends K ? OptionValue<S> : never) : never;

/** Each declaration's key, one at a time; aliases and environment options reach no handler. */
type KeyOf<S> = S extends { aliasOf: string } | { env: string } ? never : S extends OptionSpec ? OptionKey<S['flags']> : never;

/** The options object of a command with these option declarations. */
export type OptionsOf<O extends readonly OptionSpec[]> = { [K in KeyOf<O[number]>]: ValueUnder<O[number], K> };

type ArgumentValue<A> = A extends ArgumentSpec
  ? A extends { variadic: true }
    ? string[]
    : (A extends { choices: readonly (infer C extends string)[] } ? C : string) | (A extends { required: true } ? never : undefined)
  : never;

/** The positional arguments of a command with these argument declarations, in order (words appended to an option left out). */
export type ArgsOf<A extends readonly unknown[]> = A extends readonly [infer H, ...infer T]
  ? H extends { appendTo: string }
    ? ArgsOf<T>
    : [ArgumentValue<H>, ...ArgsOf<T>]
  : [];

export interface CommandSpec<O extends readonly OptionSpec[] = readonly OptionSpec[], A extends readonly ArgumentSpec[] = readonly ArgumentSpec[]> {
  /** One word; subcommands are nested in `subcommands`. */
  readonly name: string;
  readonly summary: string;
  /** Longer text for `--help` (defaults to the summary). */
  readonly description?: string;
  readonly arguments: A;
  readonly options: O;
  readonly examples: readonly ExampleSpec[];
  readonly subcommands?: readonly CommandSpec[];
  /** Rules commander cannot express (the arguments as typed: checking them is its job); throws UsageError. */
  check?(args: ArgsOf<A>, options: OptionsOf<O>): void;
}

/** A command declaration with its literal flags and arguments kept, for `OptionsOf` and `ArgsOf`. */
export function command<const O extends readonly OptionSpec[], const A extends readonly ArgumentSpec[]>(spec: CommandSpec<O, A>): CommandSpec<O, A> {
  return spec;
}

/**
 * Examples written as `--help` shows them, one a line: `COMMAND  # COMMENT`
 * (blank lines and indentation ignored).
 */
export function examples(text: string): readonly ExampleSpec[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const at = line.lastIndexOf('  # ');
      if (at < 0) throw new Error(`an example needs "  # " before its comment: ${line}`);
      return { command: line.slice(0, at).trimEnd(), comment: line.slice(at + 4) };
    });
}

/** Option declarations shared by several commands, their literal flags kept. */
export function options<const O extends readonly OptionSpec[]>(list: O): O {
  return list;
}

/** The key of a flag at run time: the rule of `OptionKey` (and of commander's `attributeName()`). */
export function optionKey(flags: string): string {
  const long = /--([A-Za-z0-9][A-Za-z0-9-]*)/.exec(flags)?.[1] ?? /^-([A-Za-z0-9]+)/.exec(flags)?.[1];
  if (long === undefined) throw new Error(`cannot read option flags ${JSON.stringify(flags)}`);
  return long.replace(/^no-/, '').replace(/-([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
}

/** Whether a value follows the flag (`--ref <ref>`, `--file [path]`). */
export function takesValue(flags: string): boolean {
  return /<[^<>]+>|\[[^[\]]+\]/.test(flags);
}
