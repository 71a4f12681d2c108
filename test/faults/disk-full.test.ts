/**
 * Disk full, survivable in place (issue 12 item 4), on a 20 MiB tmpfs the test mounts and unmounts
 * itself (skipped, with the reason, when it cannot mount: not root, no CAP_SYS_ADMIN). A fast
 * publisher fills the volume: herald refuses with 10023 "insufficient resources" before the OS
 * says ENOSPC, every acknowledged message stays readable and counted; then another program takes
 * all but 1 MiB: a create is refused and leaves no directory behind, a purge still works, and once
 * the space is back publishing works again by itself — all without a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { Server } from '../../src/index.js';
import { silentLogger } from '../../src/core/log.js';
import { waitFor } from '../jetstream/helpers.js';

const TMPFS_SIZE = '20m';
/** Payload per publish: ~300 fill the volume. */
const PAYLOAD_BYTES = 64 * 1024;
/** Bound on the fill loop (the volume is full long before). */
const MAX_PUBLISHES = 1000;

function tryMount(dir: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (e) {
    return `cannot mount a tmpfs (${String((e as { stderr?: Buffer }).stderr ?? e).trim()}); run as root to test a full disk`;
  }
}

function errCode(e: unknown): number | undefined {
  const any = e as { api_error?: { err_code?: number }; apiError?: () => { err_code?: number } };
  return any.api_error?.err_code ?? (typeof any.apiError === 'function' ? any.apiError().err_code : undefined);
}

test('a full data volume refuses publishes early, keeps every ack, and recovers in place after a purge', async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'herald-full-'));
  const why = tryMount(mnt);
  if (why !== null) {
    rmdirSync(mnt);
    t.skip(why);
    return;
  }
  try {
    // A budget far above the volume, so the free-space check (not max_file_store) is what refuses.
    const server = await Server.start({ port: 0, logger: silentLogger(), dataDir: mnt, maxFileStore: 1 << 30 });
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'FULL', subjects: ['full.>'], storage: StorageType.File });
      const js = jetstream(nc);
      const acked = new Map<number, number>(); // seq → first payload byte
      let refused: unknown = null;
      for (let i = 0; i < MAX_PUBLISHES && refused === null; i++) {
        const payload = Buffer.alloc(PAYLOAD_BYTES, i & 0xff);
        try {
          const ack = await js.publish(`full.${i % 4}`, payload);
          acked.set(ack.seq, i & 0xff);
        } catch (e) {
          refused = e;
        }
      }
      assert.notEqual(refused, null, `the 20 MiB volume took ${MAX_PUBLISHES} × 64 KiB`);
      assert.equal(errCode(refused), 10023, `refused with ${String(refused)}, not 10023 insufficient resources`);
      assert.ok(acked.size > 0);

      // The server's view matches what is on disk: every ack counted and readable.
      const info = await jsm.streams.info('FULL');
      assert.equal(info.state.messages, acked.size);
      for (const [seq, b] of acked) {
        const m = await jsm.streams.getMessage('FULL', { seq });
        assert.equal(m?.data.length, PAYLOAD_BYTES, `acked seq ${seq}`);
        assert.equal(m?.data[0], b, `acked seq ${seq}`);
      }

      // Another program takes all but 1 MiB: a create is refused and leaves no half-made directory.
      const filler = join(mnt, 'filler');
      const st = statfsSync(mnt);
      writeFileSync(filler, Buffer.alloc(Math.max(0, st.bavail * st.bsize - (1 << 20))));
      await assert.rejects(jsm.streams.add({ name: 'MORE', subjects: ['more.>'], storage: StorageType.File }));
      const streamsDir = join(mnt, 'jetstream', 'streams');
      assert.deepEqual(
        readdirSync(streamsDir).filter((n) => !n.startsWith('.')),
        ['FULL'],
      );

      // Purge works with 1 MiB left; the stream then takes publishes again without a restart.
      const purged = await jsm.streams.purge('FULL');
      assert.equal(purged.purged, acked.size);
      assert.equal((await jsm.streams.info('FULL')).state.messages, 0);
      rmSync(filler);
      let back = false;
      const ok = await waitFor(
        async () => {
          try {
            await js.publish('full.after', Buffer.alloc(PAYLOAD_BYTES));
            back = true;
          } catch {
            back = false;
          }
          return back;
        },
        10_000,
        100,
      );
      assert.ok(ok, 'the stream did not take publishes again within 10 s after the purge freed the volume');
      await jsm.streams.add({ name: 'MORE', subjects: ['more.>'], storage: StorageType.File });
      assert.ok(existsSync(join(streamsDir, 'MORE', 'meta.json')));
    } finally {
      await nc.close();
      await server.close();
    }
  } finally {
    execFileSync('umount', [mnt]);
    rmdirSync(mnt);
  }
});

