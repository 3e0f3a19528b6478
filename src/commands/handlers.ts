/**
 * Which function runs each command, typed against the registry: a handler
 * must take exactly the arguments and options its declaration derives
 * (`ArgsFor`, `OptionsFor`), so a renamed flag, a new argument or a handler
 * reading an option its command does not have fails to compile. Each module
 * is imported only when its command runs.
 */
import type { ArgsFor, CommandPath, OptionsFor } from './registry.js';
import type { CommandContext } from './context.js';

export type HandlerFor<P extends CommandPath> = (ctx: CommandContext, ...rest: [...ArgsFor<P>, OptionsFor<P>]) => Promise<void>;

export const HANDLERS: { readonly [P in CommandPath]: () => Promise<HandlerFor<P>> } = {
  fetch: async () => (await import('./fetch.js')).run,
  ls: async () => (await import('./ls.js')).run,
  add: async () => (await import('./add.js')).run,
  update: async () => (await import('./update.js')).run,
  outdated: async () => (await import('./outdated.js')).run,
  remove: async () => (await import('./remove.js')).run,
  export: async () => (await import('./export.js')).run,
  import: async () => (await import('./import.js')).run,
  'store ls': async () => (await import('./store.js')).ls,
  'store path': async () => (await import('./store.js')).path,
  'store key': async () => (await import('./store.js')).key,
  scan: async () => (await import('./scan.js')).run,
  completion: async () => (await import('./completion.js')).run,
};
