/**
 * Sharded Pub/Sub (Redis 7.0 group `pubsub`): SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, as a standalone
 * redis-server 7.0 runs them (pubsub.c): shard channels are a namespace of their own, with no
 * patterns; SPUBLISH reaches only SSUBSCRIBE'd clients and PUBLISH never reaches them. herald keeps
 * them in the Redis door (RespDoor.shardSubs), not in the router, so NATS never sees them
 * (docs/redis.md, "Sharded Pub/Sub"). Events count shard channels only; Pub/Sub mode lasts while
 * any channel, pattern or shard channel remains.
 */
import type { RespConnection } from '../connection.js';
import { def, type CommandSpec } from './spec.js';
import { event } from './pubsub.js';

function ssubscribe(c: RespConnection, argv: Buffer[]): void {
  for (let i = 1; i < argv.length; i++) {
    const ch = argv[i].toString('latin1');
    if (!c.shardChannels.has(ch)) {
      if (!c.inPubsub) c.enterPubsub();
      c.shardChannels.add(ch);
      c.door.shardAdded(c, ch);
    }
    event(c, 'ssubscribe', ch, c.shardChannels.size);
  }
}

function sunsubscribe(c: RespConnection, argv: Buffer[]): void {
  const names = argv.length > 1 ? argv.slice(1).map((b) => b.toString('latin1')) : [...c.shardChannels];
  if (names.length === 0) return event(c, 'sunsubscribe', null, 0);
  for (const ch of names) {
    if (c.shardChannels.delete(ch)) {
      c.shardPrefixes.delete(ch);
      c.door.shardRemoved(c, ch);
      if (!c.inPubsub) c.leavePubsub();
    }
    event(c, 'sunsubscribe', ch, c.shardChannels.size);
  }
}

function spublish(c: RespConnection, argv: Buffer[]): void {
  const subs = c.door.shardSubs.get(argv[1].toString('latin1'));
  if (subs === undefined) return c.writer.int(0);
  const ch = argv[1].toString('latin1');
  // Counted first: a subscriber closed by its output-buffer limit leaves the Set while we iterate.
  const n = subs.size;
  for (const s of subs) s.deliverShard(ch, argv[2]);
  c.writer.int(n);
}

const flags = ['pubsub', 'noscript', 'loading', 'stale'];

/** The sharded Pub/Sub entries (PUBSUB SHARDCHANNELS/SHARDNUMSUB live in pubsub.ts's container). */
export const SHARD_COMMANDS: readonly CommandSpec[] = [
  def({
    name: 'ssubscribe',
    arity: -2,
    group: 'pubsub',
    since: '7.0.0',
    summary: 'Listens for messages published to shard channels.',
    flags,
    firstKey: 1,
    lastKey: -1,
    step: 1,
    inSubscribedContext: true,
    channels: 'subscribe',
    handler: ssubscribe,
  }),
  def({
    name: 'sunsubscribe',
    arity: -1,
    group: 'pubsub',
    since: '7.0.0',
    summary: 'Stops listening to messages posted to shard channels.',
    flags,
    firstKey: 1,
    lastKey: -1,
    step: 1,
    inSubscribedContext: true,
    handler: sunsubscribe,
  }),
  def({
    name: 'spublish',
    arity: 3,
    group: 'pubsub',
    since: '7.0.0',
    summary: 'Posts a message to a shard channel.',
    flags: ['pubsub', 'loading', 'stale', 'fast', 'may_replicate'],
    firstKey: 1,
    lastKey: 1,
    step: 1,
    channels: 'publish',
    handler: spublish,
  }),
];
