// HTTPHeaderDict (docs/api.md section 3): urllib3's case-insensitive, insertion-
// ordered, multi-valued header map. Every name keeps the spelling it was
// first added with; `get` joins repeated fields with ", " as RFC 9110
// section 5.3 allows, while `getList`, `items` and `toFlatPairs` keep each
// field line separate (Set-Cookie must never be joined).
//
// It does not validate names or values: CR, LF and NUL are stored as given and
// rejected by the serializer when a request is sent.

import { inspect as nodeInspect } from 'node:util';

/** Anything a header dict can be built from or extended with. */
export type HeadersInit =
  | Record<string, string | number | readonly string[]>
  | Iterable<readonly [string, string]>
  | Map<string, string>
  | HTTPHeaderDict;

export interface AddOptions {
  /** Append to the last value of an existing field with ", " instead of adding a new field line. */
  combine?: boolean;
}

interface Field {
  /** The spelling of the name as first inserted (or as last `set`). */
  name: string;
  values: string[];
}

function checkName(name: unknown): string {
  if (typeof name !== 'string') {
    throw new TypeError(`HTTPHeaderDict: header name must be a string, got ${typeof name}`);
  }
  return name;
}

function toValue(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

/**
 * The merged value of `name` in flat [name, value, ...] pairs, or undefined.
 * Names of another length are skipped without lower-casing anything.
 */
function rawGet(raw: readonly string[], name: string): string | undefined {
  const len = name.length;
  let lower: string | null = null;
  let out: string | undefined;
  for (let i = 0, n = raw.length - 1; i < n; i += 2) {
    const k = raw[i]!;
    if (k.length !== len) continue;
    if (k !== name) {
      lower ??= name.toLowerCase();
      if (k.toLowerCase() !== lower) continue;
    }
    out = out === undefined ? raw[i + 1]! : `${out}, ${raw[i + 1]!}`;
  }
  return out;
}

function rawHas(raw: readonly string[], name: string): boolean {
  const len = name.length;
  let lower: string | null = null;
  for (let i = 0, n = raw.length - 1; i < n; i += 2) {
    const k = raw[i]!;
    if (k.length !== len) continue;
    if (k === name) return true;
    lower ??= name.toLowerCase();
    if (k.toLowerCase() === lower) return true;
  }
  return false;
}

export class HTTPHeaderDict implements Iterable<[string, string]> {
  // Keyed by the lower-cased name; Map keeps insertion order for us. Built on
  // first use: a dict from fromRawPairs() keeps the parser's flat pairs in
  // #raw and answers get/has by scanning them, which for the handful of
  // lookups most responses see is cheaper than building the index.
  #fields: Map<string, Field> | null = null;
  #raw: readonly string[] | null = null;

  constructor(init?: HeadersInit) {
    if (init !== undefined && init !== null) this.extend(init);
  }

  /**
   * Builds a dict from `[name, value, name, value, ...]` as the HTTP/1.1 parser
   * produces it. Called once per response, so it skips type checks and the
   * generic `add` path, and defers indexing until something needs it. The
   * array is kept, not copied: callers hand over a fresh array and never
   * change it afterwards.
   */
  static fromRawPairs(flat: readonly string[]): HTTPHeaderDict {
    const dict = new HTTPHeaderDict();
    if (flat.length > 1) dict.#raw = flat;
    return dict;
  }

  /** The index, built from the raw pairs (or empty) on first use. */
  #index(): Map<string, Field> {
    let fields = this.#fields;
    if (fields !== null) return fields;
    fields = new Map<string, Field>();
    const flat = this.#raw;
    if (flat !== null) {
      for (let i = 0, n = flat.length - 1; i < n; i += 2) {
        const name = flat[i]!;
        const key = name.toLowerCase();
        const field = fields.get(key);
        if (field === undefined) fields.set(key, { name, values: [flat[i + 1]!] });
        else field.values.push(flat[i + 1]!);
      }
      this.#raw = null;
    }
    this.#fields = fields;
    return fields;
  }

  /** Number of distinct header names. */
  get size(): number {
    return this.#index().size;
  }

  /** All values of `name` joined with ", ", or `undefined` when absent. */
  get(name: string): string | undefined {
    checkName(name);
    if (this.#raw !== null) return rawGet(this.#raw, name);
    const field = this.#index().get(name.toLowerCase());
    if (field === undefined) return undefined;
    return field.values.length === 1 ? field.values[0] : field.values.join(', ');
  }

  /** Each field line's value for `name` (a fresh array; empty when absent). */
  getList(name: string): string[] {
    const field = this.#index().get(checkName(name).toLowerCase());
    return field === undefined ? [] : field.values.slice();
  }

  has(name: string): boolean {
    checkName(name);
    if (this.#raw !== null) return rawHas(this.#raw, name);
    return this.#index().has(name.toLowerCase());
  }

  /**
   * Replaces every value of `name`. As with urllib3's `__setitem__`, the name
   * takes the spelling given here, but an existing field keeps its position.
   */
  set(name: string, value: string | number | readonly string[]): this {
    checkName(name);
    const values = Array.isArray(value) ? (value as readonly unknown[]).map(toValue) : [toValue(value)];
    if (values.length === 0) {
      this.#index().delete(name.toLowerCase());
      return this;
    }
    const key = name.toLowerCase();
    const field = this.#index().get(key);
    if (field === undefined) this.#index().set(key, { name, values });
    else {
      field.name = name;
      field.values = values;
    }
    return this;
  }

  /** Adds one value; an existing field keeps the spelling of its first insertion. */
  add(name: string, value: string | number, options?: AddOptions): this {
    checkName(name);
    if (options !== undefined) {
      for (const k in options) {
        if (k !== 'combine') throw new TypeError(`HTTPHeaderDict.add: unknown option '${k}'`);
      }
    }
    const text = toValue(value);
    const key = name.toLowerCase();
    const field = this.#index().get(key);
    if (field === undefined) this.#index().set(key, { name, values: [text] });
    else if (options?.combine === true) {
      const last = field.values.length - 1;
      field.values[last] = `${field.values[last]}, ${text}`;
    } else field.values.push(text);
    return this;
  }

  /** Adds every value of `init`, keeping existing ones (urllib3's `extend`). */
  extend(init: HeadersInit): this {
    if (init instanceof HTTPHeaderDict) {
      for (const field of init.#index().values()) {
        for (const value of field.values) this.add(field.name, value);
      }
      return this;
    }
    if (typeof init !== 'object' || init === null) {
      throw new TypeError(
        `HTTPHeaderDict: cannot build headers from ${init === null ? 'null' : typeof init}`,
      );
    }
    if (Symbol.iterator in init) {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (pair === null || typeof pair !== 'object' || pair.length !== 2) {
          throw new TypeError('HTTPHeaderDict: each header must be a [name, value] pair');
        }
        this.add(pair[0], pair[1]);
      }
      return this;
    }
    for (const name of Object.keys(init)) {
      const value = (init as Record<string, unknown>)[name];
      // An undefined entry is how `{ 'x-id': maybeId }` says "no header".
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) this.add(name, v as string);
      else this.add(name, value as string);
    }
    return this;
  }

  /** Removes `name`; returns whether it was present. */
  delete(name: string): boolean {
    return this.#index().delete(checkName(name).toLowerCase());
  }

  /** Distinct names, each in the spelling of its first insertion. */
  *keys(): IterableIterator<string> {
    for (const field of this.#index().values()) yield field.name;
  }

  /** One merged (", "-joined) value per distinct name. */
  *values(): IterableIterator<string> {
    for (const field of this.#index().values()) yield field.values.join(', ');
  }

  /** `[name, mergedValue]` per distinct name. */
  *entries(): IterableIterator<[string, string]> {
    for (const field of this.#index().values()) yield [field.name, field.values.join(', ')];
  }

  /** `[name, value]` per field line, so repeated headers come out separately. */
  *items(): IterableIterator<[string, string]> {
    for (const field of this.#index().values()) {
      for (const value of field.values) yield [field.name, value];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** `[name, value, name, value, ...]`, one pair per field line, for the serializer. */
  toFlatPairs(): string[] {
    const out: string[] = [];
    for (const field of this.#index().values()) {
      for (const value of field.values) out.push(field.name, value);
    }
    return out;
  }

  copy(): HTTPHeaderDict {
    const dict = new HTTPHeaderDict();
    for (const [key, field] of this.#index())
      dict.#index().set(key, { name: field.name, values: field.values.slice() });
    return dict;
  }

  /** A plain object of merged values keyed by the original spelling. */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const field of this.#index().values()) {
      const value = field.values.join(', ');
      // Plain assignment of '__proto__' would replace the prototype instead of adding a key.
      if (field.name === '__proto__') {
        Object.defineProperty(out, field.name, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else out[field.name] = value;
    }
    return out;
  }

  /**
   * Same names (case-insensitively) with the same merged values, order
   * ignored, as urllib3's `__eq__`. Anything that is not headers-like is unequal.
   */
  equals(other: unknown): boolean {
    let theirs: HTTPHeaderDict;
    if (other instanceof HTTPHeaderDict) theirs = other;
    else if (typeof other === 'object' && other !== null) {
      try {
        theirs = new HTTPHeaderDict(other as HeadersInit);
      } catch {
        return false;
      }
    } else return false;
    if (theirs.#index().size !== this.#index().size) return false;
    for (const [key, field] of this.#index()) {
      const match = theirs.#index().get(key);
      if (match === undefined || match.values.join(', ') !== field.values.join(', ')) return false;
    }
    return true;
  }

  get [Symbol.toStringTag](): string {
    return 'HTTPHeaderDict';
  }

  [Symbol.for('nodejs.util.inspect.custom')](
    depth: number,
    options: object,
    inspect: typeof nodeInspect = nodeInspect,
  ): string {
    if (depth < 0) return '[HTTPHeaderDict]';
    return `HTTPHeaderDict ${inspect(this.toJSON(), options)}`;
  }
}
