/**
 * The one command table: every family's declarations, keyed by lower-case name, subcommands as
 * `container|sub` (Redis's fullname); top-level names also in upper case (a lookup alias). Dispatch (src/resp/connection.ts), COMMAND INFO/DOCS/COUNT
 * and the docs all read it; a command that is not here gets Redis's unknown-command error.
 */
import type { CommandSpec } from './spec.js';
import { CONNECTION_COMMANDS } from './connection.js';
import { SERVER_COMMANDS } from './server.js';
import { KEY_COMMANDS } from './keys.js';
import { PUBSUB_COMMANDS } from './pubsub.js';
import { TRANSACTION_COMMANDS } from './transactions.js';
import { SHARD_COMMANDS } from './shard.js';
import { AUTH_COMMANDS } from './auth.js';
import { STREAM_COMMANDS } from './streams.js';
import { GROUP_COMMANDS } from './groups.js';

/** Every family, in the order COMMAND lists them. */
export const COMMAND_FAMILIES: readonly (readonly CommandSpec[])[] = [
  CONNECTION_COMMANDS,
  AUTH_COMMANDS,
  SERVER_COMMANDS,
  KEY_COMMANDS,
  PUBSUB_COMMANDS,
  SHARD_COMMANDS,
  TRANSACTION_COMMANDS,
  STREAM_COMMANDS,
  GROUP_COMMANDS,
];

/** Builds the lookup Map; throws on a duplicate name (a table bug, caught by any test). */
export function buildCommandTable(): Map<string, CommandSpec> {
  const m = new Map<string, CommandSpec>();
  const add = (s: CommandSpec): void => {
    if (m.has(s.name)) throw new Error(`duplicate Redis command ${s.name}`);
    m.set(s.name, s);
    // Upper-case top-level names too, so the usual `PING`/`PUBLISH` needs no case folding.
    if (!s.name.includes('|')) m.set(s.name.toUpperCase(), s);
  };
  for (const family of COMMAND_FAMILIES) {
    for (const s of family) {
      add(s);
      for (const sub of s.subcommands ?? []) add(sub);
    }
  }
  return m;
}
