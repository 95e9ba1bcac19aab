// Request encoding end to end (docs/api.md sections 1 and 12): what `fields`,
// `json`, raw bodies and headers look like when they reach a server. The
// server echoes the method, target, raw header pairs and body bytes it
// received, so every assertion is about the wire, not about internals.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  encodeMultipartFormdata,
  makeHeaders,
  PoolManager,
  RequestField,
  SKIP_HEADER,
} from '../../src/index.js';
import {
  type EchoRecord,
  echoBody,
  echoHandler,
  startHttpServer,
  type TestHttpServer,
} from '../support/http-fixtures.js';

let srv: TestHttpServer;
let pm: PoolManager;

before(async () => {
  srv = await startHttpServer(echoHandler);
  pm = new PoolManager();
});

after(async () => {
  await pm.close();
  await srv.close();
});

async function echo(
  method: string,
  path: string,
  options?: Parameters<PoolManager['request']>[2],
): Promise<EchoRecord> {
  const r = await pm.request(method, srv.url(path), options);
  assert.equal(r.status, 200);
  return r.json() as EchoRecord;
}

/** The values of header `name` (case-insensitive) in the order received. */
function headerValues(rec: EchoRecord, name: string): string[] {
  return rec.rawHeaders.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

interface Part {
  headers: Record<string, string>;
  data: Buffer;
}

/** A strict multipart/form-data reader: it fails on any framing it does not expect. */
function parseMultipart(body: Buffer, boundary: string): Part[] {
  const open = Buffer.from(`--${boundary}`);
  const between = Buffer.from(`\r\n--${boundary}`);
  assert.equal(body.indexOf(open), 0, 'the body starts with the boundary');
  const parts: Part[] = [];
  let pos = open.length;
  for (let guard = 0; guard < 1000; guard++) {
    const tail = body.subarray(pos, pos + 2).toString('latin1');
    if (tail === '--') {
      assert.equal(body.subarray(pos + 2).toString('latin1'), '\r\n', 'the closing boundary ends with CRLF');
      return parts;
    }
    assert.equal(tail, '\r\n', 'a boundary line ends with CRLF');
    pos += 2;
    const headEnd = body.indexOf('\r\n\r\n', pos);
    assert.ok(headEnd !== -1, 'part headers end with a blank line');
    const headers: Record<string, string> = {};
    for (const line of body.subarray(pos, headEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      assert.ok(colon > 0, `header line ${JSON.stringify(line)}`);
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const next = body.indexOf(between, headEnd + 4);
    assert.ok(next !== -1, 'every part is followed by a boundary');
    parts.push({ headers, data: body.subarray(headEnd + 4, next) });
    pos = next + between.length;
  }
  assert.fail('too many parts');
}

function boundaryOf(contentType: string | undefined): string {
  const m = /^multipart\/form-data; boundary=(.+)$/.exec(contentType ?? '');
  assert.ok(m, `Content-Type is ${contentType}`);
  return m[1]!;
}

describe('fields in the query string', () => {
  test('fields on GET become the query string', async () => {
    const rec = await echo('GET', '/echo', { fields: { a: '1', b: 'x y', c: 'é&=', n: 42 } });
    assert.equal(rec.method, 'GET');
    assert.equal(rec.url, '/echo?a=1&b=x+y&c=%C3%A9%26%3D&n=42');
    assert.equal(echoBody(rec).length, 0);
    assert.equal(rec.headers['content-type'], undefined);
    assert.equal(rec.headers['content-length'], undefined);
  });

  test('fields are appended to an existing query', async () => {
    const rec = await echo('GET', '/echo?x=0', {
      fields: [
        ['k', '1'],
        ['k', '2'],
      ],
    });
    assert.equal(rec.url, '/echo?x=0&k=1&k=2');
  });

  test('fields on DELETE also go to the query string', async () => {
    const rec = await echo('DELETE', '/echo', { fields: { id: '7' } });
    assert.equal(rec.method, 'DELETE');
    assert.equal(rec.url, '/echo?id=7');
    assert.equal(echoBody(rec).length, 0);
  });
});

describe('fields in the body', () => {
  test('fields on POST are multipart/form-data by default', async () => {
    const fields = { name: 'value', other: 'ünïcode', num: 3 };
    const rec = await echo('POST', '/echo', { fields });
    assert.equal(rec.url, '/echo', 'nothing in the query string');
    const boundary = boundaryOf(rec.headers['content-type']);
    const body = echoBody(rec);
    assert.equal(rec.headers['content-length'], String(body.length));
    const parts = parseMultipart(body, boundary);
    assert.deepEqual(
      parts.map((p) => [p.headers['content-disposition'], p.data.toString('utf8')]),
      [
        ['form-data; name="name"', 'value'],
        ['form-data; name="other"', 'ünïcode'],
        ['form-data; name="num"', '3'],
      ],
    );
  });

  test('a fixed multipartBoundary gives exactly the bytes of encodeMultipartFormdata', async () => {
    const fields = { a: 'x', b: ['b.txt', 'file body'] as [string, string] };
    const expected = encodeMultipartFormdata(fields, 'fixed-boundary-42');
    const rec = await echo('PUT', '/echo', { fields, multipartBoundary: 'fixed-boundary-42' });
    assert.equal(rec.method, 'PUT');
    assert.equal(rec.headers['content-type'], 'multipart/form-data; boundary=fixed-boundary-42');
    assert.equal(rec.headers['content-type'], expected.contentType);
    assert.deepEqual(echoBody(rec), expected.body);
  });

  test('encodeMultipart: false sends an urlencoded form', async () => {
    const rec = await echo('POST', '/echo', { fields: { a: '1', b: 'x y', c: 'é' }, encodeMultipart: false });
    assert.equal(rec.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(echoBody(rec).toString('latin1'), 'a=1&b=x+y&c=%C3%A9');
    assert.equal(rec.headers['content-length'], String('a=1&b=x+y&c=%C3%A9'.length));
  });

  test('file tuples carry a filename and a given or guessed MIME type', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);
    const rec = await echo('POST', '/echo', {
      fields: {
        doc: ['notes.txt', 'plain text'],
        image: ['pic.png', png],
        custom: ['data.bin', 'xyz', 'application/x-thing'],
        unknown: ['noextension', 'q'],
        plain: 'just a value',
      },
    });
    const parts = parseMultipart(echoBody(rec), boundaryOf(rec.headers['content-type']));
    assert.equal(parts.length, 5);
    const [doc, image, custom, unknown, plain] = parts as [Part, Part, Part, Part, Part];
    assert.equal(doc.headers['content-disposition'], 'form-data; name="doc"; filename="notes.txt"');
    assert.equal(doc.headers['content-type'], 'text/plain');
    assert.equal(doc.data.toString(), 'plain text');
    assert.equal(image.headers['content-disposition'], 'form-data; name="image"; filename="pic.png"');
    assert.equal(image.headers['content-type'], 'image/png');
    assert.deepEqual(image.data, png, 'binary data is sent byte for byte');
    assert.equal(custom.headers['content-type'], 'application/x-thing');
    assert.equal(unknown.headers['content-type'], 'application/octet-stream');
    assert.equal(plain.headers['content-disposition'], 'form-data; name="plain"');
    assert.equal(plain.headers['content-type'], undefined);
    assert.equal(plain.data.toString(), 'just a value');
  });

  test('RequestField values are sent with their own headers', async () => {
    const field = new RequestField('meta', '{"k":1}', {
      filename: 'meta.json',
      headers: { 'X-Part': 'yes' },
    });
    field.makeMultipart({ contentType: 'application/json', contentLocation: '/meta' });
    const rec = await echo('POST', '/echo', { fields: { meta: field, other: 'v' } });
    const parts = parseMultipart(echoBody(rec), boundaryOf(rec.headers['content-type']));
    assert.equal(parts.length, 2);
    const meta = parts[0]!;
    assert.equal(meta.headers['content-disposition'], 'form-data; name="meta"; filename="meta.json"');
    assert.equal(meta.headers['content-type'], 'application/json');
    assert.equal(meta.headers['content-location'], '/meta');
    assert.equal(meta.headers['x-part'], 'yes');
    assert.equal(meta.data.toString(), '{"k":1}');
  });
});

describe('json', () => {
  test('json sends the exact JSON text with Content-Type application/json', async () => {
    const value = { a: [1, 2, { b: null }], s: 'é "quoted"', t: true };
    const rec = await echo('POST', '/echo', { json: value });
    assert.equal(rec.headers['content-type'], 'application/json');
    const body = echoBody(rec);
    assert.equal(body.toString('utf8'), JSON.stringify(value));
    assert.equal(rec.headers['content-length'], String(body.length));
  });

  test('json keeps a Content-Type the caller gave', async () => {
    const rec = await echo('PATCH', '/echo', {
      json: [1, 2],
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    assert.deepEqual(headerValues(rec, 'content-type'), ['application/merge-patch+json']);
    assert.equal(echoBody(rec).toString(), '[1,2]');
  });

  test('json together with body is a TypeError', async () => {
    await assert.rejects(
      Promise.resolve().then(() => pm.request('POST', srv.url('/echo'), { json: { a: 1 }, body: 'x' })),
      TypeError,
    );
  });

  test('fields together with body is a TypeError', async () => {
    await assert.rejects(
      Promise.resolve().then(() => pm.request('POST', srv.url('/echo'), { fields: { a: '1' }, body: 'x' })),
      TypeError,
    );
  });
});

describe('raw bodies', () => {
  test('a string body is sent as UTF-8 with its byte length', async () => {
    const rec = await echo('POST', '/echo', { body: 'héllo wörld' });
    assert.equal(echoBody(rec).toString('utf8'), 'héllo wörld');
    assert.equal(rec.headers['content-length'], String(Buffer.byteLength('héllo wörld')));
    assert.equal(rec.headers['transfer-encoding'], undefined);
  });

  test('a Buffer body is sent with Content-Length', async () => {
    const body = Buffer.from([0, 1, 2, 255, 254, 13, 10]);
    const rec = await echo('POST', '/echo', { body });
    assert.deepEqual(echoBody(rec), body);
    assert.equal(rec.headers['content-length'], '7');
    assert.equal(rec.headers['transfer-encoding'], undefined);
  });

  test('a Uint8Array body is sent with Content-Length', async () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 250, 9]);
    const body = backing.subarray(2, 6);
    const rec = await echo('PUT', '/echo', { body });
    assert.deepEqual([...echoBody(rec)], [1, 2, 3, 250], 'only the view, not its whole buffer');
    assert.equal(rec.headers['content-length'], '4');
  });

  test('a large Buffer body arrives intact', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) % 256;
    const rec = await echo('POST', '/echo', { body });
    assert.equal(rec.headers['content-length'], String(body.length));
    assert.ok(echoBody(rec).equals(body));
  });

  test('a Readable body is sent chunked', async () => {
    const chunks = [Buffer.from('first,'), Buffer.from('second,'), Buffer.from('third')];
    const rec = await echo('POST', '/echo', { body: Readable.from(chunks) });
    assert.equal(rec.headers['transfer-encoding'], 'chunked');
    assert.equal(rec.headers['content-length'], undefined);
    assert.equal(echoBody(rec).toString(), 'first,second,third');
  });

  test('an async generator body is sent chunked', async () => {
    async function* gen(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setImmediate(r));
        yield Buffer.from(`part${i};`);
      }
    }
    const rec = await echo('POST', '/echo', { body: gen() });
    assert.equal(rec.headers['transfer-encoding'], 'chunked');
    assert.equal(rec.headers['content-length'], undefined);
    assert.equal(echoBody(rec).toString(), 'part0;part1;part2;part3;part4;');
  });

  test('an array of Buffers is sent as a chunked stream, as urllib3 sends an iterable', async () => {
    const rec = await echo('POST', '/echo', {
      body: [Buffer.from('ab'), Buffer.from('cd'), Buffer.from('ef')],
    });
    assert.equal(echoBody(rec).toString(), 'abcdef');
    assert.equal(rec.headers['transfer-encoding'], 'chunked');
    assert.equal(rec.headers['content-length'], undefined);
  });

  test('POST without a body sends Content-Length: 0', async () => {
    const rec = await echo('POST', '/echo');
    assert.deepEqual(headerValues(rec, 'content-length'), ['0']);
    assert.equal(rec.headers['transfer-encoding'], undefined);
  });

  test('GET without a body sends no Content-Length and no Transfer-Encoding', async () => {
    const rec = await echo('GET', '/echo');
    assert.deepEqual(headerValues(rec, 'content-length'), []);
    assert.deepEqual(headerValues(rec, 'transfer-encoding'), []);
  });
});

