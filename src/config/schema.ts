/**
 * A small typed validator for config documents (plain values from YAML or JSON).
 *
 * A `Schema<T>` checks an unknown value and returns a `T`, or `INVALID` after recording one
 * issue per bad field (with its path) in the `Checker`. It never stops at the first problem,
 * so a user sees every mistake in a file at once. Unknown keys are issues with a "did you
 * mean" hint. Combinators compose: `object`, `variant`, `list`, `optional`, `withDefault`,
 * `transform`, `refine`. YAML `null` (a key with no value) counts as absent.
 */
import { closest } from './suggest';

/** Where a value sits: keys and list indexes from the document root. */
export type Path = readonly (string | number)[];

/** One problem found: where, and what was expected. */
export interface Issue {
  path: Path;
  message: string;
  /** The key itself is the problem (unknown or forbidden), not its value. */
  atKey?: boolean;
}

/** Collects issues while a document is checked. */
export class Checker {
  readonly issues: Issue[] = [];
  /** Relative file paths are resolved against this (the config file's directory), if set. */
  constructor(readonly baseDir?: string) {}
  /** Above zero while checking a sensitive value: messages then never quote what was found. */
  redact = 0;
  report(path: Path, message: string, atKey = false): void {
    this.issues.push(atKey ? { path, message, atKey } : { path, message });
  }
}

/** Returned by a check that failed; its issues are in the Checker. */
export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

export interface Schema<T> {
  /** What a valid value looks like, for messages: `a duration such as "30s"`. */
  readonly expected: string;
  check(value: unknown, path: Path, ctx: Checker): T | Invalid;
}

/** The type a schema produces. */
export type Out<S> = S extends Schema<infer T> ? T : never;

/** Renders a path the way users write it: `agencies[1].hi2.address`. */
export function formatPath(path: Path): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(seg)) s += s === '' ? seg : `.${seg}`;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s === '' ? '(top level)' : s;
}

export function isAbsent(v: unknown): v is null | undefined {
  return v === undefined || v === null;
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Map);
}

/** Describes a received value for a message; with redaction on, never its content. */
export function describe(v: unknown, ctx: Checker): string {
  if (isAbsent(v)) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (isMapping(v)) return 'a mapping';
  if (typeof v === 'string') {
    if (ctx.redact > 0) return `a string of ${v.length} characters`;
    return `"${v.length > 60 ? `${v.slice(0, 57)}...` : v}"`;
  }
  if (ctx.redact > 0) return `a ${typeof v}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${v}`;
  return `a value of type ${typeof v}`;
}

/** What a scalar check returns for a bad value: the sentence to report. */
export class Problem {
  constructor(readonly message: string) {}
}
export const problem = (message: string): Problem => new Problem(message);

/**
 * The building block: checks a present value with `fn`; reports an absent one as required.
 * `fn` returns the parsed value, or a `problem(...)` saying what is wrong.
 */
export function scalar<T>(expected: string, fn: (v: unknown, ctx: Checker) => T | Problem): Schema<T> {
  return {
    expected,
    check(v, path, ctx) {
      if (isAbsent(v)) {
        ctx.report(path, `is required: expected ${expected}`);
        return INVALID;
      }
      const r = fn(v, ctx);
      if (r instanceof Problem) {
        ctx.report(path, r.message);
        return INVALID;
      }
      return r;
    },
  };
}

/** "expected X, got Y" */
export function mismatch(expected: string, v: unknown, ctx: Checker): string {
  return `expected ${expected}, got ${describe(v, ctx)}`;
}

/** An absent value is fine and gives `undefined`. */
export function optional<T>(s: Schema<T>): Schema<T | undefined> {
  return { expected: s.expected, check: (v, p, c) => (isAbsent(v) ? undefined : s.check(v, p, c)) };
}

/** An absent value gives `dflt`. */
export function withDefault<T>(s: Schema<T>, dflt: T): Schema<T> {
  return { expected: s.expected, check: (v, p, c) => (isAbsent(v) ? dflt : s.check(v, p, c)) };
}

/** Messages about this value never quote it (warrant identifiers, targets). */
export function sensitive<T>(s: Schema<T>): Schema<T> {
  return {
    expected: s.expected,
    check(v, p, c) {
      c.redact++;
      try {
        return s.check(v, p, c);
      } finally {
        c.redact--;
      }
    },
  };
}

/** Maps a valid value to another; `fn` may report further issues and return INVALID. */
export function transform<T, U>(s: Schema<T>, fn: (v: T, path: Path, ctx: Checker) => U | Invalid): Schema<U> {
  return {
    expected: s.expected,
    check(v, p, c) {
      const r = s.check(v, p, c);
      return r === INVALID ? INVALID : fn(r, p, c);
    },
  };
}

