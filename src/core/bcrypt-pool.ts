/**
 * Asynchronous bcrypt verification for CONNECT (and the Redis door's AUTH): the compare runs on
 * one worker thread, and successful verifications are remembered under a keyed hash so a client
 * that reconnects with the same password does not pay bcrypt again.
 *
 * Why a worker and not bcryptjs's async `compare`: bcryptjs slices its rounds into chunks of up
 * to 100 ms on the main thread, so every other client would still stall for that long. nats-server
 * (auth.go comparePasswords) runs bcrypt on the connection's goroutine, which Go spreads over
 * cores; one worker is the Node equivalent that leaves the event loop its own core.
 *
 * Why a cache: clients reconnect (every nats.js reconnect re-sends CONNECT) and test harnesses
 * open many connections with one user. A verified (hash, password) pair is stored as
 * HMAC-SHA256 under a key drawn at start-up, never the password itself; failures are never
 * cached, so guessing stays bcrypt-expensive. The cost: someone who can read the process memory
 * (and so the key) could test guesses against cached entries at HMAC speed rather than bcrypt
 * speed — the same person can already read every connection's traffic.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Worker as WorkerType } from 'node:worker_threads';

/** Verified (hash, password) pairs remembered; the oldest is forgotten past this (one entry ≈ 100 B). */
const VERIFIED_CACHE_MAX = 4096;
/** bcrypt compares that may wait for the worker; past this a compare fails at once (a login flood
 * must not grow memory without bound; the auth timeout closes those clients anyway). */
const MAX_QUEUED = 10_000;

const cacheKey = randomBytes(32);
const verified = new Map<string, true>();
/** Compares in flight by cache key: concurrent logins with the same credentials share one compare. */
const inFlight = new Map<string, Promise<boolean>>();
const waiting = new Map<number, (ok: boolean) => void>();
let nextId = 1;
let worker: WorkerType | null = null;
/** Set when the worker cannot start: compares then run synchronously on the event loop. */
let noWorker = false;

function keyOf(hash: string, given: string): string {
  return createHmac('sha256', cacheKey).update(hash).update('\0').update(given).digest('base64');
}

/** bcryptjs on the event loop: the fallback when worker threads are unavailable. */
function compareOnLoop(hash: string, given: string): boolean {
  try {
    const b = createRequire(import.meta.url)('bcryptjs') as { compareSync(p: string, h: string): boolean };
    return b.compareSync(given, hash);
  } catch {
    return false;
  }
}

function startWorker(): WorkerType | null {
  if (worker !== null || noWorker) return worker;
  try {
    const { Worker } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
    const w = new Worker(new URL('./bcrypt-worker.js', import.meta.url));
    // An idle worker must not keep the process alive; it is re-referenced while work is queued.
    w.unref();
    w.on('message', (m: { id: number; ok: boolean }) => {
      const done = waiting.get(m.id);
      waiting.delete(m.id);
      if (waiting.size === 0) w.unref();
      done?.(m.ok);
    });
    w.on('error', () => failWorker(w));
    w.on('exit', () => failWorker(w));
    worker = w;
  } catch {
    noWorker = true;
  }
  return worker;
}

/** The worker died: everything waiting fails closed (an authorization violation, never a pass). */
function failWorker(w: WorkerType): void {
  if (worker === w) worker = null;
  for (const done of waiting.values()) done(false);
  waiting.clear();
}

function compareInWorker(hash: string, given: string): Promise<boolean> {
  const w = startWorker();
  if (w === null) return Promise.resolve(compareOnLoop(hash, given));
  if (waiting.size >= MAX_QUEUED) return Promise.resolve(false);
  const id = nextId++;
  return new Promise<boolean>((resolve) => {
    waiting.set(id, resolve);
    w.ref();
    w.postMessage({ id, hash, given });
  });
}

/**
 * True when `given` matches the bcrypt `hash`. Never throws; a malformed hash is a mismatch.
 * Costs one HMAC when this pair was verified before, else one bcrypt compare on the worker.
 */
export async function bcryptVerify(hash: string, given: string): Promise<boolean> {
  const key = keyOf(hash, given);
  if (verified.has(key)) return true;
  let p = inFlight.get(key);
  if (p === undefined) {
    p = compareInWorker(hash, given).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  const ok = await p;
  if (ok && !verified.has(key)) {
    if (verified.size >= VERIFIED_CACHE_MAX) verified.delete(verified.keys().next().value as string);
    verified.set(key, true);
  }
  return ok;
}

/** Compares waiting for or running on the worker (for tests and /varz-style introspection). */
export function bcryptQueued(): number {
  return waiting.size;
}
