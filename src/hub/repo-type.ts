/**
 * The three kinds of Hub repositories and where each lives: the Hub's API
 * segment (`/api/models|datasets|spaces/…`), its URL prefix (`datasets/…`,
 * `spaces/…`, nothing for models: pages, git, resolve), the folder prefix of
 * a Hugging Face cache (`models--org--name`) and the library function that
 * fetches it. Every module asks here instead of testing the type itself.
 */
import type { RepoRef, RepoType } from '../types.js';

export interface RepoTypeFacts {
  /** `/api/{apiSegment}/{id}`. */
  apiSegment: 'models' | 'datasets' | 'spaces';
  /** Before `org/name` in page, git and resolve URLs, and in the CLI's own reference. */
  urlPrefix: '' | 'datasets/' | 'spaces/';
  /** `{cachePrefix}--org--name` in an HF cache (huggingface_hub's `repo_folder_name`). */
  cachePrefix: 'models' | 'datasets' | 'spaces';
  /** The nix-hug library function that fetches it. */
  libFunction: 'fetchModel' | 'fetchDataset' | 'fetchSpace';
  /** The buildCache list it goes into. */
  cacheList: 'models' | 'datasets' | 'spaces';
}

export const REPO_TYPES: Readonly<Record<RepoType, RepoTypeFacts>> = {
  model: { apiSegment: 'models', urlPrefix: '', cachePrefix: 'models', libFunction: 'fetchModel', cacheList: 'models' },
  dataset: { apiSegment: 'datasets', urlPrefix: 'datasets/', cachePrefix: 'datasets', libFunction: 'fetchDataset', cacheList: 'datasets' },
  space: { apiSegment: 'spaces', urlPrefix: 'spaces/', cachePrefix: 'spaces', libFunction: 'fetchSpace', cacheList: 'spaces' },
};

/** The order a bare `org/name` is looked up in: the first that exists wins. */
export const LOOKUP_ORDER: readonly RepoType[] = ['model', 'dataset', 'space'];

export function isRepoType(value: unknown): value is RepoType {
  return value === 'model' || value === 'dataset' || value === 'space';
}

/**
 * The repository as the CLI takes it back and as its URL path on the Hub:
 * `org/name`, `datasets/org/name`, `spaces/org/name`.
 */
export function repoPath(repo: Pick<RepoRef, 'type' | 'repoId'>): string {
  return `${REPO_TYPES[repo.type].urlPrefix}${repo.repoId}`;
}

/** `{type}s--org--name`: the repository's folder in a Hugging Face cache. */
export function cacheFolderName(repo: Pick<RepoRef, 'type' | 'repoId'>): string {
  return `${REPO_TYPES[repo.type].cachePrefix}--${repo.repoId.split('/').join('--')}`;
}
