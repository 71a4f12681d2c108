/**
 * `/accountz` (nats-server monitor.go, Accountz): the account names and the system account, or
 * with `acc=<name>` a minimal `account_detail` — JetStream on or off, client connections,
 * subscriptions, and the exports and imports the config declared. Built per request.
 */
import type { AccountSet } from '../core/accounts.js';
import type { ConnectionRegistry } from '../core/connections.js';
import { MonitorQueryError } from './monitor.js';

/** nats-server prints a service export's response type capitalised. */
const RESPONSE_TYPE = { singleton: 'Singleton', stream: 'Stream', chunked: 'Chunked' } as const;

/** The /accountz body without server_id/now. `jetstream(name)` says whether the account runs JetStream. */
export function buildAccountz(
  accounts: AccountSet,
  connections: ConnectionRegistry,
  jetstream: (account: string) => boolean,
  q: URLSearchParams,
): object {
  const system = accounts.system.name;
  const name = q.get('acc') ?? '';
  if (name === '') return { system_account: system, accounts: [...accounts.byName.keys()].sort() };
  const acc = accounts.get(name);
  if (acc === undefined) throw new MonitorQueryError(`Account ${name} does not exist`);
  let clients = 0;
  for (const r of connections.open.values()) if ((r.conn.account ?? '$G') === name) clients++;
  const spec = acc.spec;
  return {
    system_account: system,
    account_detail: {
      account_name: name,
      jetstream_enabled: jetstream(name),
      client_connections: clients,
      subscriptions: acc.router.sublist.count,
      exports: (spec?.exports ?? []).map((e) => ({
        subject: e.subject,
        type: e.kind,
        ...(e.kind === 'service' ? { response_type: RESPONSE_TYPE[e.responseType] } : {}),
        ...(e.accounts !== null ? { approved_accounts: e.accounts } : {}),
      })),
      imports: (spec?.imports ?? []).map((i) => ({
        subject: i.subject,
        account: i.account,
        ...(i.to !== null ? { to: i.to } : i.prefix !== null ? { to: `${i.prefix}.${i.subject}` } : {}),
        type: i.kind,
        invalid: false,
      })),
    },
  };
}

/** Router counters summed over every account, for /varz (a message crossing an import counts in both accounts). */
export function routerTotals(accounts: AccountSet): {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  sublist: { count: number };
} {
  const t = { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0, sublist: { count: 0 } };
  for (const a of accounts.byName.values()) {
    const r = a.router;
    t.inMsgs += r.inMsgs;
    t.outMsgs += r.outMsgs;
    t.inBytes += r.inBytes;
    t.outBytes += r.outBytes;
    t.sublist.count += r.sublist.count;
  }
  return t;
}
