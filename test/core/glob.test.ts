// Redis glob patterns (src/core/glob.ts): hand-picked cases from the PSUBSCRIBE docs and Redis
// util.c's quirks, then a differential against a real redis-server: random patterns are
// PSUBSCRIBEd, random channels PUBLISHed, and every (pattern, channel) pair Redis delivers must be
// exactly the pairs globMatches accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { globMatches, isGlobPattern } from '../../src/core/glob.js';

test('glob: *, ?, sets, ranges, negation, escapes', () => {
  const yes: [string, string][] = [
    ['h?llo', 'hello'],
    ['h*llo', 'hllo'],
    ['h*llo', 'heeeello'],
    ['h[ae]llo', 'hallo'],
    ['h[^e]llo', 'hallo'],
    ['h[a-b]llo', 'hbllo'],
    ['h[b-a]llo', 'hallo'], // reversed range
    ['*', ''],
    ['**', 'x'],
    ['a\\*b', 'a*b'],
    ['[\\]]', ']'],
    ['a\\', 'a\\'], // a lone trailing backslash is literal
    ['[abc', 'b'], // an unclosed set takes the rest of the pattern
    ['[^', 'z'], // an unclosed, empty, negated set matches any one character
    ['[^]', 'q'],
    ['news.*', 'news.a.b'],
    ['a.*', 'a.*'],
  ];
  const no: [string, string][] = [
    ['h?llo', 'hllo'],
    ['h[^e]llo', 'hello'],
    ['h[a-b]llo', 'hcllo'],
    ['a\\*b', 'axb'],
    ['[]', ']'],
    ['[', 'a'],
    ['?', ''],
    ['abc', 'ab'],
    ['ab', 'abc'],
    ['*a', 'b'],
  ];
  for (const [p, s] of yes) assert.ok(globMatches(p, s), `${p} should match ${s}`);
  for (const [p, s] of no) assert.ok(!globMatches(p, s), `${p} should not match ${s}`);
  assert.ok(isGlobPattern('a?') && isGlobPattern('[x]') && isGlobPattern('a\\b') && !isGlobPattern('a.b'));
});

test('glob: long star runs stay linear', () => {
  const subject = 'a'.repeat(5000);
  assert.ok(!globMatches('*a*a*a*a*a*a*a*a*a*a*b', subject));
  assert.ok(globMatches('*a*a*a*a*a*a*a*a*a*a*', subject));
});

/** A deterministic pseudo-random source, so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function randomString(rand: () => number, alphabet: string, maxLen: number, minLen: number): string {
  const len = minLen + Math.floor(rand() * (maxLen - minLen + 1));
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Resolves once something accepts connections on `port`; fails after `ms`. */
async function waitForPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port} within ${ms} ms`);
}

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

test(
  'glob: differential against redis-server PSUBSCRIBE/PUBLISH',
  { skip: hasRedis ? false : 'redis-server is not installed' },
  async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'herald-glob-'));
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      {
        stdio: 'ignore',
      },
    );
    const opts = {
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      commandTimeout: 10_000,
      retryStrategy: (n: number) => (n > 50 ? null : 100),
    };
    const sub = new Redis(opts);
    const pub = new Redis(opts);
    try {
      await waitForPort(port, 10_000);
      await sub.connect();
      await pub.connect();
      const rand = rng(0x5eed);
      const patterns = new Set<string>();
      while (patterns.size < 300) patterns.add(randomString(rand, 'ab*?[]^-\\', 6, 1));
      const channels = new Set<string>();
      while (channels.size < 300) channels.add(randomString(rand, 'ab-]^\\[*?', 5, 1));
      const END = 'zz-end';
      await sub.psubscribe(...patterns, END);
      const seen = new Set<string>();
      const ended = new Promise<void>((resolve) =>
        sub.on('pmessage', (pattern: string, channel: string) => {
          if (pattern === END && channel === END) resolve();
          else if (channel !== END) seen.add(`${pattern}\u0000${channel}`);
        }),
      );
      for (const c of channels) await pub.publish(c, 'x');
      await pub.publish(END, 'x');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        ended,
        new Promise(
          (_, reject) => (timer = setTimeout(() => reject(new Error('no end marker from redis-server in 20 s')), 20_000)),
        ),
      ]);
      clearTimeout(timer);
      assert.ok(seen.size > 1000, `redis-server delivered only ${seen.size} pattern matches: the sample is too thin`);
      const mismatches: string[] = [];
      for (const p of patterns) {
        for (const c of channels) {
          const redis = seen.has(`${p}\u0000${c}`);
          if (redis !== globMatches(p, c))
            mismatches.push(`pattern ${JSON.stringify(p)} channel ${JSON.stringify(c)}: redis ${redis}`);
        }
      }
      assert.deepEqual(mismatches.slice(0, 20), [], `${mismatches.length} of ${patterns.size * channels.size} pairs differ`);
    } finally {
      sub.disconnect();
      pub.disconnect();
      proc.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
