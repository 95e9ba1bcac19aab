// The `socketOptions` connection option (docs/api.md section 4) in its two
// shapes: urllib3's list of `[level, option, value]` triples, and the object
// form `{ noDelay, keepAlive, keepAliveInitialDelay }`. Both become the
// object form, which is what Node can set on a TCP socket. An option Node
// cannot set is a TypeError naming what is supported: none is accepted and
// then ignored. Pure checks, no I/O.

/** The socket settings Node applies when it opens a TCP connection. */
export interface SocketOptions {
  /** TCP_NODELAY; on by default as in urllib3. */
  noDelay?: boolean;
  /** SO_KEEPALIVE. */
  keepAlive?: boolean;
  /** TCP_KEEPIDLE in milliseconds (Node's unit); needs keepAlive. */
  keepAliveInitialDelay?: number;
}

/** One of urllib3's `(level, option, value)` socket options. */
export type SocketOptionTriple = readonly [level: number, option: number, value: number | boolean];

/**
 * The numbers Python's `socket` module gives these names on Linux, so
 * `[socketConstants.SOL_SOCKET, socketConstants.SO_KEEPALIVE, 1]` reads as
 * urllib3's `(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)`.
 */
export const socketConstants = Object.freeze({
  SOL_SOCKET: 1,
  IPPROTO_TCP: 6,
  SO_KEEPALIVE: 9,
  TCP_NODELAY: 1,
  TCP_KEEPIDLE: 4,
  TCP_KEEPINTVL: 5,
  TCP_KEEPCNT: 6,
});

const C = socketConstants;

const SUPPORTED =
  '[IPPROTO_TCP, TCP_NODELAY, 0|1], [SOL_SOCKET, SO_KEEPALIVE, 0|1] and ' +
  '[IPPROTO_TCP, TCP_KEEPIDLE, seconds] (with SO_KEEPALIVE on)';

const OBJECT_KEYS = new Set(['noDelay', 'keepAlive', 'keepAliveInitialDelay']);

/** urllib3's `HTTPConnection.default_socket_options`: Nagle's algorithm off. */
export const DEFAULT_SOCKET_OPTIONS: readonly SocketOptionTriple[] = Object.freeze([
  Object.freeze([C.IPPROTO_TCP, C.TCP_NODELAY, 1] as const),
]);

function flag(v: unknown, what: string, where: string): boolean {
  if (v === true || v === 1) return true;
  if (v === false || v === 0) return false;
  throw new TypeError(`${where}: socketOptions ${what} takes 0 or 1, got ${String(v)}`);
}

function fromTriples(list: readonly unknown[], where: string): SocketOptions {
  // A list replaces the defaults, as urllib3's: [] turns TCP_NODELAY off.
  let noDelay = false;
  let keepAlive = false;
  let idleSeconds: number | null = null;
  for (const entry of list) {
    if (!Array.isArray(entry) || entry.length !== 3) {
      throw new TypeError(
        `${where}: socketOptions entries are [level, option, value] triples, got ${JSON.stringify(entry)}`,
      );
    }
    const [level, option, value] = entry as unknown[];
    if (level === C.IPPROTO_TCP && option === C.TCP_NODELAY) noDelay = flag(value, 'TCP_NODELAY', where);
    else if (level === C.SOL_SOCKET && option === C.SO_KEEPALIVE)
      keepAlive = flag(value, 'SO_KEEPALIVE', where);
    else if (level === C.IPPROTO_TCP && option === C.TCP_KEEPIDLE) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        throw new TypeError(
          `${where}: socketOptions TCP_KEEPIDLE takes whole seconds >= 1, got ${String(value)}`,
        );
      }
      idleSeconds = value;
    } else {
      throw new TypeError(
        `${where}: socket option ${JSON.stringify(entry)} cannot be set from Node.js; ` +
          `supported: ${SUPPORTED} (socketConstants holds the numbers)`,
      );
    }
  }
  const out: SocketOptions = { noDelay, keepAlive };
  if (idleSeconds !== null) {
    if (!keepAlive) {
      throw new TypeError(
        `${where}: socketOptions TCP_KEEPIDLE needs [SOL_SOCKET, SO_KEEPALIVE, 1] beside it ` +
          '(Node.js sets the keep-alive delay only while keep-alive is on)',
      );
    }
    out.keepAliveInitialDelay = idleSeconds * 1000;
  }
  return out;
}

function fromObject(o: Record<string, unknown>, where: string): SocketOptions {
  for (const k of Object.keys(o)) {
    if (!OBJECT_KEYS.has(k)) {
      throw new TypeError(
        `${where}: unknown socketOptions key ${JSON.stringify(k)}; supported: noDelay, keepAlive, ` +
          `keepAliveInitialDelay, or a list of [level, option, value] triples: ${SUPPORTED}`,
      );
    }
  }
  for (const k of ['noDelay', 'keepAlive'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean')
      throw new TypeError(`${where}: socketOptions.${k} must be a boolean`);
  }
  const d = o.keepAliveInitialDelay;
  if (d !== undefined && (typeof d !== 'number' || !Number.isFinite(d) || d < 0))
    throw new TypeError(`${where}: socketOptions.keepAliveInitialDelay must be a number of ms >= 0`);
  return { noDelay: true, ...(o as SocketOptions) };
}

/**
 * The object form of a `socketOptions` value: null or undefined gives the
 * default (TCP_NODELAY on); a list of triples replaces the defaults as in
 * urllib3; an object keeps TCP_NODELAY on unless it says `noDelay: false`.
 */
export function resolveSocketOptions(value: unknown, where: string): SocketOptions {
  if (value === undefined || value === null) return { noDelay: true };
  if (Array.isArray(value)) return fromTriples(value, where);
  if (typeof value === 'object') return fromObject(value as Record<string, unknown>, where);
  throw new TypeError(
    `${where}: socketOptions must be a list of [level, option, value] triples or an object`,
  );
}
