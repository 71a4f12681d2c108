/**
 * The monitoring listener's routes, mounted on whatever satisfies MonitoredServer: nats-server's
 * endpoint set and field names, so existing tooling reads them.
 */
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from '../core/log.js';
import { CpuSampler } from './cpu.js';
import { buildConnz, buildHealthz, buildJsz, buildSubsz, buildVarz } from './endpoints.js';
import { buildAccountz } from './accountz.js';
import { MonitorServer } from './monitor.js';
import type { MonitoredServer } from './stats.js';

/** Starts the monitoring listener on host:port (0 = any free port) with every endpoint mounted;
 * over HTTPS when `tls` is given. */
export async function mountMonitoring(
  s: MonitoredServer,
  log: Logger,
  host: string,
  port: number,
  tls: SecureContextOptions | null = null,
): Promise<MonitorServer> {
  const m = new MonitorServer(log, tls);
  const cpu = new CpuSampler();
  m.route('/', () => ({ links: ['/varz', '/connz', '/subsz', '/accountz', '/healthz', '/jsz', '/redisz'] }));
  m.route('/healthz', () => buildHealthz());
  m.route('/varz', () => buildVarz(s, m, cpu));
  m.route('/connz', (q) => buildConnz(s, q));
  m.route('/subsz', (q) => buildSubsz(s, q));
  const accounts = s.accounts;
  if (accounts !== undefined) {
    m.route('/accountz', (q) => ({
      server_id: s.serverId,
      now: new Date().toISOString(),
      ...buildAccountz(accounts, s.connections, (a) => s.jetstreams?.has(a) === true, q),
    }));
  }
  m.route('/jsz', (q) => buildJsz(s, q));
  // herald's own: the Redis door's streams, as /jsz is JetStream's (docs/redis.md, "Monitoring").
  m.route('/redisz', (q) =>
    s.redis == null
      ? { server_id: s.serverId, now: new Date().toISOString(), disabled: true }
      : { server_id: s.serverId, now: new Date().toISOString(), ...s.redis.redisz(q) },
  );
  await m.listen(host, port);
  return m;
}
