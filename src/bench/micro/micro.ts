// Micro-benchmarks of the hot-path data structures: the NATS parser and the sublist.
// Run: npm run bench:micro   (prints ops/s, median of RUNS runs, and the spread)
import os from 'node:os';
import { Parser, type ParserHandler } from '../../nats/parser.js';
import { Sublist } from '../../core/sublist.js';
import { Subscription, type Client } from '../../core/message.js';

/** Runs per benchmark; the median is reported because the machine is shared and noisy. */
const RUNS = 7;

function bench(name: string, opsPerRun: number, fn: () => void): void {
  fn(); // warm-up (JIT)
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    const ns = Number(process.hrtime.bigint() - t0);
    rates.push(opsPerRun / (ns / 1e9));
  }
  rates.sort((a, b) => a - b);
  const med = rates[RUNS >> 1];
  const fmt = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`);
  console.log(
    `${name.padEnd(44)} ${fmt(med).padStart(8)} ops/s  (${fmt(rates[0])}–${fmt(rates[RUNS - 1])})  ${(1e9 / med).toFixed(0)} ns/op`,
  );
}

let sink = 0;
const handler: ParserHandler = {
  onConnect: () => undefined,
  onPub: (s, r, h, p) => {
    sink += p.length + s.length;
  },
  headersAllowed: () => true,
  onSub: () => undefined,
  onUnsub: () => undefined,
  onPing: () => undefined,
  onPong: () => undefined,
  maxPayload: () => 1 << 20,
};

function frames(op: string, count: number): Buffer {
  return Buffer.from(op.repeat(count));
}

console.log(`# herald micro-benchmarks — ${os.cpus().length} cores, ${os.cpus()[0]?.model}, node ${process.version}`);

const N = 200_000;
const pub16 = frames(`PUB foo.bar 16\r\n${'x'.repeat(16)}\r\n`, N);
const pub1k = frames(`PUB foo.bar 1024\r\n${'x'.repeat(1024)}\r\n`, N / 4);
const hpub = frames(`HPUB foo.bar _INBOX.abc.1 22 38\r\nNATS/1.0\r\nK: value\r\n\r\n${'x'.repeat(16)}\r\n`, N);
// Feed in 64 KiB chunks, as a socket delivers them, so straddling frames are exercised.
function feed(buf: Buffer): void {
  const p = new Parser(handler, 4096);
  for (let i = 0; i < buf.length; i += 65536) p.parse(buf.subarray(i, i + 65536));
}
bench('parser: PUB 16 B (64 KiB reads)', N, () => feed(pub16));
bench('parser: PUB 1 KiB (64 KiB reads)', N / 4, () => feed(pub1k));
bench('parser: HPUB with reply, 16 B', N, () => feed(hpub));

const client: Client = { id: 1, echo: true, deliver: () => undefined };
const sl = new Sublist();
for (let i = 0; i < 1000; i++) sl.insert(new Subscription(client, `svc.${i}.req`, null, String(i)));
sl.insert(new Subscription(client, 'svc.*.req', null, 'w1'));
sl.insert(new Subscription(client, 'svc.>', 'q', 'w2'));
const hot = Array.from({ length: 100 }, (_, i) => `svc.${i}.req`);
bench('sublist: match, cached (1000 subs)', 1_000_000, () => {
  for (let i = 0; i < 1_000_000; i++) sink += sl.match(hot[i % 100]).plain.length;
});
let miss = 0;
bench('sublist: match, uncached (unique subjects)', 200_000, () => {
  for (let i = 0; i < 200_000; i++) sink += sl.match(`svc.x${miss++}.req`).plain.length;
});
bench('sublist: insert + remove', 200_000, () => {
  for (let i = 0; i < 200_000; i++) {
    const s = new Subscription(client, `tmp.${i & 1023}.x`, null, 't');
    sl.insert(s);
    sl.remove(s);
  }
});
// Request/reply clients each hold an `_INBOX.<nuid>.*` subscription that comes and goes; the hot
// subjects' cached matches should survive it (nats-server sublist.go patches its cache).
let inbox = 0;
const inboxes: Subscription[] = [];
bench('sublist: match hot, _INBOX.<n>.* churning', 1_000_000, () => {
  for (let i = 0; i < 1_000_000; i++) {
    if (i % 100 === 0) {
      const s = new Subscription(client, `_INBOX.${inbox++}.*`, null, 'i');
      sl.insert(s);
      inboxes.push(s);
      if (inboxes.length > 64) sl.remove(inboxes.shift()!);
    }
    sink += sl.match(hot[i % 100]).plain.length;
  }
});
if (sink === -1) console.log(sink);
