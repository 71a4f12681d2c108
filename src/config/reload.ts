/**
 * Config reload (SIGHUP, `herald reload`), the decision half: which changed options a running
 * server applies and which need a restart. The split follows nats-server reload.go diffOptions:
 * authentication and authorization, accounts, timeouts, limits checked per connection or per
 * message and logging are applied; listeners, storage, JetStream limits and the system account
 * are refused, and one refused key refuses the whole reload (the running configuration stays, as
 * in nats-server).
 */
import { DEFAULT_SYSTEM_ACCOUNT } from '../core/accounts.js';
import { ConfigError } from './errors.js';
import type { ServerOptions } from './options.js';

/** Options a running server applies on reload (nats-server reload.go has an option type for each). */
const RELOADABLE: ReadonlySet<keyof ServerOptions> = new Set<keyof ServerOptions>([
  'auth',
  'accounts',
  'authTimeoutMs',
  'logLevel',
  'maxConnections',
  'maxPayload',
  'maxControlLine',
  'pingIntervalMs',
  'maxPingsOut',
  'writeDeadlineMs',
  'lameDuckDurationMs',
  'lameDuckGracePeriodMs',
  // The NATS door's tls {} block: new connections get the new certificate (src/nats/tls.ts prepareTlsReload).
  'tls',
]);

/** The config key to name when a change is refused (the nats conf spelling where one exists). */
const CONF_KEY: Partial<Record<keyof ServerOptions, string>> = {
  host: 'host',
  port: 'port',
  httpHost: 'http (host)',
  httpPort: 'http_port',
  dataDir: 'jetstream.store_dir',
  jetstream: 'jetstream',
  maxPending: 'max_pending',
  maxOutbound: 'max_outbound',
  maxSubs: 'max_subscriptions',
  sync: 'jetstream.sync',
  maxFileStore: 'jetstream.max_file_store',
  maxMemStore: 'jetstream.max_mem_store',
  portsFileDir: 'ports_file_dir',
  serverName: 'server_name',
  logFormat: 'log_format',
  redisPort: 'redis_port',
};

/** What a reload changes: the reloadable options whose value differs. */
export interface ReloadPlan {
  readonly changed: readonly (keyof ServerOptions)[];
}

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Compares the running options with freshly loaded ones. Throws a ConfigError naming the first
 * key that changed but cannot change without a restart (`config reload not supported for port:
 * old=4222, new=4223`, nats-server's wording); a random port (0) in the new file keeps the
 * bound one, as nats-server ignores RANDOM_PORT on reload. Pure: applies nothing.
 */
export function planReload(running: ServerOptions, next: ServerOptions): ReloadPlan {
  checkSystemAccount(running, next);
  const changed: (keyof ServerOptions)[] = [];
  for (const k of Object.keys(next) as (keyof ServerOptions)[]) {
    if (same(running[k], next[k])) continue;
    if (RELOADABLE.has(k)) {
      changed.push(k);
      continue;
    }
    if ((k === 'port' || k === 'httpPort') && next[k] === 0) continue;
    const key = CONF_KEY[k] ?? k;
    throw new ConfigError(
      `config reload not supported for ${key}: old=${JSON.stringify(running[k])}, new=${JSON.stringify(next[k])}; restart the server to change it`,
      { key },
    );
  }
  return { changed };
}

/**
 * nats-server reload.go diffOptions refuses any change of `system_account` (only its own
 * default-to-unset case passes), naming the Go field; an unset system account prints as empty.
 */
function checkSystemAccount(running: ServerOptions, next: ServerOptions): void {
  const shown = (name: string): string => (name === DEFAULT_SYSTEM_ACCOUNT ? '' : name);
  const [a, b] = [running.accounts.systemAccount, next.accounts.systemAccount];
  if (a === b) return;
  throw new ConfigError(
    `config reload not supported for SystemAccount: old=${shown(a)}, new=${shown(b)}; restart the server to change it`,
    { key: 'system_account' },
  );
}
