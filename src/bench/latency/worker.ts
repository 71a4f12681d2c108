/**
 * A latency-bench generator process: forked by the orchestrator (proc.ts), it plays one role
 * given in the first IPC message and exits when told to stop, when the orchestrator goes away,
 * or when its watchdog fires.
 */
import { nowMs } from '../lib/cpu.js';
import type { LatChildMsg, LatParentMsg, LatRole, LatRoleConfig } from './ipc.js';
import { publisherRole } from './publisher.js';
import { subscriberRole } from './subscriber.js';

/** Life beyond the role's own schedule before the watchdog ends the process, ms. */
const WATCHDOG_GRACE_MS = 120_000;

function send(msg: LatChildMsg, then?: () => void): void {
  if (!process.send || !process.connected) {
    then?.();
    return;
  }
  process.send(msg, undefined, {}, () => then?.());
}

let role: LatRole | null = null;
let ending = false;

function end(code: number): void {
  if (ending) return;
  ending = true;
  setTimeout(() => process.exit(code), 20);
}

async function onInit(cfg: LatRoleConfig): Promise<void> {
  setTimeout(
    () => send({ t: 'error', message: `${cfg.label}: watchdog fired` }, () => process.exit(3)),
    cfg.warmupMs + cfg.durationMs + cfg.connectTimeoutMs + WATCHDOG_GRACE_MS,
  ).unref();
  role = cfg.kind === 'pub' ? await publisherRole(cfg, () => send({ t: 'finished', at: nowMs() })) : await subscriberRole(cfg);
  send({ t: 'ready' });
}

process.on('message', (m: LatParentMsg) => {
  switch (m.t) {
    case 'init':
      onInit(m.cfg).catch((e: unknown) =>
        send({ t: 'error', message: `${m.cfg.label}: ${e instanceof Error ? e.message : String(e)}` }, () => end(2)),
      );
      break;
    case 'start':
      role?.start(m.atMs);
      break;
    case 'poll':
      if (role) send({ t: 'progress', ...role.progress() });
      break;
    case 'stop':
      if (!role) {
        end(0);
        break;
      }
      role.stop().then(
        (result) => send({ t: 'result', result }, () => end(0)),
        (e: unknown) => send({ t: 'error', message: String(e) }, () => end(2)),
      );
      break;
  }
});

process.on('disconnect', () => end(0));
process.on('uncaughtException', (e) => {
  send({ t: 'error', message: `uncaught: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` }, () => end(2));
});
