/**
 * A stream's metadata file, `<storeDir>/streams/<name>/meta.json`: its config and creation time.
 * Written atomically (temp file, fsync, rename, fsync of the directory) so a crash leaves either
 * the old or the new file, never a torn one. Costs two fsyncs per write; written only on
 * create and update, never on the publish path.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DATA_DIR_MODE, DATA_FILE_MODE } from '../store/modes.js';

/** Bumped when the file's shape changes incompatibly; recovery refuses newer versions. */
export const META_VERSION = 1;
export const META_FILE = 'meta.json';

/** What meta.json holds. `config` is the echoed config JSON; `created` is RFC 3339. */
export interface StreamMeta {
  version: number;
  created: string;
  config: Record<string, unknown>;
}

/** Directory of stream `name` under the JetStream store dir. */
export function streamDir(storeDir: string, name: string): string {
  return join(storeDir, 'streams', name);
}

/** Writes `meta` into `dir` atomically and durably. */
export async function writeMeta(dir: string, meta: StreamMeta): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: DATA_DIR_MODE });
  if (created !== undefined) {
    // The new directories' entries must be durable too: sync each parent up to the first one made.
    const stop = dirname(created);
    for (let d = dirname(dir); ; d = dirname(d)) {
      await syncDir(d);
      if (d === stop || d === dirname(d)) break;
    }
  }
  const file = join(dir, META_FILE);
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', DATA_FILE_MODE);
  try {
    await fh.writeFile(JSON.stringify(meta, null, 2) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncDir(dir);
}

/** Reads meta.json from `dir`; throws when missing or unreadable. */
export async function readMeta(dir: string): Promise<StreamMeta> {
  const text = await readFile(join(dir, META_FILE), 'utf8');
  const meta = JSON.parse(text) as StreamMeta;
  if (typeof meta !== 'object' || meta === null || typeof meta.config !== 'object') throw new Error('meta.json has no config');
  if (typeof meta.version !== 'number' || meta.version > META_VERSION)
    throw new Error(`meta.json version ${String(meta.version)} is newer than this herald`);
  return meta;
}

/** Removes a stream's whole directory (after its store was destroyed) and syncs the parent. */
export async function removeStreamDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await syncDir(join(dir, '..')).catch(() => undefined);
}

/** fsync of a directory, so a rename or unlink inside it is durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
