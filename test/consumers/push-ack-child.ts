// The subscriber of push-ack.test.ts, in its own process (as the bench's consumer is): a `nats`
// v2 connection subscribes to the deliver subject given on the command line and acks every
// message (an empty reply, i.e. +ACK) as it arrives. It reports over IPC: `ready` once the
// subscription is registered, `progress` every half second, `done` once N distinct messages
// arrived and their acks were flushed.
import { connect } from 'nats';

const [url, subject, total] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const send = (m: object): void => {
  process.send?.(m);
};
const nc = await connect({ servers: url });
const seen = new Set<string>();
let dup = 0;
let finished = false;
nc.subscribe(subject, {
  callback: (_e, m) => {
    // The reply subject names the stream sequence ($JS.ACK.<stream>.<consumer>.<dc>.<sseq>...).
    const reply = m.reply ?? '';
    const sseq = reply.split('.')[6] ?? '';
    if (seen.has(sseq)) dup++;
    seen.add(sseq);
    m.respond(new Uint8Array(0));
    if (seen.size === total && !finished) {
      finished = true;
      void nc.flush().then(() => send({ done: seen.size, dup }));
    }
  },
});
await nc.flush();
send({ ready: true });
setInterval(() => send({ progress: seen.size, dup }), 500).unref();
process.on('disconnect', () => void nc.close().then(() => process.exit(0)));
