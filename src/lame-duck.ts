/**
 * Lame-duck mode, as nats-server server.go lameDuckMode does it: stop accepting, stop JetStream,
 * tell every client with an INFO carrying `"ldm": true` (clients then reconnect elsewhere at
 * leisure), wait the grace period, then close the clients one at a time spread over the rest of
 * the lame-duck duration (at most one second apart), and finally shut the server down.
 */

/** The parts of a server lame-duck mode drives (src/server.ts implements it). */
export interface LameDuckTarget {
  readonly log: { info(o: object, msg: string): void; info(msg: string): void };
  readonly lameDuckDurationMs: number;
  readonly lameDuckGracePeriodMs: number;
  /** Stops every door accepting connections (does not wait for existing ones). */
  stopAccepting(): void;
  /** Stops JetStream (streams synced and closed) before clients are told. */
  stopJetStream(): Promise<void>;
  /** Connections that are open now, each with a way to close it as "Server Shutdown". */
  openClients(): { close(): void }[];
  /** Sends INFO `{ldm: true}` to every client that understands async INFO. */
  announce(): void;
  /** The graceful shutdown that ends lame-duck mode. */
  close(): Promise<void>;
}

/** nats-server: never more than a second between two client closes, however long the duration. */
const MAX_CLOSE_INTERVAL_MS = 1000;
/** With a duration shorter than one ms per client, clients are closed in batches per tick. */
const MIN_CLOSE_INTERVAL_MS = 1;

/**
 * Runs lame-duck mode to its end (the server closed). `aborted()` is polled between steps: a
 * shutdown that starts meanwhile (a second signal) ends the gradual closing at once.
 */
export async function runLameDuck(t: LameDuckTarget, aborted: () => boolean): Promise<void> {
  t.log.info('Entering lame duck mode, stop accepting new clients');
  t.stopAccepting();
  await t.stopJetStream();
  const clients = t.openClients();
  if (clients.length === 0 || aborted()) return t.close();
  let dur = t.lameDuckDurationMs - t.lameDuckGracePeriodMs;
  if (dur <= 0) dur = 1000;
  let si = dur / clients.length;
  let batch = 1;
  if (si < MIN_CLOSE_INTERVAL_MS) {
    si = MIN_CLOSE_INTERVAL_MS;
    batch = Math.max(1, Math.floor(clients.length / dur));
  } else if (si > MAX_CLOSE_INTERVAL_MS) {
    si = MAX_CLOSE_INTERVAL_MS;
  }
  t.announce();
  t.log.info({ clients: clients.length, grace_ms: t.lameDuckGracePeriodMs, spread_ms: Math.round(si * clients.length) }, 'lame duck: clients told (INFO ldm)');
  await sleep(t.lameDuckGracePeriodMs);
  if (aborted()) return t.close();
  t.log.info('Closing existing clients');
  for (let i = 0; i < clients.length; i++) {
    clients[i]!.close();
    if (i === clients.length - 1) break;
    if (batch === 1 || i % batch === 0) {
      // A random pause of at least half the interval, as nats-server does.
      await sleep(Math.max(si / 2, Math.random() * si));
      if (aborted()) break;
    }
  }
  return t.close();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