/** Cross-field rules on a valid value: `fn` reports issues (with full paths); the value stands. */
export function refine<T>(s: Schema<T>, fn: (v: T, path: Path, ctx: Checker) => void): Schema<T> {
  return transform(s, (v, p, c) => {
    const before = c.issues.length;
    fn(v, p, c);
    return c.issues.length === before ? v : INVALID;
  });
}

/**
 * Rules checked on the raw input even when parts of it are invalid (e.g. references between
 * lists), so that they are reported together with every other problem. `fn` must treat the
 * input defensively: its shape has not been checked.
 */
export function alsoRaw<T>(s: Schema<T>, fn: (raw: unknown, path: Path, ctx: Checker) => void): Schema<T> {
  return {
    expected: s.expected,
    check(v, p, c) {
      const r = s.check(v, p, c);
      const before = c.issues.length;
      fn(v, p, c);
      return c.issues.length === before ? r : INVALID;
    },
  };
}

export function boolean(): Schema<boolean> {
  return scalar('true or false', (v, c) => (typeof v === 'boolean' ? v : problem(mismatch('true or false', v, c))));
}

export function integer(opts: { min?: number; max?: number } = {}): Schema<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  const expected =
    opts.min !== undefined && opts.max !== undefined
      ? `an integer from ${min} to ${max}`
      : opts.min !== undefined
        ? `an integer of at least ${min}`
        : 'an integer';
  return scalar(expected, (v, c) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) return problem(mismatch(expected, v, c));
    return v;
  });
}

export interface StringOptions {
  /** Minimum length (default 1: empty strings are refused). */
  min?: number;
  max?: number;
  /** Count UTF-8 bytes rather than characters for min/max. */
  bytes?: boolean;
  /** The value must match; `expected` then says in words what it must look like. */
  pattern?: RegExp;
  expected?: string;
}

export function string(opts: StringOptions = {}): Schema<string> {
  const { min = 1, max, bytes = false, pattern } = opts;
  const unit = bytes ? 'bytes' : 'characters';
  const range = max === undefined ? (min > 1 ? ` of at least ${min} ${unit}` : '') : ` of ${min} to ${max} ${unit}`;
  const expected = opts.expected ?? (min === 1 && max === undefined ? 'a non-empty string' : `a string${range}`);
  return scalar(expected, (v, c) => {
    if (typeof v !== 'string') return problem(mismatch(expected, v, c));
    const len = bytes ? Buffer.byteLength(v, 'utf8') : v.length;
    if (len < min || (max !== undefined && len > max)) return problem(`expected ${expected}, got ${len} ${unit}`);
    if (pattern && !pattern.test(v)) return problem(mismatch(expected, v, c));
    return v;
  });
}

/** One of a fixed set of strings; a near miss gets a hint. */
export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  const expected = values.length === 2 ? `"${values[0]}" or "${values[1]}"` : `one of ${values.map((x) => `"${x}"`).join(', ')}`;
  return scalar(expected, (v, c) => {
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
    const near = typeof v === 'string' ? closest(v, values) : undefined;
    return problem(mismatch(expected, v, c) + (near ? ` (did you mean "${near}"?)` : ''));
  });
}

export interface ListOptions<T> {
  min?: number;
  max?: number;
  /** Items with the same key are duplicates; `what` names the key in the message. */
  unique?: { key: (item: T) => string; what: string };
}

export function list<T>(item: Schema<T>, opts: ListOptions<T> = {}): Schema<T[]> {
  const { min = 0, max } = opts;
  const expected = `a list of ${item.expected}`;
  return {
    expected,
    check(v, path, ctx) {
      if (isAbsent(v)) {
        ctx.report(path, `is required: expected ${expected}`);
        return INVALID;
      }
      if (!Array.isArray(v)) {
        ctx.report(path, mismatch(expected, v, ctx));
        return INVALID;
      }
      if (v.length < min) ctx.report(path, `needs at least ${min} item${min === 1 ? '' : 's'}, got ${v.length}`);
      if (max !== undefined && v.length > max) ctx.report(path, `allows at most ${max} items, got ${v.length}`);
      const out: T[] = [];
      let ok = v.length >= min && (max === undefined || v.length <= max);
      const seen = new Map<string, number>();
      v.forEach((x, i) => {
        const r = item.check(x, [...path, i], ctx);
        if (r === INVALID) {
          ok = false;
          return;
        }
        out.push(r);
        if (opts.unique) {
          const k = opts.unique.key(r);
          const first = seen.get(k);
          if (first !== undefined) {
            ctx.report([...path, i], `${opts.unique.what} repeats the one of ${formatPath([...path, first])}`);
            ok = false;
          } else seen.set(k, i);
        }
      });
      return ok ? out : INVALID;
    },
  };
}

