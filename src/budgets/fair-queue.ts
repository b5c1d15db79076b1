/** A request waiting in a FairQueue; the links are the queue's. */
export class Queued {
  readonly caller: string;
  /** When it started waiting; deadlines run in this order (one maxWaitMs per integration). */
  readonly since: number;
  line: CallerLine | undefined;
  // Arrival order, across callers.
  older: Queued | undefined;
  newer: Queued | undefined;
  // The caller's own order.
  before: Queued | undefined;
  after: Queued | undefined;

  constructor(caller: string, since: number) {
    this.caller = caller;
    this.since = since;
  }
}

/** One caller's waiting requests, and its place in the round. */
class CallerLine {
  readonly id: string;
  first: Queued | undefined;
  last: Queued | undefined;
  prev: CallerLine | undefined;
  next: CallerLine | undefined;

  constructor(id: string) {
    this.id = id;
  }
}

/**
 * Requests waiting for one credential's budget, served caller by caller in turn: deficit
 * round robin (Shreedhar & Varghese) with every request costing one unit and a quantum of
 * one, i.e. one request per waiting caller per round. A caller that starts waiting joins
 * the end of the round; one whose line empties leaves it. So a caller asking for less
 * than an equal share of what is released gets everything it asks (its line empties
 * before its turn comes again), and the callers that always wait split the rest equally:
 * max-min fairness, within one request per round (docs/budgets.md#fair-shares).
 *
 * Every operation is O(1): doubly linked lists and one map lookup by caller id. Requests
 * also stay in arrival order, which is the order their deadlines come in.
 */
export class FairQueue<T extends Queued> {
  readonly #lines = new Map<string, CallerLine>();
  // The round: callers with a request waiting, the one whose turn it is first.
  #head: CallerLine | undefined;
  #tail: CallerLine | undefined;
  #oldest: Queued | undefined;
  #newest: Queued | undefined;
  size = 0;

  /** The request waiting longest (the first deadline). */
  get oldest(): T | undefined {
    return this.#oldest as T | undefined;
  }

  /** Number of callers with a request waiting. */
  get callers(): number {
    return this.#lines.size;
  }

  push(item: T): void {
    let line = this.#lines.get(item.caller);
    if (!line) {
      line = new CallerLine(item.caller);
      this.#lines.set(item.caller, line);
      this.#append(line);
    }
    item.line = line;
    item.before = line.last;
    if (line.last) line.last.after = item;
    else line.first = item;
    line.last = item;
    item.older = this.#newest;
    if (this.#newest) this.#newest.newer = item;
    else this.#oldest = item;
    this.#newest = item;
    this.size += 1;
  }

  /** The next request to serve, taken out: the oldest of the caller whose turn it is. */
  shift(): T | undefined {
    const line = this.#head;
    if (!line) return undefined;
    const item = line.first as T;
    this.remove(item);
    // Still waiting: to the back of the round.
    if (line.first !== undefined && line.next !== undefined) {
      this.#unlink(line);
      this.#append(line);
    }
    return item;
  }

  /** Takes a request out wherever it is (served, expired, or its caller hung up). */
  remove(item: T): void {
    const line = item.line;
    if (!line) return;
    item.line = undefined;
    if (item.before) item.before.after = item.after;
    else line.first = item.after;
    if (item.after) item.after.before = item.before;
    else line.last = item.before;
    item.before = item.after = undefined;
    if (item.older) item.older.newer = item.newer;
    else this.#oldest = item.newer;
    if (item.newer) item.newer.older = item.older;
    else this.#newest = item.older;
    item.older = item.newer = undefined;
    this.size -= 1;
    if (line.first === undefined) {
      this.#lines.delete(line.id);
      this.#unlink(line);
    }
  }

  #append(line: CallerLine): void {
    line.prev = this.#tail;
    line.next = undefined;
    if (this.#tail) this.#tail.next = line;
    else this.#head = line;
    this.#tail = line;
  }

  #unlink(line: CallerLine): void {
    if (line.prev) line.prev.next = line.next;
    else this.#head = line.next;
    if (line.next) line.next.prev = line.prev;
    else this.#tail = line.prev;
    line.prev = line.next = undefined;
  }
}
