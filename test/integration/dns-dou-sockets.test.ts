// dou://'s long-lived UDP sockets (src/dns/udp-sockets.ts) against scripted
// in-process servers: queries in flight share a few sockets and each gets its
// own answer, whatever the order; answers with an ID no query waits for, the
// wrong question or the wrong source are dropped while the real one is taken;
// one query's timeout or one socket's error fails only that; sockets are
// replaced after their quota of queries (the source port moves); close()
// fails what is pending and frees the sockets; a query called off while it
// waits its turn never goes out; an unanswered one is sent again about every
// second until its timeout, giving its place on the wire up to the queries
// waiting behind it; a burst through a server that drops, repeats and
// delays answers is answered whole, leaving nothing in flight; truncation
// still goes to TCP; and an idle resolver does not hold a process open.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { QueryCancel } from '../../src/dns/cancel.js';
import { PlainResolver, type PlainResolverOptions } from '../../src/dns/dou.js';
import { encodeQuery } from '../../src/dns/message.js';
import { randomQueryId } from '../../src/dns/query-resolver.js';
import { UdpQuerySockets } from '../../src/dns/udp-sockets.js';
import { NameResolutionError } from '../../src/errors.js';
import { runTsxScript } from '../support/child-script.js';
import { buildResponse, parseQuery, T } from '../support/dns-wire.js';
import {
  type DnsHandler,
  type SeenQuery,
  startDnsServer,
  type TestDnsServer,
} from '../support/dns-servers.js';
import { rejectionOf } from '../support/rejection.js';

