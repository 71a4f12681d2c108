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
