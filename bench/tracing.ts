// What the spans of one proxied request cost: a server span continuing the caller's
// traceparent, a client span for the upstream attempt, traceparent injected into the
// upstream headers, both ended with a status; with tracing off, the one `tracing.enabled`
// test the request path makes. On: the real SDK, batched, exported as OTLP/JSON to a
// collector stand-in in another process (its CPU is not counted). Prints CPU µs per request.
// Requests are paced at BENCH_RATE per second (CPU time does not count the waits), so the
// batch processor keeps up as it would behind a real load, and the sink counts what arrived.
//   npm run bench:tracing   (BENCH_REQUESTS 50000 per round, BENCH_ROUNDS 5, BENCH_RATE 10000)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  endClientSpan,
  endServerSpan,
  injectTraceContext,
  startClientSpan,
  startServerSpan,
  startTracing,
  tracing,
} from '../src/observability/tracing.ts';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 50_000);
const RATE = Number(process.env['BENCH_RATE'] ?? 10_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const WHO = { tenant: 'acme', integration: 'github', account: 'default' };
const INCOMING = {
  host: 'keygate.example.com',
  authorization: 'Bearer kg_x.y',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
};
const UPSTREAM = new URL('https://api.github.com/repos/acme/app/issues');
let sink = 0;

function oneRequest(): void {
  const headers: Record<string, string | string[]> = { host: 'api.github.com', authorization: 'Bearer t' };
  if (tracing.enabled) {
    const server = startServerSpan(
      {
        method: 'GET',
        path: '/proxy/acme/github/repos/acme/app/issues',
        route: '/proxy/{tenant}/{integration}/{path}',
        headers: INCOMING,
      },
      WHO,
    );
    const client = startClientSpan({ method: 'GET', url: UPSTREAM, attempt: 1 }, WHO, server);
    injectTraceContext(client, headers);
    endClientSpan(client, 200);
    endServerSpan(server, 200);
  }
  sink += Object.keys(headers).length;
}

async function measure(label: string): Promise<number[]> {
  const perRequest: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const start = process.cpuUsage();
    const began = performance.now();
    for (let i = 0; i < REQUESTS; i += 1) {
      oneRequest();
      // Paced: the batch processor's timer and the exporter's sockets run between requests.
      if (i % 100 === 99) {
        const due = began + ((i + 1) / RATE) * 1000;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      }
    }
    const used = process.cpuUsage(start);
    perRequest.push((used.user + used.system) / REQUESTS);
  }
  const sorted = [...perRequest].sort((a, b) => a - b);
  console.log(
    `${label}: CPU µs per request, median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(3)} (rounds: ${perRequest.map((v) => v.toFixed(3)).join(', ')})`,
  );
  return perRequest;
}

const collector = spawn(process.execPath, [new URL('./support/otlp-sink.ts', import.meta.url).pathname], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const [portLine] = (await once(collector.stdout, 'data')) as [Buffer];
const endpoint = `http://127.0.0.1:${portLine.toString().trim()}`;

await measure('tracing off');
const telemetry = await startTracing({
  endpoint,
  headers: {},
  serviceName: 'keygate-bench',
  instanceId: 'bench',
  sampleRatio: 1,
  timeoutMs: 10_000,
  exportDelayMs: 5000,
});
await measure('tracing on, every request sampled');
await telemetry.shutdown();
const counted = once(collector.stdout, 'data') as Promise<[Buffer]>;
collector.kill('SIGTERM');
const exported = Number(/spans (\d+)/.exec((await counted)[0].toString())?.[1] ?? 0);
console.log(
  `spans exported: ${exported} of ${2 * REQUESTS * ROUNDS} made (the batch processor drops what overflows its queue of 2048), at ${RATE} requests/s`,
);
if (sink === 0) console.log('(nothing ran)');
