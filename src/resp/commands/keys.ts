/**
 * Generic keyspace commands (Redis group `generic`/`server`): DEL, EXISTS, TYPE, DBSIZE, FLUSHDB,
 * FLUSHALL over the per-db keyspace (src/resp/keyspace.ts). Redis db.c is the reference.
 */
import type { RespConnection } from '../connection.js';
import { def, type CommandSpec } from './spec.js';
import { flushArg } from './server.js';

function del(c: RespConnection, argv: Buffer[]): void {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (c.door.keyspace.delete(c.db, argv[i].toString('latin1'))) n++;
  c.writer.int(n);
}

function exists(c: RespConnection, argv: Buffer[]): void {
  let n = 0;
  // db.c existsCommand: a key named twice counts twice.
  for (let i = 1; i < argv.length; i++) if (c.door.keyspace.get(c.db, argv[i].toString('latin1')) !== undefined) n++;
  c.writer.int(n);
}

function type(c: RespConnection, argv: Buffer[]): void {
  c.writer.simple(c.door.keyspace.get(c.db, argv[1].toString('latin1'))?.type ?? 'none');
}

/** The generic family's table entries. */
export const KEY_COMMANDS: readonly CommandSpec[] = [
  def({
    name: 'del',
    arity: -2,
    group: 'generic',
    since: '1.0.0',
    summary: 'Deletes one or more keys.',
    flags: ['write'],
    firstKey: 1,
    lastKey: -1,
    step: 1,
    handler: del,
  }),
  def({
    name: 'exists',
    arity: -2,
    group: 'generic',
    since: '1.0.0',
    summary: 'Determines whether one or more keys exist.',
    flags: ['readonly', 'fast'],
    firstKey: 1,
    lastKey: -1,
    step: 1,
    handler: exists,
  }),
  def({
    name: 'type',
    arity: 2,
    group: 'generic',
    since: '1.0.0',
    summary: 'Determines the type of value stored at a key.',
    flags: ['readonly', 'fast'],
    firstKey: 1,
    lastKey: 1,
    step: 1,
    handler: type,
  }),
  def({
    name: 'dbsize',
    arity: 1,
    group: 'server',
    since: '1.0.0',
    summary: 'Returns the number of keys in the database.',
    flags: ['readonly', 'fast'],
    handler: (c) => c.writer.int(c.door.keyspace.dbs[c.db].size),
  }),
  def({
    name: 'flushdb',
    arity: -1,
    group: 'server',
    since: '1.0.0',
    summary: 'Removes all keys from the current database.',
    flags: ['write'],
    handler: (c, a) => {
      if (!flushArg(c, a, 1)) return;
      c.door.keyspace.flush(c.db);
      c.writer.simple('OK');
    },
  }),
  def({
    name: 'flushall',
    arity: -1,
    group: 'server',
    since: '1.0.0',
    summary: 'Removes all keys from all databases.',
    flags: ['write'],
    handler: (c, a) => {
      if (!flushArg(c, a, 1)) return;
      c.door.keyspace.flush('all');
      c.writer.simple('OK');
    },
  }),
];
