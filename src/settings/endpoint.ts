/**
 * Which Hub to talk to: HF_ENDPOINT (as huggingface_hub reads it), default
 * https://huggingface.co, trailing `/` stripped.
 *
 * Only `scheme://host[:port][/path]` is accepted, and its normalised form
 * (as the URL parser reads it) is what every request and expression uses.
 * The raw text is never used: the parser silently drops tabs and newlines
 * and reads `\` as `/`, so `https://huggingface.co\n.evil.example` would be
 * validated as one host and reached as another, token included.
 */
import { UsageError } from '../errors.js';
import { quote } from '../ui/text.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

const HINT = 'set HF_ENDPOINT to e.g. https://huggingface.co, or unset it';

export function hubEndpoint(env: NodeJS.ProcessEnv): string {
  const raw = env.HF_ENDPOINT;
  if (raw === undefined || raw === '') return DEFAULT_ENDPOINT;
  const refuse = (why: string, hint = HINT) => new UsageError(`HF_ENDPOINT ${quote(raw)} ${why}`, hint);
  // Characters the parser would drop or reinterpret, and the separators of a query, fragment or userinfo
  // (an empty `?` or `#` leaves no trace in the parsed URL).
  if (/[\s\u0000-\u001f\u007f-\u009f\\]/.test(raw)) throw refuse('contains whitespace, a control character or a backslash');
  if (/[?#@]/.test(raw)) throw refuse('must not contain credentials, a query or a fragment', 'give scheme://host[:port][/path] only; put the token in HF_TOKEN');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('must be an http:// or https:// URL');
  if (!raw.toLowerCase().startsWith(`${url.protocol}//`) || url.hostname === '') throw refuse('is not of the form scheme://host[:port][/path]');
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}
