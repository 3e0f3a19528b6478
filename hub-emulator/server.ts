/**
 * The local Hugging Face Hub emulator: builds the fixture repos, then serves
 * the Hub API, `resolve`, git smart HTTP + the LFS batch API on one port and
 * the LFS "CDN" on another port, named `localhost` (another host, so
 * clients drop Authorization on the redirect and read the file's metadata
 * from the 302, as with cdn-lfs.hf.co). The
 * routes live in routes/, the state they share in state.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRepo, type BuiltRepo, type LfsStore } from './build.ts';
import { FaultRegistry, type FaultKind } from './faults.ts';
import { Ctx } from './http.ts';
import { handleApi } from './routes/api.ts';
import { handleCdn } from './routes/cdn.ts';
import { handleGit } from './routes/git.ts';
import { handleResolve } from './routes/resolve.ts';
import { mutations } from './mutate.ts';
import { aliasAt, aliasesOf, decodeSegs, lookup, mainCommit, repoKey, resolveRev, type HubState } from './state.ts';
import type { HubOptions, RepoState, RepoType, RequestRecord, RunningHub, TokenSpec } from './types.ts';

const BUILD_CONCURRENCY = 4;

/** Temp dirs of hubs not closed yet: removed when the process exits without close() (e.g. a failing test). */
const liveTempDirs = new Set<string>();
process.on('exit', () => {
  for (const d of liveTempDirs) rmSync(d, { recursive: true, force: true });
});

export async function startHub(options: HubOptions): Promise<RunningHub> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'hub-emulator-'));
  if (ownDir) liveTempDirs.add(dataDir);
  try {
    return await start(options, dataDir, ownDir);
  } catch (e) {
    if (ownDir) {
      rmSync(dataDir, { recursive: true, force: true });
      liveTempDirs.delete(dataDir);
    }
    throw e;
  }
}

/** Every fixture repo built (bare git repo, LFS objects), a few at a time. */
async function buildRepos(options: HubOptions, dataDir: string, store: LfsStore): Promise<Map<string, BuiltRepo>> {
  const repos = new Map<string, BuiltRepo>();
  const specs = [...options.repos];
  const seen = new Set<string>();
  for (const s of specs) {
    const k = repoKey(s.type ?? 'model', s.id);
    if (seen.has(k)) throw new Error(`hub fixture ${s.id}: defined twice`);
    seen.add(k);
  }
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      const built = await buildRepo(spec, dataDir, store);
      repos.set(repoKey(built.type, built.id), built);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(BUILD_CONCURRENCY, specs.length) }, worker));
  } finally {
    await Promise.allSettled(store.pending);
  }
  await Promise.all(store.pending);
  store.pending.length = 0;
  return repos;
}

/** The Hub's origin: `/api/…`, `/{repo}/resolve/…`, and git under `/{repo}[.git]/…`; datasets under `/datasets/`, Spaces under `/spaces/`. */
async function routeHub(state: HubState, ctx: Ctx): Promise<void> {
  const segs = ctx.rawPath.split('/').slice(1);
  if (segs[0] === 'api') return handleApi(state, ctx, segs.slice(1));
  let type: RepoType = 'model';
  let s = segs;
  if (s[0] === 'datasets' || s[0] === 'spaces') {
    type = s[0] === 'datasets' ? 'dataset' : 'space';
    s = s.slice(1);
  }
  // resolve and git under an alias: a 307 to the same path under the canonical id, as the Hub does.
  const alias = aliasAt(state, type, s);
  if (alias && s.length > alias.taken) {
    const gitSuffix = s[alias.taken - 1]!.endsWith('.git') ? '.git' : '';
    const canonical = alias.repo.id.split('/').map(encodeURIComponent).join('/');
    const query = ctx.query.size > 0 ? `?${ctx.query.toString()}` : '';
    const location = `/${type === 'model' ? '' : `${type}s/`}${canonical}${gitSuffix}/${s.slice(alias.taken).join('/')}${query}`;
    ctx.route = s[alias.taken] === 'resolve' ? 'resolve' : 'git';
    return ctx.send(307, { Location: location, 'Content-Type': 'text/plain; charset=utf-8' }, Buffer.from(`Temporary Redirect. Redirecting to ${location}`));
  }
  const decodedId = decodeSegs(s.slice(0, 2));
  if (decodedId && decodedId.length === 2) {
    let [org, name] = decodedId as [string, string];
    const rest = s.slice(2);
    if (!name.endsWith('.git') && rest[0] === 'resolve' && rest.length >= 3) {
      return handleResolve(state, ctx, type, `${org}/${name}`, rest.slice(1));
    }
    const gitSub = rest.join('/');
    const isGit = name.endsWith('.git') || /^(info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.+|info\/lfs\/objects\/batch)$/.test(gitSub);
    if (isGit && rest.length > 0) {
      if (name.endsWith('.git')) name = name.slice(0, -4);
      return handleGit(state, ctx, type, `${org}/${name}`, rest);
    }
  }
  ctx.error({ status: 404, message: "Sorry, we can't find the page you are looking for." });
}