/** Keys and their schemas. */
export type Shape = Record<string, Schema<unknown>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Out<S[K]> ? K : never }[keyof S];
/** Keys whose schema may give undefined become optional properties. */
export type ObjectOut<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Out<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Out<S[K]>, undefined> }
>;

export interface ObjectOptions {
  /** Keys refused with a specific message (e.g. an option lig deliberately does not have). */
  forbidden?: (key: string) => string | undefined;
}

/** Keys that exist only in other variants of a `variant`, with why they are refused here. */
type Elsewhere = Map<string, string>;

function checkFields(
  v: Record<string, unknown>,
  shape: Shape,
  path: Path,
  ctx: Checker,
  opts: ObjectOptions,
  elsewhere?: Elsewhere,
): Record<string, unknown> | Invalid {
  let ok = true;
  for (const key of Object.keys(v)) {
    if (Object.prototype.hasOwnProperty.call(shape, key)) continue;
    ok = false;
    const forbidden = opts.forbidden?.(key);
    const other = elsewhere?.get(key);
    if (forbidden) ctx.report([...path, key], forbidden, true);
    else if (other) ctx.report([...path, key], other, true);
    else {
      const near = closest(key, Object.keys(shape));
      const hint = near ? `did you mean "${near}"?` : `expected one of: ${Object.keys(shape).join(', ')}`;
      ctx.report([...path, key], `unknown key "${key}": ${hint}`, true);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(shape)) {
    const r = s.check(Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined, [...path, key], ctx);
    if (r === INVALID) ok = false;
    else if (r !== undefined) out[key] = r;
  }
  return ok ? out : INVALID;
}

function mappingExpected(keys: string[]): string {
  return `a mapping with keys ${keys.join(', ')}`;
}

/** Reports a missing or non-mapping value (as `expected`); true when `v` is a mapping to check. */
function requireMapping(v: unknown, expected: string, path: Path, ctx: Checker): v is Record<string, unknown> {
  if (isAbsent(v)) {
    ctx.report(path, `is required: expected ${expected}`);
    return false;
  }
  if (!isMapping(v)) {
    ctx.report(path, mismatch(expected, v, ctx));
    return false;
  }
  return true;
}

export function object<S extends Shape>(shape: S, opts: ObjectOptions = {}): Schema<ObjectOut<S>> {
  const expected = mappingExpected(Object.keys(shape));
  return {
    expected,
    check(v, path, ctx) {
      if (!requireMapping(v, expected, path, ctx)) return INVALID;
      return checkFields(v, shape, path, ctx, opts) as ObjectOut<S> | Invalid;
    },
  };
}

/** The union a `variant` produces: one object type per value of the discriminant key. */
export type VariantOut<K extends string, C extends Shape, V extends Record<string, Shape>> = {
  [N in keyof V & string]: Simplify<{ [P in K]: N } & ObjectOut<C & V[N]>>;
}[keyof V & string];

/**
 * A mapping whose `key` (e.g. `delivery`) picks which further keys apply: `common` keys are
 * always allowed, `variants[name]` only when `key` is `name`. A key of another variant gets
 * a message saying which value it belongs to.
 */
export function variant<const K extends string, C extends Shape, V extends Record<string, Shape>>(
  key: K,
  common: C,
  variants: V,
  opts: ObjectOptions = {},
): Schema<VariantOut<K, C, V>> {
  const names = Object.keys(variants);
  const tag = oneOf(names);
  const allKeys = [key, ...Object.keys(common), ...new Set(names.flatMap((n) => Object.keys(variants[n]!)))];
  const expected = mappingExpected(allKeys);
  return {
    expected,
    check(v, path, ctx) {
      if (!requireMapping(v, expected, path, ctx)) return INVALID;
      const which = tag.check(v[key], [...path, key], ctx);
      if (which === INVALID) {
        // Still check what does not depend on the variant, so all problems show at once.
        const rest: Shape = { [key]: { expected: '', check: () => undefined } };
        for (const n of names) Object.assign(rest, Object.fromEntries(Object.keys(variants[n]!).map((k) => [k, rest[key]!])));
        checkFields(v, { ...rest, ...common }, path, ctx, opts);
        return INVALID;
      }
      const elsewhere: Elsewhere = new Map();
      for (const n of names) {
        if (n === which) continue;
        for (const k of Object.keys(variants[n]!)) {
          if (!(k in variants[which]!) && !(k in common) && !elsewhere.has(k)) {
            elsewhere.set(k, `"${k}" applies only when ${key} is "${n}", and here it is "${which}"`);
          }
        }
      }
      const shape: Shape = { [key]: { expected: tag.expected, check: () => which }, ...common, ...variants[which]! };
      return checkFields(v, shape, path, ctx, opts, elsewhere) as VariantOut<K, C, V> | Invalid;
    },
  };
}
