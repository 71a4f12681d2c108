/**
 * The push half of a consumer (specs/nats.md §5 "Push consumers"), protocol-free: whether the
 * deliver subject has interest (told by the router's interest hook, never polled), the idle
 * heartbeat clock, and flow control's byte window. The consumer asks it "may I deliver now?" and
 * tells it what it delivered; the door sends the statuses.
 */

/** nats-server consumer.go JsFlowControlMaxPending: the most bytes a flow-controlled push
 * consumer lets go unanswered; the window starts at 1/16 of it and doubles per answer. */
export const FLOW_CONTROL_MAX_PENDING = 32 * 1024 * 1024;
/** nats-server consumer.go setMaxPendingBytes: the starting window is the limit / 16 (a slow
 * start, so a client that never answers is held after 2 MiB, not 32). */
const FLOW_CONTROL_START_DIVISOR = 16;

/**
 * One push consumer's delivery gate. Costs a few numbers; no timer of its own (the consumer's
 * one scheduler deadline covers the heartbeat). `fcid` is the reply subject of the flow-control
 * request in flight, chosen by the door.
 */
export class PushGate {
  /** The deliver subject. */
  readonly target: string;
  /** True while some subscription would receive a publish on the deliver subject. */
  active = false;
  /** Idle heartbeat interval (ms), 0 = none, and when the next one is due. */
  readonly hbMs: number;
  hbAt = 0;
  /** Flow control: bytes sent since the last answered request, the window, and its limit. */
  private readonly flowControl: boolean;
  pbytes = 0;
  private maxpb = 0;
  /** Bytes the outstanding request covers (grown while stalled), and its reply subject. */
  private fcsz = 0;
  fcid = '';

  constructor(target: string, heartbeatNs: number, flowControl: boolean) {
    this.target = target;
    this.hbMs = Math.ceil(heartbeatNs / 1e6);
    this.flowControl = flowControl;
    if (flowControl) this.maxpb = Math.max(1, Math.floor(FLOW_CONTROL_MAX_PENDING / FLOW_CONTROL_START_DIVISOR));
  }

  /** Delivery may go on: someone listens and the flow-control window is not exceeded
   * (nats-server consumer.go loopAndGatherMsgs: waits while `pbytes > maxpb`). */
  get open(): boolean {
    return this.active && !(this.flowControl && this.pbytes > this.maxpb);
  }

  /** True when flow control holds delivery back while someone listens. */
  get stalled(): boolean {
    return this.active && this.flowControl && this.pbytes > this.maxpb;
  }

  /** Records a delivery of `size` bytes (subject + reply + headers + payload, as nats-server's
   * jsPubMsg.size) and says whether a flow-control request is due now
   * (nats-server consumer.go needFlowControl: past half the window with none in flight). */
  delivered(size: number, now: number): boolean {
    if (this.hbMs > 0) this.hbAt = now + this.hbMs;
    if (!this.flowControl) return false;
    this.pbytes += size;
    if (this.fcid === '' && this.pbytes > this.maxpb / 2) return true;
    if (this.fcid !== '' && this.pbytes - this.fcsz >= this.maxpb) this.fcsz += size;
    return false;
  }

  /** A flow-control request went out with reply subject `id`; it covers the bytes so far. */
  requested(id: string): void {
    this.fcid = id;
    this.fcsz = this.pbytes;
  }

  /** The client answered `id` (nats-server consumer.go processFlowControl): stale answers are
   * ignored; otherwise the window grows and the covered bytes are released. True when it counted. */
  answered(id: string): boolean {
    if (id !== this.fcid || id === '') return false;
    if (this.maxpb < FLOW_CONTROL_MAX_PENDING) this.maxpb = Math.min(this.maxpb * 2, FLOW_CONTROL_MAX_PENDING);
    this.pbytes = Math.max(0, this.pbytes - this.fcsz);
    this.fcid = '';
    this.fcsz = 0;
    return true;
  }

  /** Interest came or went. Flow-control state is kept, as nats-server keeps it: a new
   * subscriber of a stalled consumer learns the pending request from the heartbeat's
   * `Nats-Consumer-Stalled` header and answers it. */
  setActive(active: boolean, now: number): void {
    if (active === this.active) return;
    this.active = active;
    if (active && this.hbMs > 0) this.hbAt = now + this.hbMs;
  }
}
