/** Who asks (the Authorization header) and what they may see: private, gated and missing repos answer as the Hub does. */
import type { IncomingMessage } from 'node:http';
import type { BuiltRepo } from './build.ts';
import type { ErrorSpec } from './http.ts';
import type { HubState } from './state.ts';
import { urlPrefix } from './types.ts';

export type Auth = { kind: 'none' } | { kind: 'invalid' } | { kind: 'token'; grants: Set<string> };
export type Access = { ok: true } | { ok: false; error: ErrorSpec };

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="Authentication required", charset="UTF-8"' };

/** Bearer, or Basic with the token as password (or user), as git sends it. */
export function authOf(state: HubState, req: IncomingMessage): Auth {
  const h = req.headers.authorization;
  if (!h) return { kind: 'none' };
  let token = '';
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(h);
  const basic = /^Basic\s+(\S+)\s*$/i.exec(h);
  if (bearer) token = bearer[1] as string;
  else if (basic) {
    const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    const user = i < 0 ? decoded : decoded.slice(0, i);
    const pass = i < 0 ? '' : decoded.slice(i + 1);
    token = pass !== '' ? pass : user;
  }
  const spec = state.tokens.get(token);
  return spec ? { kind: 'token', grants: new Set(spec.grants) } : { kind: 'invalid' };
}

function notFound(auth: Auth, git: boolean): ErrorSpec {
  const unauth = auth.kind !== 'token';
  return {
    status: unauth ? 401 : 404,
    code: 'RepoNotFound',
    message: unauth ? 'Repository not found. Make sure you are authenticated and have access to it.' : 'Repository not found',
    headers: git && unauth ? BASIC_CHALLENGE : {},
  };
}

/** `content`: resolve, git, LFS batch (gated repos need a grant); else metadata. `git`: answer with git's Basic challenge. */
export function access(state: HubState, repo: BuiltRepo | undefined, auth: Auth, content: boolean, git: boolean): Access {
  if (auth.kind === 'invalid') {
    // Bad credentials: 401 everywhere (like the Hub), with the code a client would get without any.
    const message = 'Invalid credentials in Authorization header';
    const code = !repo || repo.spec.private ? 'RepoNotFound' : repo.spec.gated && content ? 'GatedRepo' : undefined;
    return { ok: false, error: { status: 401, message, headers: git ? BASIC_CHALLENGE : {}, ...(code ? { code } : {}) } };
  }
  if (!repo) return { ok: false, error: notFound(auth, git) };
  const granted = auth.kind === 'token' && auth.grants.has(repo.id);
  if (repo.spec.private && !granted) return { ok: false, error: notFound(auth, git) };
  if (repo.spec.gated && content && !granted) {
    const what = `${repo.type} ${repo.id}`;
    const page = `${state.hubUrl}/${urlPrefix(repo.type)}${repo.id}`;
    return auth.kind === 'none'
      ? {
          ok: false,
          error: {
            status: 401,
            code: 'GatedRepo',
            message: `Access to ${what} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
            headers: git ? BASIC_CHALLENGE : {},
          },
        }
      : {
          ok: false,
          error: {
            status: 403,
            code: 'GatedRepo',
            message: `Access to ${what} is restricted and you are not in the authorized list. Visit ${page} to ask for access.`,
          },
        };
  }
  return { ok: true };
}
