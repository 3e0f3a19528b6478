/**
 * What every command handler gets: the settings (read once, here, at
 * start-up), the logger (stderr), a backpressure-aware stdout writer,
 * colours, and a lazily built Hub client.
 * Handlers live in src/commands/<name>.ts and take
 * `(ctx, ...positionalArgs, options)`, typed from the registry (handlers.ts).
 */
import { once } from 'node:events';
import type { HubClient } from '../hub/client.js';
import { createHubClient } from '../hub/client.js';
import { readSettings, type Settings } from '../settings/index.js';
import type { Colors } from '../ui/color.js';
import { colorsEnabled, makeColors } from '../ui/color.js';
import type { Logger } from '../ui/logger.js';
import { traceCommandsTo } from '../ui/command-trace.js';
import { createLogger } from '../ui/logger.js';

/** stdout for results: `write` resolves once the data is handed over (waits for 'drain'). */
export interface OutputWriter {
  readonly isTTY: boolean;
  write(chunk: string | Uint8Array): Promise<void>;
}

export interface CommandContext {
  /** Environment and config file, parsed: nothing below a handler reads `process.env` for a setting. */
  settings: Settings;
  /** --debug was given: log every request and command, print stack traces. */
  debug: boolean;
  /** stderr talk (quiet/normal/debug; tokens redacted). */
  logger: Logger;
  /** Results: the expression, the listing, JSON. */
  stdout: OutputWriter;
  /** Colours for stdout (TTY and no NO_COLOR). */
  colors: Colors;
  /** The raw stderr stream, for progress displays; `stderrColors` for it. */
  stderr: NodeJS.WriteStream;
  stderrColors: Colors;
  /** The Hub client for this run (HF_ENDPOINT, token, retry settings), created on first use. */
  hub(): HubClient;
  /** The exit code of a run that ends without an error (`outdated`: 1 when something moved). */
  exitCode: number;
}

/**
 * Whether `stream`'s reader went away (EPIPE, as when `| head` exits): from
 * then on nothing more is written to it, and the command goes on (and cleans
 * up) instead of dying of the write error.
 */
function readerGone(stream: NodeJS.WriteStream): () => boolean {
  let gone = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') gone = true;
    else throw err;
  });
  return () => gone || stream.destroyed;
}

/** A writer that never loses output when stdout is a pipe, and stops quietly when the reader goes away (EPIPE). */
export function streamWriter(stream: NodeJS.WriteStream): OutputWriter {
  const closed = readerGone(stream);
  return {
    isTTY: stream.isTTY === true,
    async write(chunk) {
      if (closed()) return;
      if (!stream.write(chunk)) {
        const ac = new AbortController();
        await Promise.race([
          once(stream, 'drain', { signal: ac.signal }),
          once(stream, 'close', { signal: ac.signal }),
        ]).catch(() => undefined);
        ac.abort();
      }
    },
  };
}

export interface ContextOptions {
  /** Default: read from `env` (default `process.env`) and the working directory. */
  settings?: Settings;
  env?: NodeJS.ProcessEnv;
  debug?: boolean;
  quiet?: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

export function createContext(options: ContextOptions = {}): CommandContext {
  const settings = options.settings ?? readSettings(options.env ?? process.env);
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const debug = options.debug === true;
  const stderrColors = makeColors(colorsEnabled(stderr, settings.colorAllowed));
  const stderrGone = readerGone(stderr);
  const logger = createLogger({
    level: debug ? 'debug' : options.quiet ? 'quiet' : 'normal',
    write: (line) => void (stderrGone() || stderr.write(line)),
    colors: stderrColors,
  });
  traceCommandsTo(logger);
  let client: HubClient | null = null;
  return {
    settings,
    debug,
    logger,
    stdout: streamWriter(stdout),
    colors: makeColors(colorsEnabled(stdout, settings.colorAllowed)),
    stderr,
    stderrColors,
    hub: () => (client ??= createHubClient({ endpoint: settings.endpoint(), token: settings.token(), http: settings.http() }, logger)),
    exitCode: 0,
  };
}
