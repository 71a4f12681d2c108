/**
 * Connection commands (Redis group `connection`): PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET and
 * CLIENT. Behaviour and texts from Redis 7.x server.c (pingCommand, echoCommand, helloCommand,
 * resetCommand), networking.c (clientCommand, clientSetName), db.c (selectCommand), acl.c
 * (authCommand).
 */
import { RedisErrors, redisError } from '../../core/errors.js';
import { parseLongLong } from '../parser.js';
import { REDIS_DATABASES } from '../keyspace.js';
import type { RespConnection } from '../connection.js';
import { def, type CommandSpec } from './spec.js';
import { discardTransaction } from './transactions.js';
import { login } from './auth.js';

/** The Redis version herald answers as (HELLO, INFO). 7.2 is the behaviour herald follows where
 * 7.0 and 7.2 differ (push-after-reply, CLIENT SETINFO); clients gate features on it. */
export const REDIS_COMPAT_VERSION = '7.2.4';

/** The integer in `b` as Redis's getLongLongFromObject reads it, or null. */
export function intArg(b: Buffer): number | null {
  return parseLongLong(b, 0, b.length);
}

function ping(c: RespConnection, argv: Buffer[]): void {
  // server.c pingCommand: arity -1 but more than one argument is an arity error.
  if (argv.length > 2) return c.error(redisError(RedisErrors.WrongArity, { cmd: 'ping' }));
  const w = c.writer;
  if (w.proto === 2 && c.inPubsub) {
    // specs/redis.md §2.2: in RESP2 subscribed context PING answers `pong` and its argument.
    w.array(2);
    w.bulk('pong');
    w.bulk(argv.length === 2 ? argv[1] : '');
  } else if (argv.length === 2) w.bulk(argv[1]);
  else w.simple('PONG');
}

function select(c: RespConnection, argv: Buffer[]): void {
  const db = intArg(argv[1]);
  if (db === null || db < -0x80000000 || db > 0x7fffffff) return c.error(RedisErrors.NotInteger);
  if (db < 0 || db >= REDIS_DATABASES) return c.error(RedisErrors.DbIndexOutOfRange);
  c.db = db;
  c.writer.simple('OK');
}

/** Client names and lib-name/lib-ver: printable ASCII without spaces (networking.c validateClientAttr). */
function validAttr(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] < 0x21 || b[i] > 0x7e) return false;
  return true;
}

function hello(c: RespConnection, argv: Buffer[]): void {
  let proto = c.writer.proto;
  if (argv.length >= 2) {
    const v = intArg(argv[1]);
    if (v === null) return c.error(RedisErrors.HelloVersionNotInteger);
    if (v < 2 || v > 3) return c.error(RedisErrors.NoProto);
    proto = v as 2 | 3;
  }
  let name: Buffer | null = null;
  let user: string | null = null;
  let pass = Buffer.alloc(0);
  for (let j = 2; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j].toString('latin1');
    const o = opt.toLowerCase();
    if (o === 'auth' && more >= 2) {
      user = argv[j + 1].toString('utf8');
      pass = Buffer.from(argv[j + 2]);
      j += 2;
    } else if (o === 'setname' && more >= 1) {
      name = argv[j + 1];
      j++;
    } else return c.error(redisError(RedisErrors.HelloBadOption, { opt }));
  }
  // A copy: the login may finish after the read Buffer is gone.
  const setname = name === null ? null : Buffer.from(name);
  if (user === null) return helloAuthed(c, proto, setname);
  login(c, user, pass, (ok) => {
    if (ok) helloAuthed(c, proto, setname);
    else c.error(RedisErrors.WrongPass);
  });
}

/** HELLO after its optional login (server.c helloCommand): refuse an anonymous client, SETNAME,
 * switch protocol, answer the map. */
function helloAuthed(c: RespConnection, proto: 2 | 3, name: Buffer | null): void {
  if (!c.authed) return c.error(RedisErrors.HelloNoAuth);
  if (name !== null) {
    if (!validAttr(name)) return c.error(RedisErrors.ClientNameInvalid);
    c.name = name.toString('latin1');
  }
  setProto(c, proto);
  const w = c.writer;
  w.map(7);
  w.bulk('server');
  w.bulk('redis');
  w.bulk('version');
  w.bulk(REDIS_COMPAT_VERSION);
  w.bulk('proto');
  w.int(proto);
  w.bulk('id');
  w.int(c.id);
  w.bulk('mode');
  w.bulk('standalone');
  w.bulk('role');
  w.bulk('master');
  w.bulk('modules');
  w.array(0);
}

