/**
 * Which Hub to talk to: HF_ENDPOINT (as huggingface_hub reads it), default
 * https://huggingface.co, trailing `/` stripped.
 */
import { UsageError } from '../errors.js';
import { quote } from '../ui/text.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export function hubEndpoint(env: NodeJS.ProcessEnv): string {
  const raw = env.HF_ENDPOINT;
  if (raw === undefined || raw === '') return DEFAULT_ENDPOINT;
  const value = raw.replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`HF_ENDPOINT ${quote(raw)} is not a URL`, 'set HF_ENDPOINT to e.g. https://huggingface.co, or unset it');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`HF_ENDPOINT ${quote(raw)} must be an http:// or https:// URL`, 'set HF_ENDPOINT to e.g. https://huggingface.co, or unset it');
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new UsageError(`HF_ENDPOINT ${quote(raw)} must not contain credentials, a query or a fragment`, 'put the token in HF_TOKEN instead');
  }
  return value;
}
