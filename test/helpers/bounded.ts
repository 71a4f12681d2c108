/**
 * Bounded waits for tests (house rule: every wait has a bound and a clear failure message): a
 * promise that does not settle in time rejects with what was awaited, instead of hanging the run.
 */

/** Resolves as `p` does, or rejects after `ms` with "timed out after <ms> ms waiting for <what>". */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
