import { describe, expect, it } from 'vitest';
import { MinHeap, type HeapItem } from './min-heap.ts';

interface Item extends HeapItem {
  id: number;
}

describe('MinHeap', () => {
  it('pops in due order through random pushes, updates and removals', () => {
    const heap = new MinHeap<Item>();
    const live = new Map<number, Item>();
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let id = 0; id < 2000; id += 1) {
      const roll = random();
      if (roll < 0.5 || live.size === 0) {
        const item = { id, due: Math.floor(random() * 1e6), index: -1 };
        heap.push(item);
        live.set(id, item);
      } else {
        const victim = [...live.values()][Math.floor(random() * live.size)] as Item;
        if (roll < 0.75) {
          heap.update(victim, Math.floor(random() * 1e6));
        } else {
          expect(heap.remove(victim)).toBe(true);
          expect(heap.remove(victim)).toBe(false);
          live.delete(victim.id);
        }
      }
      expect(heap.size).toBe(live.size);
    }
    const expected = [...live.values()].map((i) => i.due).sort((a, b) => a - b);
    const popped: number[] = [];
    for (let item = heap.pop(); item; item = heap.pop()) {
      expect(item.index).toBe(-1);
      popped.push(item.due);
    }
    expect(popped).toEqual(expected);
  });

  it('update on an item not in the heap pushes it', () => {
    const heap = new MinHeap<Item>();
    const item = { id: 1, due: 5, index: -1 };
    heap.update(item, 7);
    expect(heap.peek()).toBe(item);
    expect(item.due).toBe(7);
  });
});
