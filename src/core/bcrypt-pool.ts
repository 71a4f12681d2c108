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
 *
 * Why a queue on this side: a flood of wrong passwords must not keep the worker busy for honest
 * users. Only one compare is on the worker at a time; the rest wait here, where a compare whose
 * connection closed is dropped (VerifyOptions.signal), each remote address may queue at most
 * MAX_QUEUED_PER_ORIGIN, and addresses are served in turn — so one attacker's backlog delays an
 * honest login from elsewhere by at most one compare per waiting address.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Worker as WorkerType } from 'node:worker_threads';

/** Verified (hash, password) pairs remembered; the oldest is forgotten past this (one entry ≈ 100 B). */
const VERIFIED_CACHE_MAX = 4096;
/** bcrypt compares that may wait for the worker; past this a compare fails at once (a login flood
 * must not grow memory without bound; the auth timeout closes those clients anyway). */
const MAX_QUEUED = 10_000;
/** Compares one remote address may have waiting; past this its next one fails at once. At cost 10
 * (≈60 ms) 32 compares are ≈2 s of worker time — one auth timeout — so one address cannot starve
 * the rest, while a NAT'ed office of honest clients reconnecting together still fits. */
export const MAX_QUEUED_PER_ORIGIN = 32;

/** Who asks for a compare, so the pool can share the worker fairly and drop abandoned work. */
export interface VerifyOptions {
  /** Aborted when the asking connection closes: a compare nobody waits for any more is dropped
   * from the queue (one already on the worker runs to its end; its answer is then ignored). */
  readonly signal?: AbortSignal;
  /** The remote address: the queue is served round-robin by address, each capped at
   * MAX_QUEUED_PER_ORIGIN. '' (the default) is one shared origin. */
  readonly origin?: string;
}

/** One caller waiting for a job's verdict. */
interface Waiter {
  resolve(ok: boolean): void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** One bcrypt compare, shared by every concurrent caller with the same (hash, password). */
interface Job {
  readonly id: number;
  readonly key: string;
  readonly hash: string;
  readonly given: string;
  readonly origin: string;
  readonly waiters: Set<Waiter>;
  /** On the worker (no longer cancellable). */
  running: boolean;
}

const cacheKey = randomBytes(32);
const verified = new Map<string, true>();
/** Jobs queued or running, by cache key: concurrent logins with the same credentials share one compare. */
const jobs = new Map<string, Job>();
/** Queued jobs by origin, in arrival order; the Map's order is the round-robin order of origins. */
const queues = new Map<string, Job[]>();
let queued = 0;
/** The job on the worker: one at a time, so everything else stays cancellable. */
let running: Job | null = null;
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
      const job = running;
      if (job === null || job.id !== m.id) return;
      running = null;
      finish(job, m.ok);
      pump();
    });
    w.on('error', () => failWorker(w));
    w.on('exit', () => failWorker(w));
    worker = w;
  } catch {
    noWorker = true;
  }
  return worker;
}

/** Answers every caller still waiting for `job`; a success is remembered, a failure never is. */
function finish(job: Job, ok: boolean): void {
  jobs.delete(job.key);
  if (ok && job.waiters.size > 0 && !verified.has(job.key)) {
    if (verified.size >= VERIFIED_CACHE_MAX) verified.delete(verified.keys().next().value as string);
    verified.set(job.key, true);
  }
  for (const w of job.waiters) {
    w.signal?.removeEventListener('abort', w.onAbort);
    w.resolve(ok);
  }
  job.waiters.clear();
}

/** The worker died: everything running or waiting fails closed (an authorization violation, never a pass). */
function failWorker(w: WorkerType): void {
  if (worker !== w) return;
  worker = null;
  const all = [...jobs.values()];
  running = null;
  queues.clear();
  queued = 0;
  for (const job of all) finish(job, false);
}

/** Sends the next queued job to the worker: the first origin in turn, which then goes to the back. */
function pump(): void {
  const w = worker;
  if (w === null || running !== null) {
    if (w !== null && running === null) w.unref();
    return;
  }
  for (const [origin, q] of queues) {
    queues.delete(origin);
    const job = q.shift() as Job;
    if (q.length > 0) queues.set(origin, q);
    queued--;
    job.running = true;
    running = job;
    w.ref();
    w.postMessage({ id: job.id, hash: job.hash, given: job.given });
    return;
  }
  w.unref();
}

/** Removes a queued job nobody waits for any more. */
function dropQueued(job: Job): void {
  const q = queues.get(job.origin);
  const i = q?.indexOf(job) ?? -1;
  if (q === undefined || i < 0) return;
  q.splice(i, 1);
  if (q.length === 0) queues.delete(job.origin);
  queued--;
  jobs.delete(job.key);
}

/** Waits for `job`'s verdict; resolves false at once when `signal` aborts (and drops the job if it was the last caller). */
function wait(job: Job, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const waiter: Waiter = {
      resolve,
      signal,
      onAbort: () => {
        if (!job.waiters.delete(waiter)) return;
        resolve(false);
        if (job.waiters.size === 0 && !job.running) dropQueued(job);
      },
    };
    job.waiters.add(waiter);
    signal?.addEventListener('abort', waiter.onAbort, { once: true });
  });
}

/**
 * True when `given` matches the bcrypt `hash`. Never throws; a malformed hash is a mismatch.
 * Costs one HMAC when this pair was verified before, else one bcrypt compare on the worker,
 * queued behind at most one compare per other waiting address (round-robin). Resolves false at
 * once when `opts.signal` is aborted, when the address already has MAX_QUEUED_PER_ORIGIN
 * compares waiting, or when the whole queue holds MAX_QUEUED.
 */
export async function bcryptVerify(hash: string, given: string, opts: VerifyOptions = {}): Promise<boolean> {
  const key = keyOf(hash, given);
  if (verified.has(key)) return true;
  if (opts.signal?.aborted === true) return false;
  const shared = jobs.get(key);
  if (shared !== undefined) return wait(shared, opts.signal);
  const w = startWorker();
  if (w === null) {
    const ok = compareOnLoop(hash, given);
    if (ok && verified.size < VERIFIED_CACHE_MAX) verified.set(key, true);
    return ok;
  }
  const origin = opts.origin ?? '';
  const q = queues.get(origin) ?? [];
  if (queued >= MAX_QUEUED || q.length >= MAX_QUEUED_PER_ORIGIN) return false;
  const job: Job = { id: nextId++, key, hash, given, origin, waiters: new Set(), running: false };
  jobs.set(key, job);
  q.push(job);
  if (q.length === 1) queues.set(origin, q);
  queued++;
  const p = wait(job, opts.signal);
  pump();
  return p;
}

/** Compares waiting for or running on the worker (for tests and /varz-style introspection). */
export function bcryptQueued(): number {
  return queued + (running === null ? 0 : 1);
}