const servers: TestDnsServer[] = [];
const resolvers: PlainResolver[] = [];
after(async () => {
  await Promise.all(resolvers.map((r) => r.close()));
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(handler: DnsHandler): Promise<TestDnsServer> {
  const s = await startDnsServer(handler);
  servers.push(s);
  return s;
}

function resolver(
  s: { host: string; port: number },
  options: Partial<PlainResolverOptions> = {},
): PlainResolver {
  const r = new PlainResolver({ server: s.host, port: s.port, timeout: 2000, cache: false, ...options });
  resolvers.push(r);
  return r;
}

/** n<i>.test has the A record 10.0.<i / 256>.<i % 256>: each name its own answer. */
function addressOf(name: string): string {
  const i = Number(/^n(\d+)\./.exec(name)?.[1] ?? -1);
  return `10.0.${i >> 8}.${i & 255}`;
}

function answer(q: { id: number; name: string; type: number }): Buffer {
  return buildResponse({
    id: q.id,
    question: q,
    answers: [{ name: q.name, type: T.A, a: addressOf(q.name) }],
  });
}

const sourcePorts = (qs: SeenQuery[]) => new Set(qs.map((q) => q.from));

describe('dou:// UDP sockets', () => {
  test('a burst of queries goes out at most udpMaxInFlight at a time, and every one is answered', async () => {
    let outstanding = 0;
    let most = 0;
    const s = await serve(async (q) => {
      outstanding++;
      most = Math.max(most, outstanding);
      await sleep(3);
      outstanding--;
      return answer(q);
    });
    const r = resolver(s, { udpMaxInFlight: 16 });
    const names = Array.from({ length: 200 }, (_, i) => `n${i}.test`);
    const got = await Promise.all(names.map((n) => r.getaddrinfo(n, 80, { family: 4 })));
    assert.deepEqual(
      got.map((g) => g[0]!.address),
      names.map(addressOf),
    );
    assert.equal(s.queries.length, 200, 'each name asked once (no resend)');
    assert.ok(most <= 16, `at most 16 queries at the server at once, saw ${most}`);
    assert.ok(most >= 8, `the queries did overlap (saw ${most} at once)`);
  });

  test('a query waiting its turn still has its timeout, and fails on close() without going out', async () => {
    const s = await serve(async (q) => {
      if (q.name === 'n9.test') return answer(q);
      await sleep(10_000); // never answered within the test
      return null;
    });
    const r = resolver(s, { udpMaxInFlight: 2, timeout: 300 });
    const held = ['n1.test', 'n2.test'].map((n) => rejectionOf(r.getaddrinfo(n, 80, { family: 4 })));
    const queued = r.getaddrinfo('n3.test', 80, { family: 4 });
    const err = await rejectionOf(queued);
    assert.ok(err instanceof NameResolutionError, String(err));
    assert.match(err.message, /did not answer within 300 ms/);
    for (const p of held) assert.ok((await p) instanceof NameResolutionError);
    // Places free again once the held ones ended: the next query goes out and is answered.
    assert.equal((await r.getaddrinfo('n9.test', 80, { family: 4 }))[0]!.address, addressOf('n9.test'));
    // A query waiting its turn when the resolver closes fails too.
    const r2 = resolver(s, { udpMaxInFlight: 1, timeout: 5000 });
    const first = rejectionOf(r2.getaddrinfo('n4.test', 80, { family: 4 }));
    const behind = rejectionOf(r2.getaddrinfo('n5.test', 80, { family: 4 }));
    await sleep(50);
    await r2.close();
    for (const p of [first, behind]) assert.ok((await p) instanceof NameResolutionError);
    assert.ok(!s.queries.some((q) => q.name === 'n5.test'), 'the query behind never went out');
  });

  test('a query called off while it waits its turn never goes out, and the one behind it takes the place', async () => {
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const s = await serve(async (q) => {
      if (q.name === 'n1.test') await firstHeld;
      return answer(q);
    });
    const udp = new UdpQuerySockets({ address: s.host, port: s.port, name: 'test', maxInFlight: 1 });
    const ask = (name: string, cancel: QueryCancel) => {
      const id = randomQueryId();
      return udp.exchange({ id, name, type: T.A, bytes: encodeQuery({ id, name, type: T.A }) }, cancel);
    };
    try {
      const first = ask('n1.test', new QueryCancel());
      const dropped = new QueryCancel();
      const second = rejectionOf(ask('n2.test', dropped));
      const third = ask('n3.test', new QueryCancel());
      dropped.abort(new Error('called off'));
      assert.equal(((await second) as Error).message, 'called off');
      releaseFirst();
      assert.equal((await first).answers.length, 1);
      const m = await third;
      assert.equal(m.questions[0]!.name, 'n3.test');
      assert.deepEqual(
        s.queries.map((q) => q.name),
        ['n1.test', 'n3.test'],
        'the query called off never reached the server',
      );
      assert.equal(udp.inFlight, 0);
    } finally {
      udp.close();
    }
  });

  test('a backlog that never empties does not grow the queue of waiting queries without bound', async () => {
    const s = await serve((q) => answer(q));
    const udp = new UdpQuerySockets({ address: s.host, port: s.port, name: 'test', maxInFlight: 1 });
    const ask = (i: number): Promise<unknown> => {
      const id = randomQueryId();
      const name = `n${i}.test`;
      return udp.exchange(
        { id, name, type: T.A, bytes: encodeQuery({ id, name, type: T.A }) },
        new QueryCancel(),
      );
    };
    // The internal queue array (its length counts the places already served, until it is compacted).
    const queueLength = () => (udp as unknown as { queue: unknown[] }).queue.length;
    try {
      let longest = 0;
      // Each answer asks one more: three always wait behind the one on the wire.
      const chain = async (start: number): Promise<void> => {
        for (let i = start; i < 1500; i += 4) {
          await ask(i);
          longest = Math.max(longest, queueLength());
        }
      };
      await Promise.all([0, 1, 2, 3].map(chain));
      assert.ok(longest < 600, `the queue array reached ${longest} entries for a backlog of 3`);
      assert.equal(s.queries.length, 1500);
    } finally {
      udp.close();
    }
  });

  test('a query with no answer at its first resend gives its place on the wire to the one waiting behind it', async () => {
    const s = await serve((q) => (q.name === 'lost.test' ? null : answer(q)));
    const r = resolver(s, { udpMaxInFlight: 1, timeout: 2500 });
    const lost = rejectionOf(r.getaddrinfo('lost.test', 80, { family: 4 }));
    // Queued behind lost.test, which holds the only place until it is sent again.
    const started = performance.now();
    const behind = await r.getaddrinfo('n7.test', 80, { family: 4 });
    assert.equal(behind[0]!.address, addressOf('n7.test'));
    const waited = performance.now() - started;
    assert.ok(
      waited >= 900 && waited < 2400,
      `answered after ${Math.round(waited)} ms, not at lost.test's timeout`,
    );
    assert.ok((await lost) instanceof NameResolutionError);
    assert.equal(
      s.queries.filter((q) => q.name === 'lost.test').length >= 2,
      true,
      'lost.test was sent again',
    );
    assert.equal(r.udpSockets?.inFlight, 0);
  });

  test('an unanswered query is sent again after 1 to 1.5 s until its timeout, and then nothing holds on to it', async () => {
    const s = await serve(() => null);
    const r = resolver(s, { timeout: 2700 });
    const started = performance.now();
    const err = await rejectionOf(r.getaddrinfo('n1.test', 80, { family: 4 }));
    assert.ok(err instanceof NameResolutionError);
    assert.match(err.message, /did not answer within 2700 ms/);
    const copies = s.queries.filter((q) => q.name === 'n1.test');
    assert.ok(copies.length >= 2 && copies.length <= 3, `sent ${copies.length} times`);
    assert.ok(new Set(copies.map((q) => q.id)).size === 1, 'the same query each time');
    assert.ok(new Set(copies.map((q) => q.from)).size === 1, 'on the same socket');
    assert.ok(performance.now() - started >= 2690);
    assert.equal(r.udpSockets?.inFlight, 0);
  });

  test('a burst through a server that drops, repeats and delays answers: every lookup answered, nothing left in flight', async () => {
    let n = 0;
    const s = await serve((q) => {
      n++;
      // Every tenth first copy is dropped (its resend is answered), every
      // fifth answer is sent twice, and some come late and out of order.
      if (n % 10 === 0 && !resent.has(q.id)) {
        resent.add(q.id);
        return null;
      }
      const a = answer(q);
      return { messages: n % 5 === 0 ? [a, a] : [a], delayMs: n % 7 === 0 ? 20 : 0 };
    });
    const resent = new Set<number>();
    const r = resolver(s, { timeout: 4000, cache: {} });
    const names = Array.from({ length: 300 }, (_, i) => `n${i}.test`);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const got = await Promise.all(names.map((name) => r.getaddrinfo(name, 80, { family: 4 })));
      assert.deepEqual(
        got.map((g) => g[0]!.address),
        names.map(addressOf),
      );
      assert.ok(resent.size >= 20, `${resent.size} queries had to be sent again`);
      assert.equal(r.udpSockets?.inFlight, 0);
      // Every answer is in the cache: asked again, nothing goes out.
      const before = s.queries.length;
      await Promise.all(names.map((name) => r.getaddrinfo(name, 80, { family: 4 })));
      assert.equal(s.queries.length, before);
      await sleep(50);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('queries in flight share a few sockets and each gets its own answer, in any order', async () => {
    const held: Array<() => void> = [];
    const s = await serve(async (q) => {
      // Hold every answer until all 60 queries are in, then answer last-asked first.
      await new Promise<void>((release) => {
        held.push(release);
        if (held.length >= 60) for (const r of [...held].reverse()) r();
      });
      return answer(q);
    });
    const r = resolver(s, { udpSockets: 3 });
    const names = Array.from({ length: 60 }, (_, i) => `n${i}.test`);
    const got = await Promise.all(names.map((n) => r.getaddrinfo(n, 80, { family: 4 })));
    for (let i = 0; i < names.length; i++) {
      assert.deepEqual(got[i], [{ address: addressOf(names[i]!), family: 4, port: 80 }]);
    }
    assert.equal(s.queries.length, 60);
    assert.ok(sourcePorts(s.queries).size <= 3, `${sourcePorts(s.queries).size} source ports`);
    assert.equal(r.udpSockets?.opened, sourcePorts(s.queries).size);
    assert.equal(r.udpSockets?.inFlight, 0);
  });

  test('an answer carrying another query’s ID, the wrong question, or the wrong type is dropped and the real one taken', async () => {
    const seen: SeenQuery[] = [];
    const held: Array<() => void> = [];
    const s = await serve(async (q) => {
      seen.push(q);
      await new Promise<void>((release) => {
        held.push(release);
        if (held.length >= 20) for (const r of held) r();
      });
      // All 20 are in flight on one socket: forge with the next query's ID.
      const next = seen[(seen.indexOf(q) + 1) % seen.length]!;
      return {
        messages: [
          buildResponse({
            id: next.id,
            question: q,
            answers: [{ name: q.name, type: T.A, a: '203.0.113.1' }],
          }),
          buildResponse({
            id: q.id,
            question: { name: 'elsewhere.test', type: T.A },
            answers: [{ name: 'elsewhere.test', type: T.A, a: '203.0.113.2' }],
          }),
          buildResponse({ id: q.id, question: { name: q.name, type: T.AAAA } }),
          answer(q),
        ],
      };
    });
    const r = resolver(s, { udpSockets: 1 });
    const names = Array.from({ length: 20 }, (_, i) => `n${i}.test`);
    const got = await Promise.all(names.map((n) => r.getaddrinfo(n, 80, { family: 4 })));
    assert.deepEqual(
      got.map((g) => g[0]!.address),
      names.map(addressOf),
    );
  });

  test('an answer from another source port is dropped while the server’s own answer is taken', async () => {
    const s = await serve(async (q) => {
      other.send(
        buildResponse({ id: q.id, question: q, answers: [{ name: q.name, type: T.A, a: '203.0.113.9' }] }),
        Number(q.from.split(':').at(-1)),
        '127.0.0.1',
      );
      return { delayMs: 50, messages: [answer(q)] };
    });
    const other = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => other.bind(0, '127.0.0.1', resolve));
    try {
      const r = resolver(s, { udpSockets: 1 });
      assert.deepEqual(await r.getaddrinfo('n7.test', 80, { family: 4 }), [
        { address: '10.0.0.7', family: 4, port: 80 },
      ]);
    } finally {
      other.close();
    }
  });

  test('queries that draw the same ID are told apart on their socket', async () => {
    class SameId extends PlainResolver {
      protected override newQueryId(): number {
        return 4242;
      }
    }
    const s = await serve((q) => ({ delayMs: 20, messages: [answer(q)] }));
    const r = new SameId({ server: s.host, port: s.port, cache: false, udpSockets: 1 });
    resolvers.push(r);
    const names = Array.from({ length: 10 }, (_, i) => `n${i}.test`);
    const got = await Promise.all(names.map((n) => r.getaddrinfo(n, 80, { family: 4 })));
    assert.deepEqual(
      got.map((g) => g[0]!.address),
      names.map(addressOf),
    );
    assert.equal(new Set(s.queries.map((q) => q.id)).size, 10, 'ten different IDs on the wire');
  });

  test('one query timing out does not disturb the others on its socket', async () => {
    let silentDone!: () => void;
    const silentGate = new Promise<void>((resolve) => {
      silentDone = resolve;
    });
    // n1's answer is held until silent.test has timed out.
    const s = await serve(async (q) => {
      if (q.name === 'silent.test') return null;
      if (q.name === 'n1.test') await silentGate;
      return answer(q);
    });
    const r = resolver(s, { udpSockets: 1, timeout: 600 });
    const silent = rejectionOf(r.getaddrinfo('silent.test', 80, { family: 4 }));
    await sleep(300);
    // Asked half a timeout later, in flight on the same socket when silent.test times out.
    const during = r.getaddrinfo('n1.test', 80, { family: 4 });
    const err = await silent;
    silentDone();
    assert.ok(err instanceof NameResolutionError);
    assert.match(err.message, /did not answer within 600 ms/);
    assert.deepEqual(await during, [{ address: '10.0.0.1', family: 4, port: 80 }]);
    // The socket goes on carrying queries after the timeout.
    assert.deepEqual(await r.getaddrinfo('n2.test', 80, { family: 4 }), [
      { address: '10.0.0.2', family: 4, port: 80 },
    ]);
    assert.equal(r.udpSockets?.opened, 1);
    assert.equal(sourcePorts(s.queries).size, 1);
  });

  test('a socket is replaced after its quota of queries, so the source port moves', async () => {
    const s = await serve((q) => answer(q));
    const r = resolver(s, { udpSockets: 1, udpSocketMaxQueries: 3 });
    for (let i = 0; i < 9; i++) await r.getaddrinfo(`n${i}.test`, 80, { family: 4 });
    assert.equal(r.udpSockets?.opened, 3);
    assert.equal(sourcePorts(s.queries).size, 3);
    assert.equal(r.udpSockets?.liveSockets, 1, 'the replaced sockets are closed');
  });

  test('a burst of queries asked before any socket is connected keeps to the quota per socket', async () => {
    const s = await serve((q) => answer(q));
    const r = resolver(s, { udpSockets: 2, udpSocketMaxQueries: 5 });
    const names = Array.from({ length: 30 }, (_, i) => `n${i}.test`);
    const got = await Promise.all(names.map((n) => r.getaddrinfo(n, 80, { family: 4 })));
    assert.deepEqual(
      got.map((g) => g[0]!.address),
      names.map(addressOf),
    );
    const perPort = new Map<string, number>();
    for (const q of s.queries) perPort.set(q.from, (perPort.get(q.from) ?? 0) + 1);
    assert.ok(Math.max(...perPort.values()) <= 5, `queries per source port: ${[...perPort.values()]}`);
    assert.ok(perPort.size >= 6, `${perPort.size} source ports`);
  });

  test('a socket is replaced after its time, so the source port moves', async () => {
    const s = await serve((q) => answer(q));
    const r = resolver(s, { udpSockets: 1, udpSocketMaxAgeMs: 200 });
    await r.getaddrinfo('n1.test', 80, { family: 4 });
    await sleep(250);
    await r.getaddrinfo('n2.test', 80, { family: 4 });
    assert.equal(r.udpSockets?.opened, 2);
    assert.notEqual(s.queries[0]!.from, s.queries[1]!.from);
    assert.equal(r.udpSockets?.liveSockets, 1, 'the old socket is closed');
  });

  test('a replaced socket still takes the answers to the queries it carries', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const s = await serve(async (q) => {
      if (q.name === 'n0.test') await gate;
      return answer(q);
    });
    const r = resolver(s, { udpSockets: 1, udpSocketMaxQueries: 1 });
    const held = r.getaddrinfo('n0.test', 80, { family: 4 });
    while (s.queries.length < 1) await sleep(5);
    assert.deepEqual(await r.getaddrinfo('n1.test', 80, { family: 4 }), [
      { address: '10.0.0.1', family: 4, port: 80 },
    ]);
    assert.equal(r.udpSockets?.liveSockets, 2, 'the first socket drains');
    release();
    assert.deepEqual(await held, [{ address: '10.0.0.0', family: 4, port: 80 }]);
    assert.equal(r.udpSockets?.liveSockets, 1, 'and closes after its last answer');
  });

  test('a socket error fails the queries on that socket only', async () => {
    // A server of its own, so that its UDP port can go away and come back.
    let udp = dgram.createSocket('udp4');
    const onQuery = (sock: dgram.Socket) => (raw: Buffer, rinfo: dgram.RemoteInfo) => {
      const q = parseQuery(raw);
      // The first query is answered only when it is sent again (after a second).
      if (q.name === 'n0.test' && !seenOnce) {
        seenOnce = true;
        return;
      }
      sock.send(answer(q), rinfo.port, rinfo.address);
    };
    let seenOnce = false;
    udp.on('message', onQuery(udp));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const port = udp.address().port;
    const r = resolver({ host: '127.0.0.1', port }, { udpSockets: 1, udpSocketMaxQueries: 1, timeout: 3000 });
    try {
      // n0 waits on the first socket for its resend.
      const first = r.getaddrinfo('n0.test', 80, { family: 4 });
      while (!seenOnce) await sleep(5);
      // The port goes away: n1, on a second socket, meets ECONNREFUSED there.
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      const err = await rejectionOf(r.getaddrinfo('n1.test', 80, { family: 4 }));
      assert.ok(err instanceof NameResolutionError);
      assert.match(err.message, /ECONNREFUSED/);
      // The port comes back before n0 is sent again: n0's socket never saw the error.
      udp = dgram.createSocket('udp4');
      udp.on('message', onQuery(udp));
      await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
      assert.deepEqual(await first, [{ address: '10.0.0.0', family: 4, port: 80 }]);
      // And a new socket takes the failed one's place.
      assert.deepEqual(await r.getaddrinfo('n2.test', 80, { family: 4 }), [
        { address: '10.0.0.2', family: 4, port: 80 },
      ]);
    } finally {
      udp.close();
    }
  });

  test('a source address that cannot be bound fails the queries at once, naming the error', async () => {
    const s = await serve((q) => answer(q));
    // 192.0.2.1 (TEST-NET-1) is no address of this machine.
    const r = resolver(s, { sourceAddress: '192.0.2.1', timeout: 3000 });
    const started = performance.now();
    const err = await rejectionOf(r.getaddrinfo('n1.test', 80));
    assert.ok(err instanceof NameResolutionError);
    assert.match(err.message, /bind EADDRNOTAVAIL 192\.0\.2\.1/);
    assert.ok(performance.now() - started < 1000, 'not at the timeout');
    assert.equal(r.udpSockets?.liveSockets, 0, 'the failed sockets are closed');
    assert.equal(s.queries.length, 0);
  });

  test('a server address the socket cannot connect to fails the queries at once, naming the error', async () => {
    // Linux refuses connect() to the broadcast address without SO_BROADCAST (EACCES).
    const r = resolver({ host: '255.255.255.255', port: 53 }, { timeout: 3000 });
    const started = performance.now();
    const err = await rejectionOf(r.getaddrinfo('n1.test', 80));
    assert.ok(err instanceof NameResolutionError);
    assert.match(err.message, /dou:\/\/255\.255\.255\.255:53: connect EACCES 255\.255\.255\.255:53/);
    assert.ok(performance.now() - started < 1000, 'not at the timeout');
    assert.equal(r.udpSockets?.liveSockets, 0, 'the failed sockets are closed');
  });

  test('close() fails the queries still waiting, saying so, and frees every socket', async () => {
    const s = await serve(() => null);
    const r = resolver(s, { udpSockets: 2, timeout: 5000 });
    const pending = ['n1.test', 'n2.test', 'n3.test'].map((n) => rejectionOf(r.getaddrinfo(n, 80)));
    while (s.queries.length < 6) await sleep(5);
    const sockets = r.udpSockets!;
    assert.equal(sockets.inFlight, 6);
    const started = performance.now();
    await r.close();
    for (const err of await Promise.all(pending)) {
      assert.ok(err instanceof NameResolutionError);
      assert.match(
        err.message,
        /dou:\/\/127\.0\.0\.1:\d+: the resolver was closed while the query was in flight/,
      );
    }
    assert.ok(performance.now() - started < 500, 'at once, not at the timeout');
    assert.equal(sockets.liveSockets, 0);
    assert.equal(sockets.inFlight, 0);
    assert.equal(r.udpSockets, null);
  });

  test('a truncated answer still goes to TCP while other queries share the UDP socket', async () => {
    const s = await serve((q) => {
      if (q.name === 'big.test' && q.transport === 'udp') {
        return buildResponse({ id: q.id, question: q, truncated: true });
      }
      if (q.name === 'big.test') {
        const answers = Array.from({ length: 60 }, (_, i) => ({ name: q.name, type: T.A, a: `10.1.${i}.1` }));
        return buildResponse({ id: q.id, question: q, answers });
      }
      return answer(q);
    });
    const r = resolver(s, { udpSockets: 1 });
    const [big, small] = await Promise.all([
      r.getaddrinfo('big.test', 80, { family: 4 }),
      r.getaddrinfo('n5.test', 80, { family: 4 }),
    ]);
    assert.equal(big.length, 60);
    assert.deepEqual(small, [{ address: '10.0.0.5', family: 4, port: 80 }]);
    assert.deepEqual(s.queries.map((q) => `${q.name} ${q.transport}`).sort(), [
      'big.test tcp',
      'big.test udp',
      'n5.test udp',
    ]);
  });

  test('queries retried over TCP keep their place among those on the wire: a server truncating every answer gets no more TCP connections than that', async () => {
    let open = 0;
    let most = 0;
    const s = await serve(async (q) => {
      if (q.transport === 'udp') return buildResponse({ id: q.id, question: q, truncated: true });
      open++;
      most = Math.max(most, open);
      await sleep(50);
      open--;
      return answer(q);
    });
    const r = resolver(s, { udpMaxInFlight: 4 });
    const names = Array.from({ length: 20 }, (_, i) => `n${i + 1}.test`);
    const got = await Promise.all(names.map((n) => r.getaddrinfo(n, 80, { family: 4 })));
    assert.deepEqual(
      got.map((g) => g[0]!.address),
      names.map(addressOf),
    );
    assert.ok(most <= 4, `${most} TCP queries at once`);
  });

  test('a process with an idle dou:// resolver, never closed, exits within a second', async () => {
    const s = await serve((q) => answer(q));
    const dir = await mkdtemp(path.join(tmpdir(), 'urllib3-dou-exit-'));
    try {
      const file = path.join(dir, 'idle-dou.mts');
      const index = pathToFileURL(path.resolve('src/index.ts')).href;
      await writeFile(
        file,
        `import { ResolverDescription } from '${index}';
const r = ResolverDescription.fromUrl(process.env.DOU).new();
const got = await Promise.all([r.getaddrinfo('n1.test', 80), r.getaddrinfo('n2.test', 80)]);
console.log(got.map((g) => g.map((a) => a.address).join(',')).join(' '));
`,
      );
      const run = await runTsxScript([file], { DOU: `dou://127.0.0.1:${s.port}` });
      assert.equal(run.code, 0, `exit code ${run.code}; stderr: ${run.stderr}`);
      // AAAA gets NODATA from this server; A answers.
      assert.match(run.stdout, /^10\.0\.0\.1 10\.0\.0\.2$/m);
      assert.ok(run.lingered < 1000, `the script lingered ${run.lingered.toFixed(0)} ms after its last line`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
