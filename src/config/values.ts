/**
 * Schemas for the kinds of values lig's config files hold: endpoints, durations, sizes,
 * file paths, names, country codes, TLS sections. Shared by the mediator and probe schemas.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { resolve } from 'node:path';
import { COUNTRY_ALIASES, ISO_3166_ALPHA2 } from './countries';
import { INVALID, Problem, Schema, Shape, isAbsent, mismatch, object, problem, scalar, string } from './schema';
import { Bytes, Milliseconds, formatDuration, formatSize, parseDuration, parseSize, sizeUnitHint } from './units';

/** A host and port, from "HOST:PORT" ("127.0.0.1:8443", "[::1]:8443", "lemf.example:4443"). */
export interface Endpoint {
  /** IPv4 address, IPv6 address (without brackets) or DNS name. */
  host: string;
  port: number;
}

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);

/**
 * Parses "HOST:PORT". Returns the endpoint, or a sentence saying what is wrong.
 * `portZero` allows port 0 (listen on any free port, as tests do).
 */
export function parseHostPort(text: string, portZero = false): Endpoint | string {
  let host: string;
  let port: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return 'an IPv6 address in brackets must be followed by ":PORT"';
    host = text.slice(1, close);
    port = text.slice(close + 2);
    if (!isIPv6(host) || host.includes('%')) return 'the part in brackets is not an IPv6 address';
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return 'the port is missing';
    host = text.slice(0, colon);
    port = text.slice(colon + 1);
    if (host.includes(':')) return 'an IPv6 address must be in brackets, as in "[::1]:8443"';
    if (/^[\d.]+$/.test(host) ? !isIPv4(host) : !HOSTNAME.test(host)) return 'the host is not an IPv4 address or DNS name';
  }
  const min = portZero ? 0 : 1;
  if (!/^\d{1,5}$/.test(port) || Number(port) < min || Number(port) > 65535) return `the port must be a number from ${min} to 65535`;
  return { host, port: Number(port) };
}

export function hostPort(opts: { portZero?: boolean } = {}): Schema<Endpoint> {
  const expected = opts.portZero ? 'HOST:PORT (port 0 picks a free port)' : 'HOST:PORT';
  return scalar(expected, (v, c) => {
    if (typeof v !== 'string') return problem(mismatch(expected, v, c));
    const r = parseHostPort(v, opts.portZero);
    return typeof r === 'string' ? problem(`${mismatch(expected, v, c)}: ${r}`) : r;
  });
}

export function duration(opts: { min?: Milliseconds; max?: Milliseconds } = {}): Schema<Milliseconds> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = opts;
  const expected = 'a duration such as "30s", "5m" or "250ms"';
  return scalar(expected, (v, c) => {
    if (typeof v === 'number') return problem(`${mismatch(expected, v, c)}: add a unit, e.g. "${v}s" or "${v}ms"`);
    if (typeof v !== 'string') return problem(mismatch(expected, v, c));
    const ms = parseDuration(v);
    if (ms === undefined) return problem(`${mismatch(expected, v, c)} (units: ms, s, m, h)`);
    if (ms < min) return problem(`must be at least ${formatDuration(min)}, got "${v}"`);
    if (ms > max) return problem(`must be at most ${formatDuration(max)}, got "${v}"`);
    return ms;
  });
}

export function size(opts: { min?: Bytes; max?: Bytes } = {}): Schema<Bytes> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = opts;
  const expected = 'a size such as "64MiB", "1GiB" or "500MB"';
  const inRange = (n: number, shown: string): Bytes | Problem => {
    if (n < min) return problem(`must be at least ${formatSize(min)}, got ${shown}`);
    if (n > max) return problem(`must be at most ${formatSize(max)}, got ${shown}`);
    return n;
  };
  return scalar(expected, (v, c) => {
    if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? inRange(v, `${v} bytes`) : problem(mismatch(expected, v, c));
    if (typeof v !== 'string') return problem(mismatch(expected, v, c));
    const n = parseSize(v);
    if (n === undefined) {
      const hint = sizeUnitHint(v);
      return problem(mismatch(expected, v, c) + (hint ? ` (did you mean "${hint}"?)` : ' (units: B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)'));
    }
    return inRange(n, `"${v}"`);
  });
}

/**
 * A file or directory path. With a base directory (the config file's), relative paths are
 * resolved against it, so a config means the same thing whatever the working directory.
 */
export function filePath(what = 'a file path'): Schema<string> {
  return scalar(what, (v, c) => {
    if (typeof v !== 'string' || v.length === 0) return problem(mismatch(what, v, c));
    if (v.includes('\0')) return problem(`${what} cannot contain a NUL character`);
    return c.baseDir === undefined ? v : resolve(c.baseDir, v);
  });
}

/** Names of things (agencies, probes): what may appear in logs, metrics and file names. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function name(what: string): Schema<string> {
  return string({ pattern: NAME_PATTERN, expected: `${what} of 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit` });
}

export function country(): Schema<string> {
  const expected = 'an ISO 3166-1 alpha-2 country code such as "DE" or "US"';
  return scalar(expected, (v, c) => {
    if (typeof v !== 'string') return problem(mismatch(expected, v, c));
    if (ISO_3166_ALPHA2.has(v)) return v;
    if (ISO_3166_ALPHA2.has(v.toUpperCase())) return problem(`${mismatch(expected, v, c)} (country codes are upper case: "${v.toUpperCase()}")`);
    const alias = COUNTRY_ALIASES[v.toUpperCase()];
    return problem(mismatch(expected, v, c) + (alias ? ` (ISO 3166-1 reserves "${v}"; did you mean "${alias}"?)` : ''));
  });
}

/** Keys asking for an unencrypted or unverified connection, compared without case, "-" or "_". */
const INSECURE_KEYS = new Set([
  'plaintext',
  'plain',
  'insecure',
  'notls',
  'disabletls',
  'tlsdisabled',
  'skipverify',
  'insecureskipverify',
  'noverify',
  'verify',
  'rejectunauthorized',
  'allowinsecure',
  'unencrypted',
]);

/** The `forbidden` option of every section that holds or sits next to TLS settings. */
export function noPlaintext(key: string): string | undefined {
  if (!INSECURE_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''))) return undefined;
  return `"${key}" is not an option: lig has no plaintext or unverified mode, every connection uses TLS with both certificates checked; remove this key`;
}

/**
 * A TLS section. `tls: false`, `tls: off` and the like get a clear refusal rather than a
 * type mismatch, because there is no way to turn TLS off.
 */
export function tlsSection<S extends Shape>(shape: S): ReturnType<typeof object<S>> {
  const inner = object(shape, { forbidden: noPlaintext });
  return {
    expected: inner.expected,
    check(v, path, ctx) {
      const off = v === false || (typeof v === 'string' && /^(off|none|no|false|disabled?|plain(text)?)$/i.test(v));
      if (!isAbsent(v) && off) {
        ctx.report(path, `TLS cannot be turned off: lig has no plaintext mode; expected ${inner.expected}`);
        return INVALID;
      }
      return inner.check(v, path, ctx);
    },
  };
}

/** ca, cert and key: the files every TLS section needs. */
export function tlsFiles() {
  return {
    ca: filePath('the path of a PEM file of CA certificates'),
    cert: filePath('the path of a PEM certificate file'),
    key: filePath('the path of a PEM private key file'),
  };
}

/** Log levels, most to least severe. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
