#!/usr/bin/env node
/**
 * nix-hug's entry point: argument parsing and dispatch only. Commands come
 * from commands/registry.ts; their handlers are imported when chosen.
 * Exit codes: 0 ok, 1 failure, 2 usage. The exit code is set, never forced
 * with process.exit(), so piped output is never cut.
 *
 * Start-up: `--version`, `[help] [COMMAND…] --help` and `completion SHELL`
 * are answered before commander is loaded (see `answerWithoutParser`); they
 * load no Hub client, progress display or Nix runner. The executable
 * (bin.cts) prints their prebuilt answers before this module is loaded;
 * run directly (`node dist/cli.js`), this module gives the same answers.
 */
import type { Command } from 'commander';
import { fastRequest, prebuiltAnswer, quietOnClosedPipe, version } from './fast-answers.cjs';
import type { CommandPath, CommandSpec, OptionSpec } from './commands/registry.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

// Loaded after the fast paths (see main).
let commander: typeof import('commander');
let registry: typeof import('./commands/registry.js');
let help: typeof import('./commands/help.js');
let flags: typeof import('./commands/spec.js');
let errors: typeof import('./errors.js');
let logger: typeof import('./ui/logger.js');
let text: typeof import('./ui/text.js');

function addOption(cmd: Command, spec: OptionSpec): void {
  const option = new commander.Option(spec.flags, spec.description);
  if (spec.repeatable) option.argParser(collect);
  if (spec.choices) option.choices(spec.choices);
  cmd.addOption(option);
}

/** `--revision` for its messages, from `--revision <ref>`. */
function longName(spec: OptionSpec): string {
  return /--[\w-]+/.exec(spec.flags)?.[0] ?? spec.flags;
}

/**
 * What `hf download` users type, in the names handlers know: an alias's
 * value moves to its option (both given with different values: a usage
 * error), words that stand for a repeatable option are appended to it, and
 * options for the environment (`--token`) are taken out. Returns the
 * handler's positional arguments and those environment variables.
 */
function normalise(spec: CommandSpec, received: unknown[], options: Record<string, unknown>): { positional: (string | string[] | undefined)[]; env: Record<string, string> } {
  const env: Record<string, string> = {};
  for (const o of spec.options) {
    const key = flags.optionKey(o.flags);
    const value = options[key];
    if (value === undefined) continue;
    if (o.env !== undefined) {
      env[o.env] = String(value);
      delete options[key];
    } else if (o.aliasOf !== undefined) {
      const canonical = spec.options.find((c) => c.aliasOf === undefined && flags.optionKey(c.flags) === o.aliasOf);
      const other = canonical ? longName(canonical) : `--${o.aliasOf}`;
      if (options[o.aliasOf] !== undefined && options[o.aliasOf] !== value) {
        throw new errors.UsageError(`${longName(o)} and ${other} name different values`, `give one of them (${longName(o)} is another name for ${other})`);
      }
      options[o.aliasOf] = value;
      delete options[key];
    }
  }
  // Strings, and an array for a variadic argument (`update NAME...`).
  const positional: (string | string[] | undefined)[] = [];
  spec.arguments.forEach((a, i) => {
    const value = received[i];
    if (a.appendTo === undefined) positional.push(value as string | string[] | undefined);
    else options[a.appendTo] = [...((options[a.appendTo] as string[] | undefined) ?? []), ...((value as string[] | undefined) ?? [])];
  });
  return { positional, env };
}

/** Set when a handler runs; the error report needs it even when parsing failed. */
interface RunState {
  debug: boolean;
  /** What the handler asked for when it ended without an error. */
  exitCode: number;
}

