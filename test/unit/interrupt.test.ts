/**
 * A command's steps under `interruptible`: a signal stops what the command
 * began and becomes one "interrupted while …" error; `fail` stops it the
 * same way for a reason found beside the steps (a missing Nix), and that
 * reason is what the command throws, with its own exit code.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError, NixHugError } from '../../src/errors.ts';
import { interruptible, withInterrupt } from '../../src/interrupt.ts';

/** Waits until `signal` aborts (as a child process of the command does), then fails as a killed one would. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const stop = () => reject(new Error('killed by SIGTERM'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}

describe('interruptible', () => {
  it('fail: what the steps wait on stops at once, and the command throws that reason, not an interrupt', async () => {
    const reason = new NixHugError('`nix` was not found on PATH', 'install Nix');
    const started = performance.now();
    await assert.rejects(
      interruptible('asking the Hub', async ({ fail }) => {
        setTimeout(() => fail(reason), 10);
        // A request of the command that would wait long: it sees the command's signal (as the Hub client does).
        await untilAborted(withInterrupt(undefined)!);
      }),
      (err: unknown) => err === reason,
    );
    assert.ok(performance.now() - started < 5000);
    assert.equal(withInterrupt(undefined), undefined, 'nothing is left listening once the command ended');
  });

  it('fail: a later step throws the reason too, and work that ignored the signal still ends with it', async () => {
    const reason = new Error('too old a Nix');
    await assert.rejects(
      interruptible('first', async ({ fail, step }) => {
        fail(reason);
        step('second');
      }),
      (err: unknown) => err === reason,
    );
    await assert.rejects(
      interruptible('first', async ({ fail }) => {
        fail(reason);
        await sleep(1);
        return 'done anyway';
      }),
      (err: unknown) => err === reason,
    );
  });

  it('fail after a signal keeps the interrupt; a signal alone is "interrupted while" the current step, exit code 130', async () => {
    const exitCode = process.exitCode;
    try {
      await assert.rejects(
        interruptible('asking the Hub', async ({ signal, step, fail }) => {
          step('downloading');
          process.emit('SIGINT', 'SIGINT');
          fail(new Error('too late: the signal came first'));
          await untilAborted(signal);
        }),
        (err: unknown) => err instanceof InterruptedError && /^interrupted while downloading;/.test(err.message) && err.exitCode === 130,
      );
    } finally {
      process.exitCode = exitCode;
    }
  });

  it('without fail or a signal: the work\'s own result and errors pass through', async () => {
    assert.equal(await interruptible('x', async () => 42), 42);
    const own = new Error('its own');
    await assert.rejects(
      interruptible('x', async () => {
        throw own;
      }),
      (err: unknown) => err === own,
    );
  });
});
