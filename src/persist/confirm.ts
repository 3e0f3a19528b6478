/**
 * The yes/no question of the import trust prompt, asked on stderr and
 * answered on stdin — only when both are terminals (stdout may be piped).
 */
import { createInterface } from 'node:readline/promises';

export function canPrompt(stdin: { isTTY?: boolean } = process.stdin, stderr: { isTTY?: boolean } = process.stderr): boolean {
  return stdin.isTTY === true && stderr.isTTY === true;
}

/** Asks `question`; only `y`/`yes` (any case) mean yes. End of input means no. */
export async function confirmOnTty(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('close', () => resolve(''));
      void rl.question(question).then(resolve, () => resolve(''));
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}