function build(state: RunState): Command {
  const { COMMANDS, GLOBAL_OPTIONS } = registry;
  const { PROGRAM, HELP_OPTION, VERSION_OPTION } = help;
  const program = new commander.Command(PROGRAM)
    .version(version(), VERSION_OPTION.flags, VERSION_OPTION.description)
    .helpOption(HELP_OPTION.flags, HELP_OPTION.description)
    .helpCommand(false)
    // Every help page, here and on the fast path, rendered from the registry by help.ts.
    .configureHelp({ formatHelp: (cmd, helper) => help.renderHelp(commandPath(cmd), helper.helpWidth ?? 80) })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void process.stdout.write(s),
      writeErr: (s) => void process.stderr.write(s),
      outputError: () => undefined, // reported by report() in our format
    });
  for (const o of GLOBAL_OPTIONS) addOption(program, o);
  const declare = (parent: Command, spec: CommandSpec, path: string) => {
    const cmd = parent.command(spec.name).summary(spec.summary).helpCommand(false);
    for (const a of spec.arguments) {
      const name = `${a.name}${a.variadic ? '...' : ''}`;
      cmd.argument(a.required ? `<${name}>` : `[${name}]`, a.description);
    }
    for (const o of spec.options) addOption(cmd, o);
    if (spec === registry.HELP) return; // rewritten before parsing (helpAsFlag): only its own --help page is shown
    if (spec.subcommands) {
      // `nix-hug store` alone: commander shows the help on stderr (a usage error, see report()).
      for (const sub of spec.subcommands) declare(cmd, sub, `${path} ${sub.name}`);
      return;
    }
    cmd.action(async (...received: unknown[]) => {
      const command = received[received.length - 1] as Command;
      const options = command.opts<Record<string, unknown>>();
      const { positional, env } = normalise(spec, received.slice(0, spec.arguments.length), options);
      // Handlers get what the registry's types say: repeatable flags as arrays (empty when absent), switches as booleans.
      // A switch that shares its key with a value flag (`--no-hf-cache`, `--hf-cache [dir]`) stays undefined when both are absent.
      for (const o of spec.options) {
        const key = flags.optionKey(o.flags);
        const shared = spec.options.some((p) => p !== o && flags.optionKey(p.flags) === key);
        if (options[key] === undefined && (o.repeatable || (!flags.takesValue(o.flags) && !shared))) options[key] = o.repeatable ? [] : false;
      }
      const globals = command.optsWithGlobals<Record<string, unknown>>();
      state.debug = globals.debug === true;
      spec.check?.(positional as never, options as never);
      const [{ HANDLERS }, { createContext }] = await Promise.all([import('./commands/handlers.js'), import('./commands/context.js')]);
      const load: (() => Promise<(...args: never[]) => Promise<void>>) | undefined = HANDLERS[path as CommandPath];
      if (!load) throw new Error(`command ${path} has no handler in src/commands/handlers.ts`);
      const handler = (await load()) as (...args: unknown[]) => Promise<void>;
      const given = spec.options.filter((o) => o.env !== undefined && env[o.env] !== undefined);
      // A secret given on the command line (--token) is hidden in every line printed from here on.
      for (const o of given) logger.registerSecret(env[o.env!]!);
      const ctx = createContext({ debug: state.debug, quiet: options.quiet === true, env: { ...process.env, ...env } });
      for (const o of given) {
        ctx.logger.warn(`a token given with ${longName(o)} is visible to other users of this machine (ps) and kept in your shell history: prefer ${o.env}, or \`hf auth login\``);
      }
      await handler(ctx, ...positional, options);
      state.exitCode = ctx.exitCode;
    });
  };
  for (const spec of COMMANDS) declare(program, spec, spec.name);
  return program;
}

/** The words that name `cmd` below the program: `store ls` → ['store', 'ls']. */
function commandPath(cmd: Command): string[] {
  const path: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) path.unshift(c.name());
  return path;
}

function oneLine(s: string): string {
  return text.printable(logger.redactTokens(s.replace(/\s*\n\s*/g, ' ').trim()));
}