/** Publishes per burst sent right after the filler took the volume (before the next poll sees it). */
const BURST = 40;
/** Bursts tried before giving up on catching the writer between two polls. */
const MAX_BURSTS = 20;

test('an ENOSPC that reaches the writer fails its publishers with 10077 and the stream recovers by itself', async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'herald-enospc-'));
  const why = tryMount(mnt);
  if (why !== null) {
    rmdirSync(mnt);
    t.skip(why);
    return;
  }
  const filler = join(mnt, 'filler');
  try {
    let server = await Server.start({ port: 0, logger: silentLogger(), dataDir: mnt, maxFileStore: 1 << 30 });
    let nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'GAP', subjects: ['gap.>'], storage: StorageType.File });
      const js = jetstream(nc);
      const acked = new Map<number, Buffer>();
      const codes = new Map<number, number>();
      let caught = 0;
      for (let b = 0; b < MAX_BURSTS && caught === 0; b++) {
        for (let i = 0; i < 5; i++) {
          const p = Buffer.from(`before-${b}-${i}`);
          acked.set((await js.publish('gap.a', p)).seq, p);
        }
        // Another program takes the whole volume between two free-space polls.
        const st = statfsSync(mnt);
        try {
          writeFileSync(filler, Buffer.alloc(st.bavail * st.bsize));
        } catch {
          /* the volume is full either way */
        }
        const burst = await Promise.allSettled(
          Array.from({ length: BURST }, (_, i) => {
            const p = Buffer.alloc(4096, (b * BURST + i) & 0xff);
            return js.publish('gap.b', p).then((a) => ({ seq: a.seq, p }));
          }),
        );
        for (const r of burst) {
          if (r.status === 'fulfilled') acked.set(r.value.seq, r.value.p);
          else {
            const c = errCode(r.reason) ?? -1;
            codes.set(c, (codes.get(c) ?? 0) + 1);
            if (c === 10077) caught++;
          }
        }
        rmSync(filler, { force: true });
        // Let a poll see the space again before the next burst.
        await waitFor(
          async () => {
            try {
              const p = Buffer.from(`probe-${b}`);
              acked.set((await js.publish('gap.a', p)).seq, p);
              return true;
            } catch {
              return false;
            }
          },
          10_000,
          50,
        );
      }
      assert.ok(caught > 0, `no publish reached the writer while the volume was full (codes ${JSON.stringify([...codes])})`);
      for (const c of codes.keys()) assert.ok(c === 10077 || c === 10023, `publish refused with ${c}`);

      // Memory equals disk: only acknowledged messages are counted and served, byte for byte.
      const info = await jsm.streams.info('GAP');
      assert.equal(info.state.messages, acked.size, 'message count after the undone writes');
      const lastSeq = info.state.last_seq;
      for (const [seq, p] of acked)
        assert.deepEqual(Buffer.from((await jsm.streams.getMessage('GAP', { seq }))!.data), p, `acked seq ${seq}`);

      // Back in service without a restart: no seq reused, delete and purge work.
      const again = await js.publish('gap.c', Buffer.from('again'));
      assert.ok(again.seq > lastSeq, `seq ${again.seq} reused (last ${lastSeq})`);
      acked.set(again.seq, Buffer.from('again'));
      const first = [...acked.keys()][0];
      assert.ok(await jsm.streams.deleteMessage('GAP', first));
      acked.delete(first);
      const purged = await jsm.streams.purge('GAP', { filter: 'gap.b' });
      for (const [seq, p] of acked) if (p.length === 4096) acked.delete(seq);
      assert.ok(purged.purged >= 0);

      // A restart finds exactly what was acknowledged.
      await nc.close();
      await server.close();
      server = await Server.start({ port: 0, logger: silentLogger(), dataDir: mnt, maxFileStore: 1 << 30 });
      nc = await connect({ servers: server.url });
      const jsm2 = await jetstreamManager(nc);
      const info2 = await jsm2.streams.info('GAP');
      assert.equal(info2.state.messages, acked.size, 'message count after restart');
      assert.ok(info2.state.last_seq >= again.seq, 'last seq went back after restart');
      for (const [seq, p] of acked)
        assert.deepEqual(Buffer.from((await jsm2.streams.getMessage('GAP', { seq }))!.data), p, `acked seq ${seq} after restart`);
    } finally {
      await nc.close();
      await server.close();
    }
  } finally {
    rmSync(filler, { force: true });
    execFileSync('umount', [mnt]);
    rmdirSync(mnt);
  }
});
