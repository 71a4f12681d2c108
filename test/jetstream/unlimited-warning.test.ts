// docs/jetstream.md "Streams without limits": herald logs a warning when a stream with no
// max_msgs, max_bytes, max_age or max_msgs_per_subject is created, updated to that, or recovered
// at start-up; a stream with any limit is not warned about.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { pino } from 'pino';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Server, type Logger } from '../../src/index.js';
import { tmpDir } from './helpers.js';

/** A logger that keeps every warning (and worse) as a parsed line. */
function capture(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger: Logger = pino(
    { level: 'warn', base: undefined },
    { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  ) as unknown as Logger;
  return { logger, lines };
}

/** Warnings that say `stream` has no limits. */
function unlimitedWarnings(lines: Array<Record<string, unknown>>, stream: string): number {
  return lines.filter((l) => l['level'] === 40 && l['stream'] === stream && /has no limits/.test(String(l['msg']))).length;
}

test(
  'a stream without limits is warned about on create, update and recovery; a limited one is not',
  { timeout: 30_000 },
  async () => {
    const dataDir = tmpDir('herald-unlimited-');
    try {
      const a = capture();
      let server = await Server.start({ port: 0, dataDir, logger: a.logger });
      let nc = await connect({ servers: server.url, reconnect: false });
      let jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'OPEN', subjects: ['open.>'] });
      await jsm.streams.add({ name: 'BOUNDED', subjects: ['bounded.>'], max_msgs: 10 });
      await jsm.streams.add({ name: 'LATER', subjects: ['later.>'], max_age: 3600 * 1e9 });
      assert.equal(unlimitedWarnings(a.lines, 'OPEN'), 1, 'warned on create');
      assert.equal(unlimitedWarnings(a.lines, 'BOUNDED'), 0);
      assert.equal(unlimitedWarnings(a.lines, 'LATER'), 0);
      await jsm.streams.update('LATER', { subjects: ['later.>'], max_age: 0 });
      assert.equal(unlimitedWarnings(a.lines, 'LATER'), 1, 'warned when an update removes the last limit');
      await nc.close();
      await server.close();

      const b = capture();
      server = await Server.start({ port: 0, dataDir, logger: b.logger });
      nc = await connect({ servers: server.url, reconnect: false });
      jsm = await jetstreamManager(nc);
      assert.equal((await jsm.streams.info('OPEN')).config.name, 'OPEN', 'recovered');
      assert.equal(unlimitedWarnings(b.lines, 'OPEN'), 1, 'warned on recovery');
      assert.equal(unlimitedWarnings(b.lines, 'LATER'), 1, 'warned on recovery');
      assert.equal(unlimitedWarnings(b.lines, 'BOUNDED'), 0);
      await nc.close();
      await server.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
