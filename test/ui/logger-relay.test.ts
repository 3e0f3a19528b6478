/**
 * A worker's Logger (logger-relay.ts): lines and waits replayed on the
 * main thread's logger, debug lines only at --debug, secrets redacted
 * before they leave the worker, and waits left open ended on close.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, type LogLevel } from '../../src/ui/logger.ts';
import { logRelay, messageLogger, type LogMessage } from '../../src/ui/logger-relay.ts';

/** A worker logger wired to a main logger that runs on a fake clock. */
function wired(level: LogLevel) {
  const lines: string[] = [];
  const sent: LogMessage[] = [];
  const main = createLogger({ level, write: (l) => void lines.push(l) });
  const relay = logRelay(main);
  const worker = messageLogger((m) => {
    sent.push(structuredClone(m));
    relay.relay(m);
  }, level);
  return { worker, lines, sent };
}

describe('a worker thread\'s logger', () => {
  it('replays info, warnings and debug lines on the main logger', () => {
    const { worker, lines } = wired('debug');
    assert.equal(worker.debugEnabled, true);
    worker.info('hello');
    worker.warn('careful');
    worker.debug('GET /x -> 200');
    assert.deepEqual(lines, ['hello\n', 'note: careful\n', 'debug: GET /x -> 200\n']);
  });

  it('sends no debug lines unless --debug', () => {
    const { worker, sent } = wired('normal');
    assert.equal(worker.debugEnabled, false);
    worker.debug('not sent');
    assert.deepEqual(sent, []);
  });

  it('redacts a registered secret before the line leaves the worker', () => {
    const { worker, sent } = wired('debug');
    worker.addSecret('s3cr3t-value');
    worker.debug('token s3cr3t-value used');
    worker.waitFor('asking with s3cr3t-value');
    assert.ok(!JSON.stringify(sent).includes('s3cr3t-value'), JSON.stringify(sent));
    assert.equal(worker.redact('x s3cr3t-value'), 'x ***');
  });

  it('relays waits, and close ends the ones the worker left open', () => {
    // The main side's waits, recorded.
    const calls: string[] = [];
    const main = { ...createLogger({ level: 'quiet' }), waitFor: (what: string) => (calls.push(`open ${what}`), { update: (w: string) => void calls.push(`update ${w}`), done: () => void calls.push(`done ${what}`) }) };
    const relay = logRelay(main);
    const worker = messageLogger((m) => relay.relay(structuredClone(m)), 'normal');
    const a = worker.waitFor('waiting for the Hub');
    a.update('retrying in 1 s');
    a.done();
    worker.waitFor('left open');
    assert.deepEqual(calls, ['open waiting for the Hub', 'update retrying in 1 s', 'done waiting for the Hub', 'open left open']);
    relay.close();
    assert.equal(calls.at(-1), 'done left open');
    // A second close and a late message for an ended wait change nothing.
    relay.close();
    relay.relay({ kind: 'wait-done', id: 0 });
    assert.equal(calls.length, 5);
  });
});
