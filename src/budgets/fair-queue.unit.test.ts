import { describe, expect, it } from 'vitest';
import { FairQueue, Queued } from './fair-queue.ts';

class Item extends Queued {
  readonly label: string;

  constructor(caller: string, label: string) {
    super(caller, 0);
    this.label = label;
  }
}

function drain(queue: FairQueue<Item>): string[] {
  const order: string[] = [];
  for (let item = queue.shift(); item; item = queue.shift()) order.push(item.label);
  return order;
}

describe('FairQueue (round robin over waiting callers)', () => {
  it('serves one request per waiting caller per round, each caller in its own order', () => {
    const queue = new FairQueue<Item>();
    for (const label of ['g1', 'g2', 'g3', 'g4']) queue.push(new Item('greedy', label));
    queue.push(new Item('light-a', 'a1'));
    queue.push(new Item('light-b', 'b1'));
    queue.push(new Item('light-a', 'a2'));
    expect(queue.callers).toBe(3);
    expect(drain(queue)).toEqual(['g1', 'a1', 'b1', 'g2', 'a2', 'g3', 'g4']);
    expect(queue.size).toBe(0);
    expect(queue.callers).toBe(0);
  });

  it('puts a caller that starts waiting at the end of the round', () => {
    const queue = new FairQueue<Item>();
    queue.push(new Item('g', 'g1'));
    queue.push(new Item('g', 'g2'));
    queue.push(new Item('h', 'h1'));
    expect(queue.shift()?.label).toBe('g1');
    queue.push(new Item('late', 'l1'));
    expect(drain(queue)).toEqual(['h1', 'g2', 'l1']);
  });

  it('takes a request out from anywhere, keeping both orders', () => {
    const queue = new FairQueue<Item>();
    const items = ['a:1', 'b:1', 'a:2', 'c:1', 'b:2'].map((s) => new Item(s[0] as string, s));
    for (const item of items) queue.push(item);
    queue.remove(items[1] as Item); // b:1
    queue.remove(items[3] as Item); // c:1, its caller's only one
    expect(queue.oldest?.label).toBe('a:1');
    queue.remove(items[0] as Item);
    expect(queue.oldest?.label).toBe('a:2');
    queue.remove(items[0] as Item); // twice: nothing happens
    expect(queue.size).toBe(2);
    expect(drain(queue)).toEqual(['a:2', 'b:2']);
  });

  it('with one caller is first come, first served', () => {
    const queue = new FairQueue<Item>();
    for (const label of ['1', '2', '3']) queue.push(new Item('', label));
    expect(drain(queue)).toEqual(['1', '2', '3']);
  });
});
