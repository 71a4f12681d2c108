/**
 * Output coalescing for a door (DESIGN.md "Coalesce writes"): a connection that queues output
 * registers once per event-loop turn; at the end of the turn (process.nextTick) every registered
 * connection flushes once, so pipelined replies and fan-out leave in one write per connection.
 * Costs one array push per connection per turn and one nextTick per turn.
 */
export class TurnFlush<C extends { flush(): void }> {
  private readonly dirty: C[] = [];
  private scheduled = false;
  private readonly flushAll = (): void => {
    this.scheduled = false;
    const list = this.dirty;
    for (let i = 0; i < list.length; i++) list[i].flush();
    list.length = 0;
  };

  /** Registers `conn` for the end-of-turn flush; call it once per turn (the connection tracks that). */
  mark(conn: C): void {
    this.dirty.push(conn);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flushAll);
    }
  }
}
