/** Reading the Hub client's answers in tests. */
import type { HttpAnswer } from '../../src/hub/transport.ts';

/** A whole body (small ones). */
export async function readBody(answer: HttpAnswer): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  if (answer.body) for (let next = await answer.body.read(); !next.done; next = await answer.body.read()) parts.push(next.value);
  return Buffer.concat(parts);
}
