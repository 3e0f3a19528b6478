/**
 * The test-support module: everything the suites, scripts/ and bench/ share
 * for running the CLI, Nix and the Hub emulator. Nothing here imports a test
 * suite; test/import-graph.test.ts keeps it so.
 */
export * from './paths.ts';
export * from './process.ts';
export * from './cli.ts';
export * from './nix.ts';
export * from './hub.ts';
export * from './files.ts';
export * from './sandbox.ts';
export * from './figures.ts';
export * from './repos.ts';
export * from './servers.ts';
export * from './nix-matrix.ts';
export * from './nix-daemon.ts';
export * from './lock.ts';
export * from './blob-hub.ts';
export * from './http.ts';
