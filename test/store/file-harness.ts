/** The file-store harness the shared suites run on: a temp directory, sync always, tiny segments. */
import { openFileStore } from '../../src/store/file/index.js';
import type { MessageStore } from '../../src/store/store.js';
import { removeDir, tempDir } from './helpers.js';
import type { StoreHarness } from './suite.js';

const dirs = new WeakMap<MessageStore, string>();

/** Opens the file store in `dir` (4 KiB segments, so rotation and compaction happen). */
export async function openFileAt(dir: string): Promise<MessageStore> {
  const { store } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: 4096 });
  dirs.set(store, dir);
  return store;
}

/** A harness whose stores live in fresh temp directories named after `prefix`. */
export function fileHarness(prefix: string): StoreHarness {
  return {
    name: 'file',
    open: () => openFileAt(tempDir(prefix)),
    reopen: async (s) => {
      const dir = dirs.get(s) as string;
      await s.close();
      return openFileAt(dir);
    },
    cleanup: async (s) => {
      const dir = dirs.get(s) as string;
      await s.destroy();
      removeDir(dir);
    },
  };
}