async function start(options: HubOptions, dataDir: string, ownDir: boolean): Promise<RunningHub> {
  const store: LfsStore = { dir: join(dataDir, 'lfs'), objects: new Map(), generated: new Map(), pending: [] };
  mkdirSync(store.dir, { recursive: true });
  mkdirSync(join(dataDir, 'git'), { recursive: true });
  const state: HubState = {
    dataDir,
    store,
    repos: await buildRepos(options, dataDir, store),
    aliases: new Map(),
    tokens: new Map<string, TokenSpec>(Object.entries(options.tokens ?? {})),
    pageSize: Math.max(1, options.pageSize ?? 1000),
    faults: new FaultRegistry(),
    requests: [],
    children: new Set(),
    carried: new Map(),
    carriedSeq: 0,
    hubUrl: '',
    cdnUrl: '',
  };
  state.aliases = aliasesOf(state.repos);
  const { faults, requests, children, carried } = state;
  let cdnBytes = 0;
  let closing = false;

  const listen = (handler: (ctx: Ctx) => void | Promise<void>, cdn: boolean): Server => {
    return createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '/';
      const sendsBody = req.method !== 'HEAD';
      // A fault carried over from the resolve redirect counts as this request's fault.
      let fault: FaultKind | null = null;
      const carriedId = cdn && sendsBody ? /[?&]X-Emulator-Fault=(f\d+)/.exec(url)?.[1] : undefined;
      if (carriedId && carried.has(carriedId)) {
        fault = carried.get(carriedId)!;
        carried.delete(carriedId);
      } else fault = faults.take(url, sendsBody);
      const ctx = new Ctx(req, res, fault, () => closing, (c, n) => {
        if (c.route === 'cdn') cdnBytes += n;
      });
      // Recorded on arrival; status and bytes are read live (a client may finish reading before 'finish').
      const record = { method: ctx.method, url, route: ctx.route, authorized: req.headers.authorization !== undefined } as RequestRecord;
      Object.defineProperties(record, {
        status: { enumerable: true, get: () => res.statusCode },
        bytes: { enumerable: true, get: () => ctx.bytes },
        route: { enumerable: true, get: () => ctx.route },
        fault: { enumerable: true, get: () => ctx.fault },
      });
      requests.push(record);
      if (requests.length > 1_000_000) requests.splice(0, requests.length - 1_000_000);
      req.on('error', () => undefined);
      res.on('error', () => undefined);
      if (cdn) ctx.route = 'cdn';
      if (ctx.answerStatusFault()) {
        req.resume();
        return;
      }
      const latency = ctx.latencyMs;
      (latency > 0 ? new Promise<void>((resolve) => setTimeout(resolve, latency)) : Promise.resolve())
        .then(() => handler(ctx))
        .catch((e: unknown) => {
          if (!res.headersSent) ctx.error({ status: 500, message: `emulator error: ${String(e)}` });
          else res.destroy();
        });
    });
  };

  const hubServer = listen((ctx) => routeHub(state, ctx), false);
  const cdnServer = listen((ctx) => handleCdn(state, ctx), true);
  const listenOn = (s: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve((s.address() as AddressInfo).port));
    });
  let hubPort: number;
  let cdnPort: number;
  try {
    cdnPort = await listenOn(cdnServer, 0);
    hubPort = await listenOn(hubServer, options.port ?? 0);
  } catch (e) {
    cdnServer.close();
    hubServer.close();
    throw e;
  }
  state.hubUrl = `http://127.0.0.1:${hubPort}`;
  // The CDN is another host, as cdn-lfs.hf.co is: clients drop Authorization on the redirect, and
  // huggingface_hub stops at a redirect that leaves the Hub's host name (it reads the file's metadata,
  // X-Repo-Commit and X-Linked-*, from the 302 itself). `localhost` is that other name for the same
  // listener on 127.0.0.1; curl, Node, Python and Go resolve it without DNS or from /etc/hosts, which
  // Nix also gives fixed-output builds in its sandbox.
  state.cdnUrl = `http://localhost:${cdnPort}`;

  const repoState = (repo: BuiltRepo): RepoState => ({
    spec: repo.spec,
    commits: repo.commits.map((c) => c.sha),
    refs: Object.fromEntries(repo.refs),
    filesAt(commit?: string): Map<string, Uint8Array> {
      const c = commit === undefined ? mainCommit(repo) : resolveRev(repo, commit);
      if (!c) throw new Error(`hub: ${repo.id} has no commit ${commit}`);
      const out = new Map<string, Uint8Array>();
      for (const [path, e] of c.files) {
        if (e.lfs && store.objects.has(e.lfs.sha256)) out.set(path, readFileSync(join(store.dir, e.lfs.sha256)));
        else out.set(path, e.blob);
      }
      return out;
    },
  });

  let closed: Promise<void> | null = null;
  const change = mutations(state);
  return {
    url: state.hubUrl,
    cdnUrl: state.cdnUrl,
    dataDir,
    repo(id: string, type: RepoType = 'model'): RepoState {
      const r = lookup(state, type, id);
      if (!r) throw new Error(`hub: no ${type} ${id}`);
      return repoState(r);
    },
    requests,
    cdnBytes: () => cdnBytes,
    resetStats() {
      requests.length = 0;
      cdnBytes = 0;
    },
    push: change.push,
    moveTag: change.moveTag,
    deleteRepo: change.deleteRepo,
    addFault: (f) => faults.add(f),
    clearFaults: () => {
      faults.clear();
      carried.clear();
    },
    close(): Promise<void> {
      closed ??= (async () => {
        closing = true;
        for (const c of children) c.kill('SIGKILL');
        const done = (s: Server) => new Promise<void>((r) => s.close(() => r()));
        const p = Promise.all([done(hubServer), done(cdnServer)]);
        hubServer.closeAllConnections();
        cdnServer.closeAllConnections();
        await p;
        if (ownDir) {
          rmSync(dataDir, { recursive: true, force: true });
          liveTempDirs.delete(dataDir);
        }
      })();
      return closed;
    },
  };
}
