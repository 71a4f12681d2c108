/**
 * The write loop the crash children share: every event-loop turn, while fewer than MAX_OUTSTANDING
 * appends wait for durability, `turn` writes a burst and returns how many appends it made and the
 * lines to print once `whenDurable` fired for them. The parent SIGKILLs the child at some moment.
 */
import type { MessageStore } from '../../src/store/store.js';

/** Appends kept in flight before waiting for durability: load without unbounded memory. */
const MAX_OUTSTANDING = 1000;

/** One turn's work: appends made and the report to print when they are durable. */
export interface TurnResult {
  appends: number;
  report: string;
}

/** Prints "ready <next seq>" and runs `turn` every event-loop turn until the process is killed. */
export function runTurns(store: MessageStore, turn: () => TurnResult): void {
  let outstanding = 0;
  process.stdout.write(`ready ${store.state().lastSeq + 1}\n`);
  const step = (): void => {
    if (outstanding < MAX_OUTSTANDING) {
      const r = turn();
      outstanding += r.appends;
      store.whenDurable((err) => {
        if (err !== null) throw err;
        outstanding -= r.appends;
        process.stdout.write(r.report);
      });
    }
    setImmediate(step);
  };
  step();
}

/** Runs a child's `main`, printing a failure to stderr and exiting 2 (the parent reports it). */
export function childMain(main: () => Promise<void>): void {
  main().catch((e) => {
    process.stderr.write(String(e?.stack ?? e) + '\n');
    process.exit(2);
  });
}

/** Calls `onLine` for every complete line of a child's stdout (lines after a kill included). */
export function onLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line);
    }
  });
}
