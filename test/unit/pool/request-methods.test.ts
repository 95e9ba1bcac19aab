// RequestMethods (request(), requestEncodeUrl(), requestEncodeBody()) without
// I/O: what urlopen() is handed for each combination of options, that the
// caller's options object is never changed, that unknown keys are still
// refused whichever entry point they come through, and the fixed-shape
// options objects (UrlopenArgs) the layers hand on.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HTTPHeaderDict } from '../../../src/headers.js';
import { CheckedOptions, checkOptions, optionSet } from '../../../src/options.js';
import { RequestMethods } from '../../../src/pool/request-methods.js';
import {
  copyUrlopenOptions,
  EncodeBodyArgs,
  URLOPEN_OPTION_NAMES,
  URLOPEN_OPTIONS,
  UrlopenArgs,
  type UrlopenOptions,
} from '../../../src/pool/urlopen-options.js';
import type { HTTPResponse } from '../../../src/response.js';

interface Call {
  method: string;
  url: string;
  options: UrlopenOptions | undefined;
}

/** Records what urlopen() is given, and checks its keys as a pool's urlopen would. */
class Recorder extends RequestMethods {
  calls: Call[] = [];

  urlopen(method: string, url: string, options?: UrlopenOptions): Promise<HTTPResponse> {
    try {
      checkOptions('urlopen', options, URLOPEN_OPTIONS);
    } catch (err) {
      return Promise.reject(err);
    }
    this.calls.push({ method, url, options });
    return Promise.resolve({ status: 200 } as HTTPResponse);
  }

  get last(): Call {
    const c = this.calls.at(-1);
    assert.ok(c, 'urlopen was called');
    return c;
  }
}

/** The options urlopen() got, without the keys left undefined. */
function definedOptions(options: UrlopenOptions | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected a rejection');
}

describe('UrlopenArgs', () => {
  test('has every urlopen option as an own key, in the order of URLOPEN_OPTION_NAMES', () => {
    assert.deepEqual(Object.keys(new UrlopenArgs()), URLOPEN_OPTION_NAMES);
    for (const v of Object.values(new UrlopenArgs())) assert.equal(v, undefined);
    assert.deepEqual(Object.keys(new EncodeBodyArgs()), [
      ...URLOPEN_OPTION_NAMES,
      'encodeMultipart',
      'multipartBoundary',
    ]);
  });

  test('copyUrlopenOptions copies every urlopen option and nothing else', () => {
    const from: Record<string, unknown> = { fields: { a: 1 }, json: 1 };
    URLOPEN_OPTION_NAMES.forEach((name, i) => {
      from[name] = `value ${i}`;
    });
    const copy = copyUrlopenOptions(new UrlopenArgs(), from as UrlopenOptions);
    assert.deepEqual(Object.keys(copy), URLOPEN_OPTION_NAMES);
    URLOPEN_OPTION_NAMES.forEach((name, i) => {
      assert.equal((copy as unknown as Record<string, unknown>)[name], `value ${i}`);
    });
  });

  test('checkOptions passes the options objects the library builds, and checks every other object', () => {
    const allowed = optionSet('a');
    assert.ok(new UrlopenArgs() instanceof CheckedOptions);
    checkOptions('x', new UrlopenArgs(), allowed);
    assert.throws(() => checkOptions('x', { ...new UrlopenArgs() }, allowed), {
      message: "x: unknown option 'body'",
    });
    assert.throws(() => checkOptions('x', { a: 1, b: 2 }, allowed), { message: "x: unknown option 'b'" });
  });
});

