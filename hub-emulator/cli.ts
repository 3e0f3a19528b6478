/**
 * `npm run hub [-- --port N]`: serves the demo fixtures until SIGINT/SIGTERM
 * and prints `HF_ENDPOINT=http://127.0.0.1:PORT` on stdout.
 */
import { demoHubOptions } from './fixtures/demo.ts';
import { startHub } from './server.ts';

function parsePort(argv: string[]): number | undefined {
  const i = argv.findIndex((a) => a === '--port' || a.startsWith('--port='));
  if (i < 0) return undefined;
  const arg = argv[i] as string;
  const raw = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[i + 1];
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`hub: --port needs a number between 0 and 65535, got ${raw}\n`);
    process.exit(2);
  }
  return port;
}

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write('usage: npm run hub [-- --port N]\nServes the demo Hub fixtures on 127.0.0.1 until interrupted.\n');
} else {
  const port = parsePort(argv);
  const hub = await startHub(demoHubOptions(port === undefined ? {} : { port }));
  process.stdout.write(`HF_ENDPOINT=${hub.url}\n`);
  process.stderr.write(`hub: serving ${hub.url} (CDN ${hub.cdnUrl}); Ctrl-C to stop\n`);
  const stop = () => {
    void hub.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
