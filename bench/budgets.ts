// What upstream budgets cost the proxy per request, in-process (no network):
//   npm run bench:budgets
// - learn() on an answer without rate-limit headers (most answers), with headers: auto;
// - learn() on an OpenAI answer (six x-ratelimit-* headers), and on an IETF one (Structured Fields);
// - admit() on the fast path (budget learned, not scarce) and for an integration without a budget;
// - a held request: admitted by the timer after waiting its turn (promise, queue node, wake-up);
//   its bytes are what one waiting request holds on the heap.
// Each line: ns per call (median of 5 rounds) and bytes allocated per call (heap growth over 10,000
// calls after a full GC, too few to set off a scavenge). The machine is shared: compare lines of one
// run, not runs.
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Budgets } from '../src/budgets/budgets.ts';
import type { BudgetHolder } from '../src/budgets/credential-budget.ts';

const ROUNDS = 5;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:budgets does)');

function measure(label: string, n: number, body: (i: number) => void): void {
  for (let i = 0; i < n; i += 1) body(i); // warm-up
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const start = performance.now();
    for (let i = 0; i < n; i += 1) body(i);
    times.push(((performance.now() - start) * 1e6) / n);
  }
  times.sort((a, b) => a - b);
  (gc as () => void)();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 10_000; i += 1) body(i);
  const bytes = Math.max(0, (process.memoryUsage().heapUsed - before) / 10_000);
  console.log(
    `${label.padEnd(58)} ${(times[2] as number).toFixed(1).padStart(8)} ns ${bytes.toFixed(0).padStart(6)} B`,
  );
}

const budgets = new Budgets({
  integrations: {
    ai: { budget: { headers: 'auto' } },
    openai: { budget: { headers: 'openai' } },
    plain: {},
  },
});
const holder = (integration: string, tenant = 'acme'): BudgetHolder => ({
  tenant,
  integration,
  account: 'default',
  caller: { id: 'kg_bench' },
});

// A typical answer's head, without rate-limit headers.
const plainAnswer: IncomingHttpHeaders = {
  date: 'Sat, 06 Dec 2026 07:00:00 GMT',
  'content-type': 'application/json',
  'content-length': '1234',
  connection: 'keep-alive',
  'x-request-id': 'req_0123456789',
  'cache-control': 'no-store',
  server: 'bench',
};
const openAiAnswer: IncomingHttpHeaders = {
  ...plainAnswer,
  // Large enough that the fast-path loop below never spends it.
  'x-ratelimit-limit-requests': '100000000000',
  'x-ratelimit-remaining-requests': '99999999999',
  'x-ratelimit-reset-requests': '6ms',
  'x-ratelimit-limit-tokens': '2000000',
  'x-ratelimit-remaining-tokens': '1999000',
  'x-ratelimit-reset-tokens': '30ms',
};
const ietfAnswer: IncomingHttpHeaders = {
  ...plainAnswer,
  'ratelimit-policy': '"permin";q=10000;w=60',
  ratelimit: '"permin";r=9999;t=60',
};

// Answers' heads come in many shapes: cycling through eight keeps the property lookups from
// being folded into one inline-cached shape check, as they would be for a single object.
const shapes = (base: IncomingHttpHeaders) =>
  Array.from({ length: 8 }, (_, v) => ({
    [`x-shape-${v}`]: '1',
    ...base,
    ...(v % 2 ? { vary: 'accept' } : {}),
  }));
const plainAnswers = shapes(plainAnswer);
const openAiAnswers = shapes(openAiAnswer);
const ietfAnswers = shapes(ietfAnswer);
const pick = (list: IncomingHttpHeaders[], i: number) => list[i & 7] as IncomingHttpHeaders;

const ai = holder('ai');
const openai = holder('openai');
const plain = holder('plain');
budgets.admit(ai);
budgets.admit(openai);

measure('learn: answer without rate-limit headers (auto)', 1_000_000, (i) =>
  budgets.learn(ai, 200, pick(plainAnswers, i)),
);
measure('learn: answer without rate-limit headers (no budget)', 1_000_000, (i) =>
  budgets.learn(plain, 200, pick(plainAnswers, i)),
);
measure('learn: OpenAI answer (requests and tokens)', 200_000, (i) =>
  budgets.learn(openai, 200, pick(openAiAnswers, i)),
);
measure('learn: IETF RateLimit + RateLimit-Policy', 200_000, (i) =>
  budgets.learn(ai, 200, pick(ietfAnswers, i)),
);
measure('admit: fast path, budget learned and not scarce', 1_000_000, () => budgets.admit(openai));
measure('admit: integration without a budget', 1_000_000, () => budgets.admit(plain));

// A held request: the credential's quota is spent until a reset 1 s ahead; each round holds
// `n` requests and lets the timer release them. The CPU time of the round (not the second
// of waiting) is divided by `n`; the bytes are the heap taken while they all wait.
async function held(n: number): Promise<void> {
  const spent = new Budgets({ integrations: { ai: { budget: { headers: 'ietf', maxWaitMs: 60_000 } } } });
  const times: number[] = [];
  const bytes: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round += 1) {
    const tenant = `t${round}`;
    const first = holder('ai', tenant);
    spent.admit(first);
    spent.learn(first, 200, { ratelimit: `"w";r=0;t=1`, 'ratelimit-policy': `"w";q=${n};w=1` });
    const holders = Array.from({ length: n }, (_, i) => ({
      ...holder('ai', tenant),
      caller: { id: `caller-${i % 10}` },
    }));
    const waits: Promise<void>[] = new Array(n);
    (gc as () => void)();
    const heapBefore = process.memoryUsage().heapUsed;
    const cpu = process.cpuUsage();
    for (let i = 0; i < n; i += 1) waits[i] = spent.admit(holders[i] as BudgetHolder) as Promise<void>;
    const heapWaiting = process.memoryUsage().heapUsed;
    await Promise.all(waits);
    const used = process.cpuUsage(cpu);
    if (round > 0) {
      times.push(((used.user + used.system) * 1000) / n);
      bytes.push((heapWaiting - heapBefore) / n);
    }
  }
  times.sort((a, b) => a - b);
  bytes.sort((a, b) => a - b);
  console.log(
    `${'held: waits for the reset, then admitted (CPU; 10 callers)'.padEnd(58)} ${(times[2] as number).toFixed(1).padStart(8)} ns ${(bytes[2] as number).toFixed(0).padStart(6)} B`,
  );
}
// Budgets' timer does not keep a process alive (a waiting request's socket does): this does.
const alive = setInterval(() => {}, 1000);
await held(10_000);
clearInterval(alive);
