/**
 * The contract between the worker process shell (worker.ts) and the role implementations.
 */
import { nowMs } from '../lib/cpu.js';
import type { Progress, RoleConfig, RoleResult } from '../lib/ipc.js';

/** Lets a role report to the orchestrator. */
export interface RoleApi {
  /** The role finished by itself (publishers, latency loops); call once. */
  done(result: RoleResult): void;
  /** Warm-up is over: the orchestrator starts its CPU window now. */
  measuring(): void;
}

/** A connected, ready role. */
export interface Role {
  /** Begins the measured phase. */
  start(): void;
  /** Counts so far. */
  progress(): Progress;
  /** Stops (closing connections) and returns the final result; idempotent. */
  stop(): Promise<RoleResult>;
}

/** Connects and prepares a role; resolves when it is ready to start. */
export type RoleFactory = (cfg: RoleConfig, api: RoleApi) => Promise<Role>;

/**
 * A role's end, run at most once: stamps `endAt`, lets `settle` write the final counts and close
 * the connection, then reports the result. `finished()` tells whether it ran (drop handlers and
 * timers check it). Costs one closure per role.
 */
export function roleFinisher(res: RoleResult, api: RoleApi, settle: () => void): { finish: () => void; finished: () => boolean } {
  let done = false;
  return {
    finish: () => {
      if (done) return;
      done = true;
      res.endAt = nowMs();
      settle();
      api.done(res);
    },
    finished: () => done,
  };
}