describe('request()', () => {
  test('without options, urlopen gets none', async () => {
    const r = new Recorder();
    await r.request('GET', '/x');
    assert.deepEqual(r.last, { method: 'GET', url: '/x', options: undefined });
  });

  test('GET fields go into the query string; the other options are passed on', async () => {
    const r = new Recorder({ 'X-Default': '1' });
    const options = { fields: { a: '1', b: 'x y' }, timeout: 5, preloadContent: false };
    await r.request('GET', '/x', options);
    assert.equal(r.last.url, '/x?a=1&b=x+y');
    assert.deepEqual(definedOptions(r.last.options), {
      timeout: 5,
      preloadContent: false,
      headers: { 'X-Default': '1' },
    });
    assert.deepEqual(options, { fields: { a: '1', b: 'x y' }, timeout: 5, preloadContent: false });
  });

  test('json becomes a UTF-8 body with a default Content-Type; the caller keeps its own headers', async () => {
    const r = new Recorder();
    const headers = { Accept: 'application/json' };
    const options = { json: { k: 'é' }, headers, retries: 2 };
    await r.request('POST', '/x', options);
    const got = r.last.options!;
    assert.deepEqual(got.body, Buffer.from('{"k":"é"}', 'utf8'));
    assert.ok(got.headers instanceof HTTPHeaderDict);
    assert.equal(got.headers.get('content-type'), 'application/json');
    assert.equal(got.headers.get('accept'), 'application/json');
    assert.equal(got.retries, 2);
    assert.deepEqual(headers, { Accept: 'application/json' }, "the caller's headers are unchanged");
    assert.deepEqual(Object.keys(options), ['json', 'headers', 'retries']);
  });

  test('json keeps a Content-Type the caller set', async () => {
    const r = new Recorder();
    await r.request('PUT', '/x', { json: [1], headers: { 'content-type': 'application/vnd.x+json' } });
    assert.equal((r.last.options!.headers as HTTPHeaderDict).get('Content-Type'), 'application/vnd.x+json');
  });

  test('POST fields become a multipart body, or urlencoded with encodeMultipart: false', async () => {
    const r = new Recorder();
    await r.request('POST', '/x', { fields: { a: 'b' }, multipartBoundary: 'BOUNDARY' });
    const multipart = r.last.options!;
    assert.match(
      String(multipart.body),
      /--BOUNDARY\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n/,
    );
    assert.equal(
      (multipart.headers as HTTPHeaderDict).get('content-type'),
      'multipart/form-data; boundary=BOUNDARY',
    );
    await r.request('POST', '/x', { fields: { a: 'b c' }, encodeMultipart: false });
    const form = r.last.options!;
    assert.equal(String(form.body), 'a=b+c');
    assert.equal((form.headers as HTTPHeaderDict).get('content-type'), 'application/x-www-form-urlencoded');
    assert.ok(!('encodeMultipart' in form) && !('fields' in form), 'only urlopen options reach urlopen');
  });

  test('body and json together, or fields and body together, are TypeErrors and send nothing', async () => {
    const r = new Recorder();
    const e1 = await rejection(r.request('POST', '/x', { json: 1, body: 'x' }));
    assert.ok(e1 instanceof TypeError);
    assert.match(e1.message, /mutually exclusive/);
    const e2 = await rejection(r.request('POST', '/x', { fields: { a: 'b' }, body: 'x' }));
    assert.ok(e2 instanceof TypeError);
    assert.match(e2.message, /'fields' and 'body'/);
    assert.equal(r.calls.length, 0);
  });

  test('an unknown option is a TypeError naming it', async () => {
    const r = new Recorder();
    const err = await rejection(r.request('GET', '/x', { timout: 1 } as never));
    assert.ok(err instanceof TypeError);
    assert.equal(err.message, "request: unknown option 'timout'");
    assert.equal(r.calls.length, 0);
  });
});

describe('requestEncodeUrl() and requestEncodeBody() called directly', () => {
  test('an unknown option is refused as urlopen() refuses it', async () => {
    const r = new Recorder();
    const e1 = await rejection(r.requestEncodeUrl('GET', '/x', null, { bogus: 1 } as never));
    assert.equal(e1.message, "urlopen: unknown option 'bogus'");
    const e2 = await rejection(r.requestEncodeBody('POST', '/x', { a: 'b' }, { bogus: 1 } as never));
    assert.equal(e2.message, "urlopen: unknown option 'bogus'");
    const e3 = await rejection(r.requestEncodeUrl('GET', '/x', null, { encodeMultipart: true } as never));
    assert.equal(e3.message, "urlopen: unknown option 'encodeMultipart'");
    assert.equal(r.calls.length, 0);
  });

  test("the caller's options are copied, not changed", async () => {
    const r = new Recorder();
    const options = { timeout: 3, encodeMultipart: false };
    await r.requestEncodeBody('PATCH', '/x', { a: '1' }, options);
    assert.deepEqual(options, { timeout: 3, encodeMultipart: false });
    assert.equal(String(r.last.options!.body), 'a=1');
    assert.equal(r.last.options!.timeout, 3);
    const plain = { decodeContent: false };
    await r.requestEncodeUrl('GET', '/y', { q: 'v' }, plain);
    assert.deepEqual(plain, { decodeContent: false });
    assert.equal(r.last.url, '/y?q=v');
    assert.equal(r.last.options!.decodeContent, false);
  });

  test('a subclass that spreads the options it is given still gets them checked downstream', async () => {
    class Spreading extends Recorder {
      override requestEncodeUrl(
        method: string,
        url: string,
        fields: null,
        options?: UrlopenOptions,
      ): Promise<HTTPResponse> {
        return super.requestEncodeUrl(method, url, fields, { ...options, chunked: true });
      }
    }
    const r = new Spreading();
    await r.request('GET', '/x', { timeout: 1 });
    assert.equal(r.last.options!.chunked, true);
    assert.equal(r.last.options!.timeout, 1);
  });
});
