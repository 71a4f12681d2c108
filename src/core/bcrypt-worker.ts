/**
 * The bcrypt worker thread (started by src/core/bcrypt-pool.ts): answers `{ id, hash, given }`
 * with `{ id, ok }`. bcryptjs is pure JavaScript, so a compare at cost 10–11 is 50–100 ms of CPU;
 * here it runs beside the event loop instead of on it.
 */
import { parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';

interface Bcrypt {
  compareSync(password: string, hash: string): boolean;
}
const bcrypt = createRequire(import.meta.url)('bcryptjs') as Bcrypt;

parentPort!.on('message', (m: { id: number; hash: string; given: string }) => {
  let ok = false;
  try {
    ok = bcrypt.compareSync(m.given, m.hash);
  } catch {
    ok = false;
  }
  parentPort!.postMessage({ id: m.id, ok });
});
