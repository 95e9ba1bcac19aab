// urllib3-ts against httpbin under gunicorn (Debian packages), started on
// loopback: what a real WSGI server sees of our requests.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PoolManager, Retry, MaxRetryError, ReadTimeoutError } from '../../src/index.js';
import { requireServer, type RunningServer, startHttpbin } from '../support/real-servers.js';

const skip = requireServer('httpbin');

describe('against httpbin', { skip: skip ?? false }, () => {
  let httpbin: RunningServer;
  let http: PoolManager;

  before(async () => {
    httpbin = await startHttpbin();
    http = new PoolManager({ timeout: 10_000 });
  });
  after(async () => {
    await http?.close();
    await httpbin?.stop();
  });

  test('GET with query fields', async () => {
    const r = await http.request('GET', `${httpbin.url}/get`, { fields: { arg: 'value', space: 'a b' } });
    const body = r.json() as { args: Record<string, string>; headers: Record<string, string> };
    assert.deepEqual(body.args, { arg: 'value', space: 'a b' });
    assert.match(body.headers['User-Agent'] ?? '', /^urllib3-ts\//);
  });

  test('POST JSON', async () => {
    const r = await http.request('POST', `${httpbin.url}/post`, { json: { attribute: 'value', n: [1, 2] } });
    const body = r.json() as { json: unknown; headers: Record<string, string> };
    assert.deepEqual(body.json, { attribute: 'value', n: [1, 2] });
    assert.equal(body.headers['Content-Type'], 'application/json');
  });

  test('POST a urlencoded form and a multipart form with a file', async () => {
    const form = await http.request('POST', `${httpbin.url}/post`, {
      fields: { field: 'value' },
      encodeMultipart: false,
    });
    assert.deepEqual((form.json() as { form: unknown }).form, { field: 'value' });
    const mp = await http.request('POST', `${httpbin.url}/post`, {
      fields: { note: 'hi', upload: ['example.txt', 'file contents\n', 'text/plain'] },
    });
    const body = mp.json() as { form: unknown; files: unknown };
    assert.deepEqual(body.form, { note: 'hi' });
    assert.deepEqual(body.files, { upload: 'file contents\n' });
  });

  test('a streamed (chunked) upload arrives whole', async () => {
    async function* parts() {
      for (let i = 0; i < 10; i++) yield Buffer.from(`part ${i};`);
    }
    const r = await http.request('PUT', `${httpbin.url}/put`, {
      body: parts(),
      headers: { 'Content-Type': 'text/plain' },
    });
    assert.equal(
      (r.json() as { data: string }).data,
      Array.from({ length: 10 }, (_, i) => `part ${i};`).join(''),
    );
  });

  test('gzip, deflate and brotli responses are decoded', async () => {
    for (const path of ['gzip', 'deflate', 'brotli']) {
      const r = await http.request('GET', `${httpbin.url}/${path}`);
      const body = r.json() as Record<string, unknown>;
      assert.equal(body[path === 'brotli' ? 'brotli' : path === 'gzip' ? 'gzipped' : 'deflated'], true, path);
    }
  });

  test('redirect chains are followed and counted', async () => {
    const r = await http.request('GET', `${httpbin.url}/redirect/3`);
    assert.equal(r.status, 200);
    assert.equal((r.retries as Retry).history.length, 3);
    await assert.rejects(
      http.request('GET', `${httpbin.url}/redirect/5`, { retries: new Retry({ redirect: 2 }) }),
      MaxRetryError,
    );
  });

  test('status codes and a streamed /drip body', async () => {
    const teapot = await http.request('GET', `${httpbin.url}/status/418`);
    assert.equal(teapot.status, 418);
    const drip = await http.request('GET', `${httpbin.url}/drip?numbytes=5&duration=0.2&delay=0`, {
      preloadContent: false,
    });
    const got: Buffer[] = [];
    for await (const c of drip) got.push(c);
    assert.equal(Buffer.concat(got).toString(), '*****');
  });

  test('a read timeout on /delay', async () => {
    await assert.rejects(
      http.request('GET', `${httpbin.url}/delay/2`, { timeout: 300, retries: false }),
      ReadTimeoutError,
    );
  });

  test('basic auth header from makeHeaders', async () => {
    const { makeHeaders } = await import('../../src/index.js');
    const r = await http.request('GET', `${httpbin.url}/basic-auth/user/pass`, {
      headers: makeHeaders({ basicAuth: 'user:pass' }),
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { authenticated: true, user: 'user' });
  });
});
