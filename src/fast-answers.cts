/**
 * The invocations answered without commander, exactly as written:
 * `--version`, `[COMMAND…] --help`, `help [COMMAND…]` and `completion SHELL`,
 * and the answers among them that need no module of ours: the version from
 * package.json, and help pages (for anything but a terminal) and completion
 * scripts from dist/prebuilt.json, which the build wrote
 * (commands/prebuilt.ts).
 *
 * CommonJS, so that the executable (bin.cts) can answer them before Node
 * sets up its ES module loader: a CommonJS file starts in the time of
 * `node -e 0`, an empty ES module takes 5–9% longer. cli.ts asks the same
 * questions when it is run directly and renders what has no prebuilt answer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Prebuilt } from './commands/prebuilt.js';

export type FastRequest = { kind: 'version' } | { kind: 'help'; path: string[] } | { kind: 'completion'; shell: string };

/** Which fast request `argv` is, or null: anything else goes to the parser. */
export function fastRequest(argv: readonly string[]): FastRequest | null {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) return { kind: 'version' };
  const last = argv[argv.length - 1];
  const helpFlag = last === '--help' || last === '-h';
  if (helpFlag || argv[0] === 'help') {
    const path = helpFlag ? argv.slice(0, -1) : argv.slice(1);
    // `help --help` and `help help` are the help command's own page; `help fetch --help` is commander's.
    if (path.some((w) => w.startsWith('-')) || (!helpFlag && path[0] === 'help')) return null;
    return { kind: 'help', path };
  }
  if (argv.length === 2 && argv[0] === 'completion') return { kind: 'completion', shell: argv[1]! };
  return null;
}

/** The package's version (package.json next to dist/). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** dist/prebuilt.json as the build wrote it, or null when there is none. */
function readPrebuilt(): Partial<Prebuilt> | null {
  try {
    return JSON.parse(readFileSync(join(__dirname, 'prebuilt.json'), 'utf8')) as Partial<Prebuilt>;
  } catch {
    return null;
  }
}

/** `table[key]` when it is the table's own string (any word may be a key: `__proto__` names nothing). */
function ownString(table: Record<string, string> | undefined, key: string): string | null {
  const value = table !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
  return typeof value === 'string' ? value : null;
}

/**
 * The prebuilt answer to `request` for `out`, or null when it has to be
 * rendered: a terminal's help page (its width), a page or script the build
 * did not write, a word that names no command or shell.
 */
export function prebuiltAnswer(request: FastRequest, out: NodeJS.WriteStream): string | null {
  switch (request.kind) {
    case 'version':
      return `${version()}\n`;
    case 'help':
      // Not a terminal: the page is 80 columns wide (help.ts's helpWidth), as the build wrote it (key: prebuilt.ts's helpKey).
      return out.isTTY ? null : ownString(readPrebuilt()?.help, JSON.stringify(request.path));
    case 'completion':
      return ownString(readPrebuilt()?.completion, request.shell);
  }
}

/** A reader that went away (`nix-hug --help | head`) ends the output, not the process with a stack trace. */
export function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

/** Prints the prebuilt answer to `argv` when there is one; false: the CLI has to run. */
export function answerFast(argv: readonly string[], out: NodeJS.WriteStream): boolean {
  const request = fastRequest(argv);
  const answer = request === null ? null : prebuiltAnswer(request, out);
  if (answer === null) return false;
  quietOnClosedPipe(out);
  out.write(answer);
  return true;
}
