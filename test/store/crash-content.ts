/** Deterministic message content per seq, shared by crash-child.ts and crash.test.ts. */

export function contentOf(seq: number): { subject: string; headers: Buffer | null; payload: Buffer } {
  const h = (seq * 2654435761) >>> 0;
  const subject = `crash.${h % 7}.${seq % 3}`;
  const headers = h % 4 === 0 ? Buffer.from(`NATS/1.0\r\nSeq: ${seq}\r\n\r\n`) : null;
  const len = h % 1500;
  const payload = Buffer.alloc(len);
  for (let i = 0; i < len; i++) payload[i] = (seq + i * 31) & 0xff;
  return { subject, headers, payload };
}

/** Config blob of the consumer in consumer-crash-child.ts (checked byte for byte after each kill). */
export const CONSUMER_CONFIG = '{"durable_name":"c","ack_policy":"explicit"}';
/** consumer-crash-child.ts acks an odd seq this many seqs after its delivery (even ones at once). */
export const ACK_LAG = 41;
/** consumer-crash-child.ts compacts its consumer log from this size on (default COMPACT_MIN_BYTES, 1 MiB). */
export const COMPACT_BYTES = 8192;
