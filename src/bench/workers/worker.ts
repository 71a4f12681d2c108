/**
 * The load-generator process: forked by the orchestrator (runner.ts), it plays one role given in
 * the first IPC message. It exits when told to stop, when the orchestrator goes away, or when its
 * watchdog fires, so no worker outlives a run.
 */
import type { ChildMsg, ParentMsg, RoleConfig, RoleName } from '../lib/ipc.js';
import { clientPub, clientSub } from './client-roles.js';
import { jsConsume, jsConsumeFan, jsPub, jsSync, natsPub, natsReplier, natsRequester, natsSub } from './nats-roles.js';
import { redisPipe, redisSub, redisXaddSync, redisXreadgroup } from './redis-roles.js';
import type { Role, RoleFactory } from './role.js';

/** Extra life beyond the role's own duration before the watchdog kills the process, ms. */
const WATCHDOG_GRACE_MS = 90_000;

const FACTORIES: Record<RoleName, RoleFactory> = {
  'nats-pub': natsPub,
  'nats-sub': natsSub,
  'nats-requester': natsRequester,
  'nats-replier': natsReplier,
  'js-pub': jsPub,
  'js-sync': jsSync,
  'js-consume': jsConsume,
  'js-consume-fan': jsConsumeFan,
  'redis-pub': redisPipe,
  'redis-xadd': redisPipe,
  'redis-sub': redisSub,
  'redis-xadd-sync': redisXaddSync,
  'redis-xreadgroup': redisXreadgroup,
  'client-pub': clientPub,
  'client-sub': clientSub,
};

function send(msg: ChildMsg, then?: () => void): void {
  if (!process.send || !process.connected) {
    then?.();
    return;
  }
  process.send(msg, undefined, {}, () => then?.());
}

let role: Role | null = null;
let ending = false;

function end(code: number): void {
  if (ending) return;
  ending = true;
  // Leave time for the last IPC message to be written, then go.
  setTimeout(() => process.exit(code), 20);
}

async function onInit(cfg: RoleConfig): Promise<void> {
  setTimeout(
    () => {
      send({ t: 'error', message: `${cfg.label}: watchdog fired` }, () => process.exit(3));
    },
    cfg.durationMs + cfg.floorMs + WATCHDOG_GRACE_MS,
  ).unref();
  const factory = FACTORIES[cfg.role];
  role = await factory(cfg, {
    done: (result) => send({ t: 'done', result }),
    measuring: () => send({ t: 'measuring', at: Number(process.hrtime.bigint()) / 1e6 }),
  });
  send({ t: 'ready' });
}

process.on('message', (m: ParentMsg) => {
  switch (m.t) {
    case 'init':
      onInit(m.cfg).catch((e: unknown) => {
        send({ t: 'error', message: `${m.cfg.label}: ${e instanceof Error ? e.message : String(e)}` }, () => end(2));
      });
      break;
    case 'start':
      role?.start();
      break;
    case 'poll':
      if (role) send({ t: 'progress', p: role.progress() });
      break;
    case 'stop':
      if (!role) {
        end(0);
        break;
      }
      role
        .stop()
        .then((result) => send({ t: 'result', result }, () => end(0)))
        .catch((e: unknown) => send({ t: 'error', message: String(e) }, () => end(2)));
      break;
  }
});

process.on('disconnect', () => end(0));
process.on('uncaughtException', (e) => {
  send({ t: 'error', message: `uncaught: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` }, () => end(2));
});
