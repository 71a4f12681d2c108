/**
 * The server's JetStream budgets shared by every account (nats-server jetstream.go: one
 * `max_file_store` / `max_memory_store` for the server, against which every account's
 * reservations and usage count). Each account has its own Streams with its own (possibly
 * smaller) account budget; this pool makes sure that N accounts together stay inside the
 * server's. Costs one pass over the accounts per stream create/update and per append check
 * when a server limit is set; nothing when both are unlimited (-1).
 */
import type { Storage } from './config.js';

/** What the pool reads from one account's Streams. */
export interface BudgetMember {
  /** Sum of max_bytes reserved by this account's streams of `storage`, except the stream `except`. */
  reserved(storage: Storage, except?: string): number;
  /** Bytes this account's streams of `storage` hold now. */
  usedBytes(storage: Storage): number;
}

/** One server's JetStream budget, shared by the Streams of every account. */
export class ServerBudget {
  private readonly members = new Set<BudgetMember>();

  /** Server limits in bytes; -1 = unlimited. */
  constructor(
    readonly maxFileStore: number,
    readonly maxMemStore: number,
  ) {}

  join(m: BudgetMember): void {
    this.members.add(m);
  }

  leave(m: BudgetMember): void {
    this.members.delete(m);
  }

  private max(storage: Storage): number {
    return storage === 'file' ? this.maxFileStore : this.maxMemStore;
  }

  /**
   * Would `self` reserving `add` more bytes of `storage` (its own reservations counted without
   * `except`) fit the server limit together with every other account's reservations?
   */
  reservationFits(self: BudgetMember, storage: Storage, add: number, except: string): boolean {
    const max = this.max(storage);
    if (max < 0) return true;
    let reserved = self.reserved(storage, except);
    for (const m of this.members) if (m !== self) reserved += m.reserved(storage);
    return reserved <= max && add <= max - reserved;
  }

  /** Would `bytes` more stored by any account stay inside the server limit of `storage`? */
  usageFits(storage: Storage, bytes: number): boolean {
    const max = this.max(storage);
    if (max < 0) return true;
    let used = 0;
    for (const m of this.members) used += m.usedBytes(storage);
    return used + bytes <= max;
  }
}
