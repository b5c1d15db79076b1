import { describe, expect, it } from 'vitest';
import { NAME_PATTERN } from '../config/schema.ts';
import { KEY_ID_PATTERN } from '../keys/key-format.ts';
import { messageProblems } from '../../test/support/messages.ts';
import { ajvDetails, invalidFieldsMessage, PATTERN_WORDS } from './invalid-fields.ts';

describe('invalid fields in words', () => {
  it('has words for the patterns the routes use', () => {
    for (const pattern of [NAME_PATTERN, KEY_ID_PATTERN]) expect(PATTERN_WORDS[pattern]).toBeDefined();
  });

  it('says each problem once, in one sentence, without a schema path', () => {
    const details = ajvDetails(
      [
        { keyword: 'type', instancePath: '/accessToken', params: { type: 'string' } },
        { keyword: 'minimum', instancePath: '/expiresIn', params: { comparison: '>=', limit: 0 } },
        { keyword: 'required', instancePath: '', params: { missingProperty: 'tenants' } },
        { keyword: 'additionalProperties', instancePath: '', params: { additionalProperty: 'extra' } },
        { keyword: 'const', instancePath: '/tenants/0', params: { allowedValue: '*' } },
        { keyword: 'pattern', instancePath: '/tenants/0', params: { pattern: NAME_PATTERN } },
        { keyword: 'anyOf', instancePath: '/tenants/0', params: {} },
      ],
      'body',
    );
    expect(details).toEqual([
      `body.tenants[0]: must be * or ${PATTERN_WORDS[NAME_PATTERN]}`,
      'body.accessToken: must be a string',
      'body.expiresIn: must be at least 0',
      'body.tenants: is missing',
      'body.extra: is not a field Keygate takes here',
    ]);
    const message = invalidFieldsMessage(details);
    expect(message).toMatch(/^The request has invalid fields: tenants\[0\] must be \* or a name: /);
    expect(message).toContain(
      '; accessToken must be a string; expiresIn must be at least 0; tenants is missing;',
    );
    expect(messageProblems(message, { sentence: true })).toEqual([]);
  });

  it('names path and query parameters by what they are', () => {
    const path = ajvDetails(
      [{ keyword: 'pattern', instancePath: '/id', params: { pattern: KEY_ID_PATTERN } }],
      'params',
    );
    expect(invalidFieldsMessage(path)).toMatch(
      /^The request has invalid fields: the key id in the path must be a key id: /,
    );
    expect(invalidFieldsMessage(['querystring.limit: must be a whole number from 1 to 1000'])).toBe(
      'The request has invalid fields: the query parameter limit must be a whole number from 1 to 1000.',
    );
    expect(invalidFieldsMessage(['body: must be a JSON object'])).toBe(
      'The request has invalid fields: the body must be a JSON object.',
    );
  });
});