function report(err: unknown, state: RunState, argv: readonly string[]): number {
  const { CommanderError } = commander;
  const { NixHugError } = errors;
  const { redactTokens } = logger;
  const { COMMANDS } = registry;
  const { PROGRAM } = help;
  const write = (s: string) => void process.stderr.write(s);
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
    // No command given: commander printed the help on stderr.
    if (err.code === 'commander.help') return 2;
    const message = err.message.replace(/^error:\s*/, '');
    const known = new Set(COMMANDS.map((c) => c.name));
    const command = argv.find((a) => known.has(a));
    write(`${PROGRAM}: error: ${oneLine(message)}\n`);
    write(`hint: see '${PROGRAM}${command ? ` ${command}` : ''} --help'\n`);
    return 2;
  }
  if (err instanceof NixHugError) {
    write(`${PROGRAM}: error: ${oneLine(err.message)}\n`);
    if (err.hint) write(`hint: ${oneLine(err.hint)}\n`);
    if (state.debug && err.stack) write(`${redactTokens(err.stack)}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  write(`${PROGRAM}: error: internal error: ${oneLine(message)}\n`);
  if (state.debug && err instanceof Error && err.stack) write(`${redactTokens(err.stack)}\n`);
  else write(`hint: run again with --debug for details, and please report it\n`);
  return 1;
}

/** `help [COMMAND...]` → `[COMMAND...] --help` (`help --help` stays: the help command's own page). */
function helpAsFlag(argv: readonly string[]): string[] {
  const i = argv.findIndex((a) => !a.startsWith('-'));
  if (i < 0 || argv[i] !== registry.HELP.name || argv.includes('--help') || argv.includes('-h')) return [...argv];
  const topic = argv[i + 1];
  if (topic !== undefined && !registry.COMMANDS.some((c) => c.name === topic && c !== registry.HELP)) {
    throw new errors.UsageError(`unknown command ${text.quote(topic)}`, `see '${help.PROGRAM} --help' for the commands`);
  }
  return [...argv.slice(0, i), ...argv.slice(i + 1), '--help'];
}

/**
 * The invocations answered without commander (fast-answers.cts): printed
 * from what the build wrote, else rendered here (a terminal's help page, a
 * build without dist/prebuilt.json). Returns false for anything else and
 * for words that name no command or shell (commander parses it as usual).
 */
async function answerWithoutParser(argv: readonly string[]): Promise<boolean> {
  const request = fastRequest(argv);
  if (request === null) return false;
  const prebuilt = prebuiltAnswer(request, process.stdout);
  if (prebuilt !== null) {
    process.stdout.write(prebuilt);
    return true;
  }
  if (request.kind === 'help') {
    const h = await import('./commands/help.js');
    if (h.findCommand(request.path) === undefined) return false;
    process.stdout.write(h.renderHelp(request.path, h.helpWidth(process.stdout)));
    return true;
  }
  if (request.kind === 'completion') {
    const [{ COMPLETION_SHELLS }, { completionScript }] = await Promise.all([import('./commands/registry.js'), import('./completion/script.js')]);
    const shell = COMPLETION_SHELLS.find((s) => s === request.shell);
    if (shell === undefined) return false;
    process.stdout.write(await completionScript(shell));
    return true;
  }
  return false;
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  quietOnClosedPipe(process.stdout);
  if (await answerWithoutParser(argv)) return 0;
  [commander, registry, help, flags, errors, logger, text] = await Promise.all([
    import('commander'),
    import('./commands/registry.js'),
    import('./commands/help.js'),
    import('./commands/spec.js'),
    import('./errors.js'),
    import('./ui/logger.js'),
    import('./ui/text.js'),
  ]);
  const state: RunState = { debug: argv.includes('--debug'), exitCode: 0 };
  try {
    await build(state).parseAsync(helpAsFlag(argv), { from: 'user' });
    return state.exitCode;
  } catch (err) {
    return report(err, state, argv);
  }
}

process.exitCode = await main();