/** Switches protocol; cached Pub/Sub frame heads are per protocol, so they are dropped. */
function setProto(c: RespConnection, proto: 2 | 3): void {
  if (c.writer.proto === proto) return;
  c.writer.proto = proto;
  for (const s of c.channels.values()) s.wireSubject = null;
  for (const s of c.patterns.values()) s.wireSubject = null;
  c.shardPrefixes.clear();
}

function reset(c: RespConnection): void {
  // server.c resetCommand → clearClientConnectionState: MULTI and WATCH, subscriptions, db 0,
  // RESP2, no name.
  discardTransaction(c);
  c.dropSubscriptions();
  c.resetAuth();
  c.db = 0;
  c.name = '';
  setProto(c, 2);
  c.writer.simple('RESET');
}

// ---- CLIENT ----

/** One `CLIENT LIST` / `CLIENT INFO` line in Redis's field order (networking.c catClientInfoString). */
export function clientInfoLine(c: RespConnection, now: number): string {
  const flags = c.inPubsub ? 'P' : c.multi !== null ? 'x' : 'N';
  return (
    `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=-1 name=${c.name} age=${Math.floor((now - c.start) / 1000)} ` +
    `idle=${Math.floor((now - c.lastInteraction) / 1000)} flags=${flags} db=${c.db} sub=${c.channels.size} ` +
    `psub=${c.patterns.size} ssub=${c.shardChannels.size} multi=${c.multi === null ? -1 : c.multi.queue.length} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=${c.writer.len} ` +
    `oll=0 omem=${c.pendingBytes} tot-mem=${c.pendingBytes} events=r cmd=${c.lastCommand} user=${c.user} redir=-1 ` +
    `resp=${c.writer.proto} lib-name=${c.libName} lib-ver=${c.libVer}\n`
  );
}

function clientSetname(c: RespConnection, argv: Buffer[]): void {
  if (!validAttr(argv[2])) return c.error(RedisErrors.ClientNameInvalid);
  c.name = argv[2].toString('latin1');
  c.writer.simple('OK');
}

function clientGetname(c: RespConnection): void {
  if (c.name === '') c.writer.nil();
  else c.writer.bulk(c.name);
}

function clientSetinfo(c: RespConnection, argv: Buffer[]): void {
  const attr = argv[2].toString('latin1').toLowerCase();
  if (attr !== 'lib-name' && attr !== 'lib-ver') {
    return c.error(redisError(RedisErrors.ClientInfoUnknown, { opt: argv[2].toString('latin1') }));
  }
  if (!validAttr(argv[3])) return c.error(redisError(RedisErrors.ClientInfoInvalid, { attr }));
  if (attr === 'lib-name') c.libName = argv[3].toString('latin1');
  else c.libVer = argv[3].toString('latin1');
  c.writer.simple('OK');
}

function clientList(c: RespConnection, argv: Buffer[]): void {
  const now = Date.now();
  let ids: Set<number> | null = null;
  let type: string | null = null;
  for (let i = 2; i < argv.length; i++) {
    const o = argv[i].toString('latin1').toLowerCase();
    if (o === 'type' && i + 1 < argv.length) type = argv[++i].toString('latin1').toLowerCase();
    else if (o === 'id' && i + 1 < argv.length) {
      ids = new Set();
      for (i++; i < argv.length; i++) {
        const id = intArg(argv[i]);
        if (id === null || id <= 0) return c.error(RedisErrors.ClientInvalidId);
        ids.add(id);
      }
    } else return c.error(RedisErrors.Syntax);
  }
  if (type !== null && !['normal', 'pubsub', 'master', 'replica', 'slave'].includes(type)) {
    return c.error(redisError(RedisErrors.ClientKillBadType, { type }));
  }
  let s = '';
  for (const o of c.door.connections.values()) {
    if (ids !== null && !ids.has(o.id)) continue;
    if (type !== null && clientType(o) !== type) continue;
    s += clientInfoLine(o, now);
  }
  c.writer.verbatim(s);
}

function clientType(c: RespConnection): string {
  return c.inPubsub ? 'pubsub' : 'normal';
}

/**
 * CLIENT KILL: the old form `CLIENT KILL addr` (+OK or `No such client`) and the filter form
 * (ID, ADDR, LADDR, TYPE, USER, SKIPME) answering how many were closed (networking.c).
 */
