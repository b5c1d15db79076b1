/** An item the heap can hold: it keeps its own position, so removal needs no search. */
export interface HeapItem {
  /** Sort key: when the item is due (ms since the epoch). */
  due: number;
  /** Position in the heap, or -1 when not in it. Maintained by the heap. */
  index: number;
}

/**
 * A binary min-heap by `due` whose items know their index: push, pop, remove and
 * update (reschedule) are all O(log n), peek is O(1).
 */
export class MinHeap<T extends HeapItem> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  has(item: T): boolean {
    return item.index >= 0 && this.#items[item.index] === item;
  }

  push(item: T): void {
    item.index = this.#items.length;
    this.#items.push(item);
    this.#up(item.index);
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (top) this.remove(top);
    return top;
  }

  /** Takes an item out wherever it is; false when it was not in the heap. */
  remove(item: T): boolean {
    if (!this.has(item)) return false;
    const at = item.index;
    const last = this.#items.pop() as T;
    item.index = -1;
    if (last !== item) {
      this.#items[at] = last;
      last.index = at;
      this.#down(at);
      this.#up(last.index);
    }
    return true;
  }

  /** Moves an item to a new due time (pushes it when it is not in the heap). */
  update(item: T, due: number): void {
    if (!this.has(item)) {
      item.due = due;
      this.push(item);
      return;
    }
    const earlier = due < item.due;
    item.due = due;
    if (earlier) this.#up(item.index);
    else this.#down(item.index);
  }

  #up(at: number): void {
    const items = this.#items;
    const item = items[at] as T;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = items[parentAt] as T;
      if (parent.due <= item.due) break;
      items[at] = parent;
      parent.index = at;
      at = parentAt;
    }
    items[at] = item;
    item.index = at;
  }

  #down(at: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[at] as T;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      const childAt = right < n && (items[right] as T).due < (items[left] as T).due ? right : left;
      const child = items[childAt] as T;
      if (child.due >= item.due) break;
      items[at] = child;
      child.index = at;
      at = childAt;
    }
    items[at] = item;
    item.index = at;
  }
}
