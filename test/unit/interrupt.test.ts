/**
 * `interruptible`'s `stop`: a failure found beside the work stops the
 * command's requests and child processes as a signal would, and the command
 * ends with that failure, not with "interrupted".
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InterruptedError, NixHugError } from '../../src/errors.ts';
import { interruptible, withInterrupt } from '../../src/interrupt.ts';

/** Resolves when `signal` aborts (what a request or child process of the command waits on). */
const aborted = (signal: AbortSignal) => new Promise<void>((done) => signal.addEventListener('abort', () => done(), { once: true }));

describe('interruptible', () => {
  it('stop aborts what the command started, also what was not handed the signal, and ends with the reason', async () => {
    const reason = new NixHugError('`nix` was not found on PATH', 'install Nix');
    let seen: AbortSignal | undefined;
    await assert.rejects(
      interruptible('asking the Hub', async ({ stop }) => {
        seen = withInterrupt(); // as the Hub client sees it, without a signal of its own
        assert.ok(seen && !seen.aborted);
        setTimeout(() => stop(reason), 5);
        await aborted(seen);
        throw new InterruptedError('asking the Hub'); // what a stopped request throws
      }),
      (err) => err === reason,
    );
    assert.equal(withInterrupt(), undefined, 'the command no longer listens once it ended');
  });

  it('a step after stop ends with the reason too', async () => {
    const reason = new Error('no nix');
    await assert.rejects(
      interruptible('first', async ({ stop, step }) => {
        stop(reason);
        step('second');
      }),
      (err) => err === reason,
    );
  });

  it('without stop or a signal, the work’s own error is the one thrown', async () => {
    const own = new Error('404');
    await assert.rejects(interruptible('x', () => Promise.reject(own)), (err) => err === own);
    assert.equal(await interruptible('x', () => Promise.resolve(7)), 7);
  });
});
