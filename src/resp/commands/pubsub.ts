/**
 * Pub/Sub (Redis group `pubsub`) through herald's router, so channels and NATS subjects are one
 * space: SUBSCRIBE takes `literal` subscriptions (exact names), PSUBSCRIBE `glob` ones (Redis
 * globs), PUBLISH routes to both doors and answers the number of receivers. Shapes from Redis 7.x
 * pubsub.c: one `[kind, name, count]` event per argument (a push in RESP3), count = channels +
 * patterns; bare UNSUBSCRIBE with nothing subscribed answers one event with a null name.
 */
import { globMatches } from '../../core/glob.js';
import { RedisErrors, redisError } from '../../core/errors.js';
import type { RespConnection } from '../connection.js';
import { sameBytes } from '../parser.js';
import { def, type CommandSpec } from './spec.js';

/** One `[kind, name, count]` event; `count` defaults to channels + patterns (shard events pass
 * the shard channel count, pubsub.c). */
export function event(c: RespConnection, kind: string, name: string | null, count = c.subscriptionCount): void {
  const w = c.writer;
  w.push(3);
  w.bulk(kind);
  if (name === null) w.nil();
  else w.bulk(name);
  w.int(count);
}

function subscribe(c: RespConnection, argv: Buffer[], glob: boolean): void {
  const map = glob ? c.patterns : c.channels;
  for (let i = 1; i < argv.length; i++) {
    const name = argv[i].toString('latin1');
    if (!map.has(name)) {
      if (!c.inPubsub) c.enterPubsub();
      map.set(name, c.door.router.subscribe(c, name, null, name, glob ? 'glob' : 'literal'));
      if (glob) c.door.pubsubAdded(null, name);
      else c.door.pubsubAdded(name, null);
    }
    event(c, glob ? 'psubscribe' : 'subscribe', name);
  }
}

function unsubscribe(c: RespConnection, argv: Buffer[], glob: boolean): void {
  const map = glob ? c.patterns : c.channels;
  const kind = glob ? 'punsubscribe' : 'unsubscribe';
  const names = argv.length > 1 ? argv.slice(1).map((b) => b.toString('latin1')) : [...map.keys()];
  if (names.length === 0) return event(c, kind, null);
  for (const name of names) {
    const sub = map.get(name);
    if (sub !== undefined) {
      map.delete(name);
      c.door.router.unsubscribe(sub);
      c.door.pubsubRemoved(glob ? [] : [name], glob ? [name] : []);
      if (!c.inPubsub) c.leavePubsub();
    }
    event(c, kind, name);
  }
}

/** Longest channel name `channelName` remembers; longer names are decoded each time. */
const CHANNEL_CACHE_MAX = 256;
let lastChannel: Buffer | null = null;
let lastChannelText = '';

/** The channel argument as its latin1 string; a publisher repeating one channel (the common
 * pipeline) gets the same string back without decoding it again. */
function channelName(b: Buffer): string {
  if (lastChannel !== null && sameBytes(b, lastChannel)) return lastChannelText;
  const s = b.toString('latin1');
  if (b.length <= CHANNEL_CACHE_MAX) {
    lastChannel = Buffer.from(b);
    lastChannelText = s;
  }
  return s;
}

function publish(c: RespConnection, argv: Buffer[]): void {
  const router = c.door.router;
  let subject: string | null = channelName(argv[1]);
  if (router.mappings !== null) {
    // Mapped here, once: the permission is checked on the destination this publish really takes.
    subject = router.mapPublish(subject);
    if (subject === null) return c.writer.int(0);
    if (c.perms !== null && !c.perms.canPublish(subject, Date.now())) return c.error(RedisErrors.NoPermChannel);
  }
  c.writer.int(router.publish({ subject, reply: '', headers: null, payload: argv[2] }, c));
}

/** PUBSUB CHANNELS / SHARDCHANNELS: the names in `names` matching the optional glob. */
function channels(c: RespConnection, argv: Buffer[], names: Iterable<string>): void {
  const pat = argv.length > 2 ? argv[2].toString('latin1') : null;
  // server.c addReplySubcommandSyntaxError
  if (argv.length > 3) {
    return c.error(
      redisError(RedisErrors.SubcommandSyntax, {
        sub: argv[1].toString('latin1'),
        cmd: argv[0].toString('latin1').toUpperCase(),
      }),
    );
  }
  const out: string[] = [];
  for (const ch of names) if (pat === null || globMatches(pat, ch)) out.push(ch);
  c.writer.array(out.length);
  for (const ch of out) c.writer.bulk(ch);
}

