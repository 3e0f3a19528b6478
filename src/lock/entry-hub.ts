/**
 * The Hub an entry came from. An entry records its endpoint (when not the
 * default), and `update` / `outdated` ask that Hub, whatever HF_ENDPOINT
 * says now. The token goes only where `fetch` would send it — to
 * HF_ENDPOINT: a lock file from someone else's repository that names another
 * host gets anonymous requests (API and git alike), never your token.
 */
import { createHubClient, type HubClient } from '../hub/client.js';
import { DEFAULT_ENDPOINT } from '../settings/endpoint.js';
import type { Settings } from '../settings/index.js';
import type { Logger } from '../ui/logger.js';

/** An entry's Hub: the settings pinning and building use for it, and its client. */
export interface EntryHub {
  /** The user's settings, with the entry's endpoint (and no token when that is another Hub than HF_ENDPOINT's). */
  settings: Settings;
  hub: HubClient;
  /** Whether requests there carry the user's token. */
  sendsToken: boolean;
}

export interface EntryHubs {
  /** The Hub of an entry with this endpoint (null: the default one). */
  of(endpoint: string | null): EntryHub;
}

/** One client per Hub for a whole command; the user's own client (`userHub`) for HF_ENDPOINT. */
export function entryHubs(settings: Settings, userHub: () => HubClient, logger: Logger): EntryHubs {
  const known = new Map<string, EntryHub>();
  return {
    of(endpoint) {
      const wanted = endpoint ?? DEFAULT_ENDPOINT;
      let found = known.get(wanted);
      if (!found) {
        if (wanted === settings.endpoint()) found = { settings, hub: userHub(), sendsToken: true };
        else {
          const anonymous: Settings = { ...settings, endpoint: () => wanted, token: () => null };
          found = { settings: anonymous, hub: createHubClient({ endpoint: wanted, token: null, http: settings.http() }, logger), sendsToken: false };
        }
        known.set(wanted, found);
      }
      return found;
    },
  };
}
