import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Local stand-ins for the OpenAI and Anthropic APIs, for `npm run dev` (the SDK examples run
 * offline against them) and for tests. Each behaves like the real API for the calls the
 * examples make: the same authentication header and error bodies (401 for a missing or wrong
 * key, 400 for a missing field, 404 for an unknown route), `GET /v1/models`, a chat
 * completion or a message, plain or streamed as server-sent events in the provider's own
 * event shapes, and the provider's rate-limit headers. The answer repeats the last user
 * message, so a caller can tell its request arrived whole. Only `apiKey` is accepted.
 */
export interface AiStandIn {
  /** The API's origin, e.g. http://127.0.0.1:41234 (the SDKs add /v1/...). */
  url: string;
  /** The one API key it accepts. */
  apiKey: string;
  /** Requests answered, by path (`POST /v1/chat/completions`, ...). */
  calls: Map<string, number>;
  stop(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => void;

async function serve(apiKey: string, handle: Handler): Promise<AiStandIn> {
  const calls = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const route = `${req.method} ${(req.url ?? '/').split('?')[0]}`;
      calls.set(route, (calls.get(route) ?? 0) + 1);
      let body: Record<string, unknown>;
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        body = { __invalid: true };
      }
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    apiKey,
    calls,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** The text of the last user message (a string, or an array of text parts). */
function lastUserText(messages: unknown): string {
  const list = Array.isArray(messages) ? (messages as { role?: string; content?: unknown }[]) : [];
  const content = list.filter((m) => m.role === 'user').at(-1)?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return (content as { type?: string; text?: string }[])
      .filter((p) => p.type === 'text')
      .map((p) => p.text ?? '')
      .join(' ');
  }
  return '';
}

// Rough token counts, as the real APIs report usage.
const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));
/** The answer in pieces as a stream sends them: word by word. */
const pieces = (text: string) => text.match(/\S+\s*/g) ?? [text];
const id = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

/** The OpenAI API: `Authorization: Bearer`, `/v1/models`, `/v1/chat/completions`. */
export function startOpenAiStandIn(apiKey = `sk-demo-openai-${randomBytes(12).toString('hex')}`) {
  const error = (message: string, type: string, code: string | null = null) => ({
    error: { message, type, param: null, code },
  });
  return serve(apiKey, (req, res, body) => {
    const headers = {
      'x-request-id': id('req_'),
      'openai-processing-ms': '12',
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '499',
      'x-ratelimit-reset-requests': '120ms',
      'x-ratelimit-limit-tokens': '30000',
      'x-ratelimit-remaining-tokens': '29950',
      'x-ratelimit-reset-tokens': '100ms',
    };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer) {
      return send(
        res,
        401,
        error(
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          'invalid_request_error',
        ),
      );
    }
    if (bearer !== apiKey) {
      return send(res, 401, error('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'));
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      const created = 1_715_367_049;
      return send(
        res,
        200,
        {
          object: 'list',
          data: ['gpt-4o-mini', 'gpt-4.1'].map((m) => ({
            id: m,
            object: 'model',
            created,
            owned_by: 'system',
          })),
        },
        headers,
      );
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      return send(res, 404, error(`Invalid URL (${req.method} ${path})`, 'invalid_request_error'));
    }
    if (body['__invalid'])
      return send(
        res,
        400,
        error('We could not parse the JSON body of your request.', 'invalid_request_error'),
      );
    for (const field of ['model', 'messages']) {
      if (body[field] === undefined) {
        return send(
          res,
          400,
          error(
            `Missing required parameter: '${field}'.`,
            'invalid_request_error',
            'missing_required_parameter',
          ),
        );
      }
    }
    const model = String(body['model']);
    const asked = lastUserText(body['messages']);
    const text = `Hello from the local OpenAI stand-in. You said: ${asked}`;
    const usage = {
      prompt_tokens: tokens(asked),
      completion_tokens: tokens(text),
      total_tokens: tokens(asked) + tokens(text),
    };
    const base = {
      id: id('chatcmpl-'),
      created: Math.floor(Date.now() / 1000),
      model,
      system_fingerprint: 'fp_standin',
    };
    if (body['stream'] !== true) {
      return send(
        res,
        200,
        {
          ...base,
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: text, refusal: null },
              logprobs: null,
              finish_reason: 'stop',
            },
          ],
          usage,
        },
        headers,
      );
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...headers,
    });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`,
      );
    chunk([
      {
        index: 0,
        delta: { role: 'assistant', content: '', refusal: null },
        logprobs: null,
        finish_reason: null,
      },
    ]);
    for (const piece of pieces(text))
      chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]);
    chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
    const options = body['stream_options'] as { include_usage?: boolean } | undefined;
    if (options?.include_usage) chunk([], { usage });
    res.end('data: [DONE]\n\n');
  });
}

/** The Anthropic API: `x-api-key`, `anthropic-version`, `/v1/models`, `/v1/messages`. */
export function startAnthropicStandIn(apiKey = `sk-ant-demo-${randomBytes(12).toString('hex')}`) {
  const error = (type: string, message: string) => ({ type: 'error', error: { type, message } });
  return serve(apiKey, (req, res, body) => {
    const reset = new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const headers = {
      'request-id': id('req_'),
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': reset,
      'anthropic-ratelimit-tokens-limit': '40000',
      'anthropic-ratelimit-tokens-remaining': '39900',
      'anthropic-ratelimit-tokens-reset': reset,
    };
    const key = req.headers['x-api-key'];
    if (!key) return send(res, 401, error('authentication_error', 'x-api-key header is required'));
    if (key !== apiKey) return send(res, 401, error('authentication_error', 'invalid x-api-key'));
    if (!req.headers['anthropic-version']) {
      return send(res, 400, error('invalid_request_error', 'anthropic-version: header is required'));
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      const data = [
        {
          type: 'model',
          id: 'claude-sonnet-4-5',
          display_name: 'Claude Sonnet 4.5',
          created_at: '2025-09-29T00:00:00Z',
        },
        {
          type: 'model',
          id: 'claude-haiku-4-5',
          display_name: 'Claude Haiku 4.5',
          created_at: '2025-10-15T00:00:00Z',
        },
      ];
      return send(
        res,
        200,
        { data, has_more: false, first_id: data[0]?.id, last_id: data.at(-1)?.id },
        headers,
      );
    }
    if (req.method !== 'POST' || path !== '/v1/messages') {
      return send(res, 404, error('not_found_error', 'Not found'));
    }
    if (body['__invalid'])
      return send(res, 400, error('invalid_request_error', 'There was an issue with your request body.'));
    for (const field of ['model', 'max_tokens', 'messages']) {
      if (body[field] === undefined)
        return send(res, 400, error('invalid_request_error', `${field}: Field required`));
    }
    const model = String(body['model']);
    const asked = lastUserText(body['messages']);
    const text = `Hello from the local Anthropic stand-in. You said: ${asked}`;
    const message = { id: id('msg_'), type: 'message', role: 'assistant', model };
    if (body['stream'] !== true) {
      return send(
        res,
        200,
        {
          ...message,
          content: [{ type: 'text', text }],
          stop_reason: 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: tokens(asked), output_tokens: tokens(text) },
        },
        headers,
      );
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...headers,
    });
    const event = (type: string, data: Record<string, unknown>) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    event('message_start', {
      message: {
        ...message,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: tokens(asked), output_tokens: 1 },
      },
    });
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    event('ping', {});
    for (const piece of pieces(text))
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } });
    event('content_block_stop', { index: 0 });
    event('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: tokens(text) },
    });
    event('message_stop', {});
    res.end();
  });
}