/** PUBSUB NUMSUB / SHARDNUMSUB: a flat `name, count` array in both protocols (pubsub.c). */
function numsub(c: RespConnection, argv: Buffer[], count: (ch: string) => number): void {
  c.writer.array((argv.length - 2) * 2);
  for (let i = 2; i < argv.length; i++) {
    c.writer.bulk(argv[i]);
    c.writer.int(count(argv[i].toString('latin1')));
  }
}

const pubsubFlags = ['pubsub', 'noscript', 'loading', 'stale'];

/** The Pub/Sub family's table entries. */
export const PUBSUB_COMMANDS: readonly CommandSpec[] = [
  def({
    name: 'subscribe',
    arity: -2,
    group: 'pubsub',
    since: '2.0.0',
    summary: 'Listens for messages published to channels.',
    flags: pubsubFlags,
    inSubscribedContext: true,
    channels: 'subscribe',
    handler: (c, a) => subscribe(c, a, false),
  }),
  def({
    name: 'psubscribe',
    arity: -2,
    group: 'pubsub',
    since: '2.0.0',
    summary: 'Listens for messages published to channels that match one or more patterns.',
    flags: pubsubFlags,
    inSubscribedContext: true,
    channels: 'subscribe',
    handler: (c, a) => subscribe(c, a, true),
  }),
  def({
    name: 'unsubscribe',
    arity: -1,
    group: 'pubsub',
    since: '2.0.0',
    summary: 'Stops listening to messages posted to channels.',
    flags: pubsubFlags,
    inSubscribedContext: true,
    handler: (c, a) => unsubscribe(c, a, false),
  }),
  def({
    name: 'punsubscribe',
    arity: -1,
    group: 'pubsub',
    since: '2.0.0',
    summary: 'Stops listening to messages published to channels that match one or more patterns.',
    flags: pubsubFlags,
    inSubscribedContext: true,
    handler: (c, a) => unsubscribe(c, a, true),
  }),
  def({
    name: 'publish',
    arity: 3,
    group: 'pubsub',
    since: '2.0.0',
    summary: 'Posts a message to a channel.',
    flags: ['pubsub', 'loading', 'stale', 'fast'],
    channels: 'publish',
    handler: publish,
  }),
  def({
    name: 'pubsub',
    arity: -2,
    group: 'pubsub',
    since: '2.8.0',
    summary: 'A container for Pub/Sub commands.',
    subcommands: [
      def({
        name: 'pubsub|channels',
        arity: -2,
        group: 'pubsub',
        since: '2.8.0',
        summary: 'Returns the active channels.',
        flags: pubsubFlags,
        handler: (c, a) => channels(c, a, c.door.channelSubs.keys()),
      }),
      def({
        name: 'pubsub|numsub',
        arity: -2,
        group: 'pubsub',
        since: '2.8.0',
        summary: 'Returns a count of subscribers to channels.',
        flags: pubsubFlags,
        handler: (c, a) => numsub(c, a, (ch) => c.door.channelSubs.get(ch) ?? 0),
      }),
      def({
        name: 'pubsub|numpat',
        arity: 2,
        group: 'pubsub',
        since: '2.8.0',
        summary: 'Returns a count of unique pattern subscriptions.',
        flags: pubsubFlags,
        handler: (c) => c.writer.int(c.door.patternSubs.size),
      }),
      def({
        name: 'pubsub|shardchannels',
        arity: -2,
        group: 'pubsub',
        since: '7.0.0',
        summary: 'Returns the active shard channels.',
        flags: pubsubFlags,
        handler: (c, a) => channels(c, a, c.door.shardSubs.keys()),
      }),
      def({
        name: 'pubsub|shardnumsub',
        arity: -2,
        group: 'pubsub',
        since: '7.0.0',
        summary: 'Returns the count of subscribers of shard channels.',
        flags: pubsubFlags,
        handler: (c, a) => numsub(c, a, (ch) => c.door.shardSubs.get(ch)?.size ?? 0),
      }),
    ],
  }),
];