describe('request headers', () => {
  test('makeHeaders() output is sent as it is', async () => {
    const headers = makeHeaders({ basicAuth: 'user:pass', acceptEncoding: true, userAgent: 'x' });
    assert.equal(headers.authorization, `Basic ${Buffer.from('user:pass').toString('base64')}`);
    const rec = await echo('GET', '/echo', { headers });
    assert.deepEqual(headerValues(rec, 'authorization'), [headers.authorization]);
    assert.deepEqual(headerValues(rec, 'accept-encoding'), [headers['accept-encoding']]);
    assert.match(headers['accept-encoding']!, /gzip/);
    assert.deepEqual(
      headerValues(rec, 'user-agent'),
      ['x'],
      'only the given User-Agent, no default beside it',
    );
  });

  test('the default User-Agent is urllib3-ts/<package version>', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const rec = await echo('GET', '/echo');
    assert.deepEqual(headerValues(rec, 'user-agent'), [`urllib3-ts/${pkg.version}`]);
    assert.deepEqual(headerValues(rec, 'host'), [`127.0.0.1:${srv.port}`]);
  });

  test('SKIP_HEADER as User-Agent sends no User-Agent at all', async () => {
    const rec = await echo('GET', '/echo', { headers: { 'User-Agent': SKIP_HEADER, 'X-Other': '1' } });
    assert.deepEqual(headerValues(rec, 'user-agent'), []);
    assert.deepEqual(headerValues(rec, 'x-other'), ['1']);
    assert.ok(!JSON.stringify(rec.rawHeaders).includes(SKIP_HEADER), 'the marker never reaches the wire');
  });

  test('SKIP_HEADER on a header that cannot be skipped is a TypeError', async () => {
    await assert.rejects(
      Promise.resolve().then(() =>
        pm.request('GET', srv.url('/echo'), { headers: { 'X-Custom': SKIP_HEADER } }),
      ),
      TypeError,
    );
  });

  test("request headers replace the manager's default headers instead of merging", async () => {
    const local = new PoolManager({ headers: { 'X-Default': 'd' } });
    try {
      const r1 = await local.request('GET', srv.url('/echo'));
      assert.deepEqual(headerValues(r1.json() as EchoRecord, 'x-default'), ['d']);
      const r2 = await local.request('GET', srv.url('/echo'), { headers: { 'X-Mine': 'm' } });
      const rec = r2.json() as EchoRecord;
      assert.deepEqual(headerValues(rec, 'x-default'), []);
      assert.deepEqual(headerValues(rec, 'x-mine'), ['m']);
    } finally {
      await local.close();
    }
  });
});
