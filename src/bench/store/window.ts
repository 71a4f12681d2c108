/**
 * The producer loop of the store benches: each event-loop turn refills a window of appends up to
 * `maxOutstanding` waiting for durability, until `seconds` are over and the window has drained.
 */
import type { MessageStore } from '../../store/store.js';

/** What one windowed run did: appends confirmed durable and each burst's append→durable ms. */
export interface WindowRun {
  acked: number;
  secs: number;
  lat: number[];
}

/** Runs `appendOne` (which must append exactly one message) in windowed bursts for `seconds`. */
export async function runWindow(
  store: MessageStore,
  seconds: number,
  maxOutstanding: number,
  appendOne: () => void,
): Promise<WindowRun> {
  let outstanding = 0;
  let acked = 0;
  const lat: number[] = [];
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await new Promise<void>((resolve) => {
    const turn = (): void => {
      if (performance.now() >= deadline) {
        if (outstanding === 0) resolve();
        else setImmediate(turn);
        return;
      }
      const n = maxOutstanding - outstanding;
      if (n > 0) {
        for (let i = 0; i < n; i++) appendOne();
        outstanding += n;
        const t = performance.now();
        store.whenDurable((err) => {
          if (err !== null) throw err;
          outstanding -= n;
          acked += n;
          lat.push(performance.now() - t);
        });
      }
      setImmediate(turn);
    };
    turn();
  });
  return { acked, secs: (performance.now() - t0) / 1000, lat };
}