function clientKill(c: RespConnection, argv: Buffer[]): void {
  const conns = [...c.door.connections.values()];
  if (argv.length === 3) {
    const addr = argv[2].toString('latin1');
    const victim = conns.find((o) => o.addr === addr);
    if (victim === undefined) return c.error(RedisErrors.ClientNoSuchClient);
    c.writer.simple('OK');
    if (victim === c) c.closeAfterThisReply();
    else victim.close();
    return;
  }
  let skipMe = true;
  const tests: ((o: RespConnection) => boolean)[] = [];
  for (let i = 2; i < argv.length; i += 2) {
    if (i + 1 >= argv.length) return c.error(RedisErrors.Syntax);
    const o = argv[i].toString('latin1').toLowerCase();
    const v = argv[i + 1].toString('latin1');
    if (o === 'id') {
      const id = intArg(argv[i + 1]);
      if (id === null || id <= 0) return c.error(RedisErrors.ClientIdNotPositive);
      tests.push((x) => x.id === id);
    } else if (o === 'addr') tests.push((x) => x.addr === v);
    else if (o === 'laddr') tests.push((x) => x.laddr === v);
    else if (o === 'user') tests.push((x) => x.user === v);
    else if (o === 'type') {
      const t = v.toLowerCase();
      if (!['normal', 'pubsub', 'master', 'replica', 'slave'].includes(t)) {
        return c.error(redisError(RedisErrors.ClientKillBadType, { type: v }));
      }
      tests.push((x) => clientType(x) === t);
    } else if (o === 'skipme') {
      const t = v.toLowerCase();
      if (t !== 'yes' && t !== 'no') return c.error(RedisErrors.Syntax);
      skipMe = t === 'yes';
    } else return c.error(RedisErrors.Syntax);
  }
  let n = 0;
  for (const o of conns) {
    if (skipMe && o === c) continue;
    if (!tests.every((t) => t(o))) continue;
    n++;
    if (o === c) c.closeAfterThisReply();
    else o.close();
  }
  c.writer.int(n);
}

const client = (
  name: string,
  arity: number,
  summary: string,
  handler: (c: RespConnection, argv: Buffer[]) => void,
  since = '2.4.0',
  flags: readonly string[] = ['noscript', 'loading', 'stale'],
): CommandSpec => def({ name: `client|${name}`, arity, group: 'connection', since, summary, handler, flags });

/** Redis 7.0 commands/client-list.json and client-kill.json: ADMIN (so @admin and @dangerous), refused
 * to users with permissions; CLIENT ID/INFO/SETNAME/GETNAME concern one's own connection and are not. */
const CLIENT_ADMIN_FLAGS = ['admin', 'noscript', 'loading', 'stale'];

/** The connection family's table entries. */
export const CONNECTION_COMMANDS: readonly CommandSpec[] = [
  def({
    name: 'ping',
    arity: -1,
    group: 'connection',
    since: '1.0.0',
    summary: "Returns the server's liveliness response.",
    flags: ['fast'],
    handler: ping,
    inSubscribedContext: true,
  }),
  def({
    name: 'echo',
    arity: 2,
    group: 'connection',
    since: '1.0.0',
    summary: 'Returns the given string.',
    flags: ['fast'],
    handler: (c, a) => c.writer.bulk(a[1]),
  }),
  def({
    name: 'quit',
    arity: -1,
    group: 'connection',
    since: '1.0.0',
    summary: 'Closes the connection.',
    flags: ['allow_busy', 'noscript', 'loading', 'stale', 'fast', 'no_auth'],
    inSubscribedContext: true,
    handler: (c) => {
      c.writer.simple('OK');
      c.closeAfterThisReply();
    },
  }),
  def({
    name: 'select',
    arity: 2,
    group: 'connection',
    since: '1.0.0',
    summary: 'Changes the selected database.',
    flags: ['loading', 'stale', 'fast'],
    handler: select,
  }),
  def({
    name: 'hello',
    arity: -1,
    group: 'connection',
    since: '6.0.0',
    summary: 'Handshakes with the Redis server.',
    flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth'],
    handler: hello,
  }),
  def({
    name: 'reset',
    arity: 1,
    group: 'connection',
    since: '6.2.0',
    summary: 'Resets the connection.',
    flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth'],
    inSubscribedContext: true,
    handler: reset,
  }),
  def({
    name: 'client',
    arity: -2,
    group: 'connection',
    since: '2.4.0',
    summary: 'A container for client connection commands.',
    subcommands: [
      client('setname', 3, 'Sets the connection name.', clientSetname),
      client('getname', 2, 'Returns the name of the connection.', clientGetname),
      client('id', 2, 'Returns the unique client ID of the connection.', (c) => c.writer.int(c.id), '5.0.0'),
      client(
        'info',
        2,
        'Returns information about the connection.',
        (c) => c.writer.verbatim(clientInfoLine(c, Date.now())),
        '6.2.0',
      ),
      client('list', -2, 'Lists open connections.', clientList, '2.4.0', CLIENT_ADMIN_FLAGS),
      client('setinfo', 4, 'Sets information specific to the client or connection.', clientSetinfo, '7.2.0'),
      client('kill', -3, 'Terminates open connections.', clientKill, '2.4.0', CLIENT_ADMIN_FLAGS),
    ],
  }),
];
