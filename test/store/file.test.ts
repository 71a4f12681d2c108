/** The shared behavioural suite against the file store (tiny segments, so rotation, compaction and
 * segment removal all happen), plus restart persistence. */
import { openFileStore } from '../../src/store/file/index.js';
import type { MessageStore } from '../../src/store/store.js';
import { removeDir, tempDir } from './helpers.js';
import { storeSuite } from './suite.js';

const dirs = new WeakMap<MessageStore, string>();

async function openAt(dir: string): Promise<MessageStore> {
  const { store } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: 4096 });
  dirs.set(store, dir);
  return store;
}

storeSuite({
  name: 'file',
  open: () => openAt(tempDir('store')),
  reopen: async (s) => {
    const dir = dirs.get(s) as string;
    await s.close();
    return openAt(dir);
  },
  cleanup: async (s) => {
    const dir = dirs.get(s) as string;
    await s.destroy();
    removeDir(dir);
  },
});
