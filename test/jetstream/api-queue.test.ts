// The JetStream API queue bound (README "Limits", docs/jetstream.md "herald's own bounds"): while
// one request waits on the disk, at most 10,000 requests or 64 MiB wait behind it; the rest are
// dropped (no reply) with one warning. Driven through the server's router exactly as connections
// deliver requests, so the whole burst provably arrives while the first request is still on disk
// (over TCP, how many land in one read depends on the kernel). The bound is checked by its
// numbers, not through the constant, so the test holds wherever the API code lives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { pino } from 'pino';
import type { Client, Message } from '../../src/core/message.js';
import { Server, type Logger } from '../../src/index.js';
import { tmpDir } from './helpers.js';

/** The documented bounds. */
const QUEUE_REQUESTS = 10_000;
const QUEUE_BYTES = 64 * 1024 * 1024;
/** Waiting for every reply to arrive. */
const WAIT_MS = 30_000;

/** A server with a logger that keeps warnings, and a client on its router counting replies per inbox. */
async function setup(): Promise<{
  server: Server;
  dataDir: string;
  warnings: string[];
  replies: Map<string, number>;
  request(subject: string, body: Buffer, reply: string): void;
}> {
  const dataDir = tmpDir('herald-apiq-');
  const warnings: string[] = [];
  const logger = pino(
    { level: 'warn', base: undefined },
    { write: (l: string) => void warnings.push(String((JSON.parse(l) as { msg: string }).msg)) },
  ) as unknown as Logger;
  const server = await Server.start({ port: 0, dataDir, logger, maxPayload: 8 * 1024 * 1024 });
  const replies = new Map<string, number>();
  const client: Client = {
    id: 9_999_999,
    echo: true,
    deliver: (_s, m: Message) => void replies.set(m.subject, (replies.get(m.subject) ?? 0) + 1),
  };
  server.router.subscribe(client, '_Q.>', null, 'apiq');
  const request = (subject: string, body: Buffer, reply: string): void => {
    server.router.publish({ subject, reply, headers: null, payload: body }, null);
  };
  return { server, dataDir, warnings, replies, request };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const create = (name: string): Buffer =>
  Buffer.from(JSON.stringify({ name, subjects: [`${name.toLowerCase()}.>`], storage: 'file' }));

test('10,000 requests wait behind a slow one; the next are dropped with one warning', { timeout: 120_000 }, async () => {
  const { server, dataDir, warnings, replies, request } = await setup();
  try {
    const extra = 25;
    // A file-stream create waits on the disk (fsync): the API is busy from here on.
    request('$JS.API.STREAM.CREATE.SLOW', create('SLOW'), '_Q.slow');
    for (let i = 0; i < QUEUE_REQUESTS + extra; i++) request('$JS.API.INFO', Buffer.alloc(0), `_Q.i.${i}`);
    await until(() => replies.get('_Q.slow') === 1 && replies.size >= 1 + QUEUE_REQUESTS, 'the queued requests to be answered');
    await server.close(); // everything queued has been answered; nothing more can come
    for (let i = 0; i < QUEUE_REQUESTS; i++) assert.equal(replies.get(`_Q.i.${i}`), 1, `queued request ${i} answered`);
    for (let i = QUEUE_REQUESTS; i < QUEUE_REQUESTS + extra; i++)
      assert.equal(replies.get(`_Q.i.${i}`), undefined, `request ${i} past the bound was dropped`);
    assert.equal(warnings.filter((w) => /API queue limit reached/.test(w)).length, 1, `one warning: ${JSON.stringify(warnings)}`);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('64 MiB of request bodies wait behind a slow one; the next are dropped', { timeout: 120_000 }, async () => {
  const { server, dataDir, warnings, replies, request } = await setup();
  try {
    const body = Buffer.alloc(4 * 1024 * 1024, 0x20); // whitespace: valid (empty) JSON for nothing, never decoded past the bound
    const fit = QUEUE_BYTES / body.length; // 16 bodies fill the bound exactly
    request('$JS.API.STREAM.CREATE.SLOW', create('SLOW'), '_Q.slow');
    for (let i = 0; i < fit + 3; i++) request('$JS.API.STREAM.INFO.SLOW', body, `_Q.b.${i}`);
    await until(() => replies.get('_Q.slow') === 1 && replies.size >= 1 + fit, 'the queued requests to be answered');
    await server.close();
    for (let i = 0; i < fit; i++) assert.equal(replies.get(`_Q.b.${i}`), 1, `queued request ${i} answered`);
    for (let i = fit; i < fit + 3; i++) assert.equal(replies.get(`_Q.b.${i}`), undefined, `request ${i} past 64 MiB was dropped`);
    assert.equal(warnings.filter((w) => /API queue limit reached/.test(w)).length, 1, `one warning: ${JSON.stringify(warnings)}`);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
