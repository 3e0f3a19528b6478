/**
 * Help pages, rendered from the command registry alone. `nix-hug --help` and
 * `nix-hug COMMAND --help` print them without loading commander (it is most
 * of a help page's start-up time), and commander's own help output (the page
 * a usage error shows on stderr) calls the same function: one layout, that
 * of commander's default help (items in two columns, descriptions wrapped).
 */
import { COMMANDS, GLOBAL_OPTIONS, type ArgumentSpec, type CommandSpec, type OptionSpec } from './registry.js';

export const PROGRAM = 'nix-hug';
export const PROGRAM_DESCRIPTION = 'Pin Hugging Face models and datasets into the Nix store, declaratively.';
export const PROGRAM_USAGE = '[--debug] [--version] [--help] COMMAND ...';
export const VERSION_OPTION = { flags: '-V, --version', description: 'print the version' } as const satisfies OptionSpec;
export const HELP_OPTION = { flags: '-h, --help', description: `show help (also: ${PROGRAM} COMMAND --help)` } as const satisfies OptionSpec;

const PROGRAM_AFTER =
  `\nExamples:\n  $ ${PROGRAM} fetch openai-community/gpt2 --include '*.safetensors' > gpt2.nix\n  $ ${PROGRAM} ls datasets/rajpurkar/squad\n  $ ${PROGRAM} fetch --help\n\n` +
  'Environment: HF_ENDPOINT, HF_TOKEN (or HF_TOKEN_PATH, HF_HOME/token), NO_COLOR,\nNIX_HUG_PERSIST_DIR, NIX_HUG_AUTO_PERSIST, NIX_HUG_MAX_RETRIES.\n';

/** Below this many columns for a description, commander leaves text unwrapped; so do we. */
const MIN_WIDTH_TO_WRAP = 40;

/** The command a path of words names (`[]`: the program itself, null), or undefined when there is none. */
export function findCommand(path: readonly string[]): CommandSpec | null | undefined {
  let spec: CommandSpec | null = null;
  let choices: readonly CommandSpec[] = COMMANDS;
  for (const word of path) {
    const next = choices.find((c) => c.name === word);
    if (!next) return undefined;
    spec = next;
    choices = next.subcommands ?? [];
  }
  return spec;
}

/** A summary as the first sentence of a help page: `list files` → `List files.` */
export function sentence(summary: string): string {
  return `${summary.charAt(0).toUpperCase()}${summary.slice(1)}${/[.!?]$/.test(summary) ? '' : '.'}`;
}

/** Wraps each line of `text` at whitespace to `width` columns (commander's rule). */
function wrap(text: string, width: number): string {
  if (width < MIN_WIDTH_TO_WRAP) return text;
  return text
    .split('\n')
    .map((line) => {
      const chunks = line.match(/\s*\S+/g);
      if (chunks === null) return '';
      const lines: string[] = [];
      let current = chunks[0]!;
      for (const chunk of chunks.slice(1)) {
        if (current.length + chunk.length <= width) current += chunk;
        else {
          lines.push(current);
          current = chunk.trimStart();
        }
      }
      lines.push(current);
      return lines.join('\n');
    })
    .join('\n');
}

interface Item {
  term: string;
  description: string;
}

function item(term: string, termWidth: number, description: string, width: number): string {
  if (!description) return `  ${term}`;
  const remaining = width - termWidth - 4;
  const text = remaining < MIN_WIDTH_TO_WRAP ? description : wrap(description, remaining).replace(/\n/g, `\n${' '.repeat(termWidth + 2)}`);
  return `  ${term.padEnd(termWidth)}  ${text.replace(/\n/g, '\n  ')}`;
}

function section(title: string, items: readonly Item[], termWidth: number, width: number): string[] {
  if (items.length === 0) return [];
  return [title, ...items.map((i) => item(i.term, termWidth, i.description, width)), ''];
}

/** `<url>`, `[files...]`: an argument as usage lines show it. */
function argumentUsage(a: ArgumentSpec): string {
  const name = `${a.name}${a.variadic ? '...' : ''}`;
  return a.required ? `<${name}>` : `[${name}]`;
}

function subcommandTerm(spec: CommandSpec): string {
  return [spec.name, ...(spec.options.length > 0 ? ['[options]'] : []), ...spec.arguments.map(argumentUsage)].join(' ');
}

function optionDescription(o: OptionSpec): string {
  return o.choices ? `${o.description} (choices: ${o.choices.map((c) => JSON.stringify(c)).join(', ')})` : o.description;
}

function examplesText(spec: CommandSpec): string {
  if (spec.examples.length === 0) return '';
  const width = Math.max(...spec.examples.map((e) => e.command.length));
  const lines = spec.examples.map((e) => `  $ ${e.command.padEnd(width)}  # ${e.comment}`);
  return `\nExamples:\n${lines.join('\n')}\n`;
}

/** The help page of the command at `path` (`[]`: the program), wrapped to `width` columns. */
export function renderHelp(path: readonly string[], width: number): string {
  const spec = findCommand(path);
  if (spec === undefined) throw new Error(`no command ${path.join(' ')} in the registry`);
  const options: readonly OptionSpec[] = spec === null ? [VERSION_OPTION, ...GLOBAL_OPTIONS, HELP_OPTION] : [...spec.options, HELP_OPTION];
  const subcommands = spec === null ? COMMANDS : (spec.subcommands ?? []);
  const args = spec?.arguments ?? [];
  const usage =
    spec === null
      ? `${PROGRAM} ${PROGRAM_USAGE}`
      : [PROGRAM, ...path, '[options]', ...(subcommands.length > 0 ? ['[command]'] : []), ...args.map(argumentUsage)].join(' ');
  const description = spec === null ? PROGRAM_DESCRIPTION : (spec.description ?? sentence(spec.summary));
  const argumentItems = args.map((a) => ({ term: a.name, description: a.description }));
  const optionItems = options.map((o) => ({ term: o.flags, description: optionDescription(o) }));
  const commandItems = subcommands.map((c) => ({ term: subcommandTerm(c), description: c.summary }));
  const termWidth = Math.max(0, ...[...argumentItems, ...optionItems, ...commandItems].map((i) => i.term.length));
  const page = [
    `Usage: ${usage}`,
    '',
    wrap(description, width),
    '',
    ...section('Arguments:', argumentItems, termWidth, width),
    ...section('Options:', optionItems, termWidth, width),
    ...section('Commands:', commandItems, termWidth, width),
  ].join('\n');
  const after = spec === null ? PROGRAM_AFTER : examplesText(spec);
  // A blank line ends a page with text after its items (as commander's `addHelpText` printed it).
  return after ? `${page}${after}\n` : page;
}

/** The columns a help page on `stream` is wrapped to: the terminal's width, else 80 (as commander). */
export function helpWidth(stream: NodeJS.WriteStream): number {
  return stream.isTTY && stream.columns ? stream.columns : 80;
}
