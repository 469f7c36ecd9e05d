/**
 * The independent decoder: `../shared/tools/etsi-oracle decode FILE` (asn1c's BER→XER
 * converter built from the reference ASN.1), and a small reader for the XER it prints.
 *
 * Without asn1c the oracle cannot be built: a skip with the reason, except under CI where
 * that is a failure (CI installs asn1c; see .ci/run).
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UNKNOWN } from '../../src/ber/decode';
import { Schema, resolve } from '../../src/ber/schema';
import { requireShared, skipOrFail } from './shared';

/** LI-PS-PDU module text the oracle compiles: 40 (third-party copy, the default) or ETSI's 35. */
export type OracleVersion = 35 | 40;

/** What the oracle printed for a stream; `ok` is false when it rejected some PDU. */
export interface OracleResult {
  xer: string;
  stderr: string;
  ok: boolean;
}

/**
 * Runs `etsi-oracle decode FILE` and returns its XER (every PDU, one after another). The
 * oracle exits non-zero when any PDU does not decode or breaks a constraint: `ok` says so,
 * `stderr` says which. Skips (or fails, under CI) when asn1c is missing.
 */
export async function oracleDecode(ctx: Mocha.Context, file: string, version: OracleVersion = 40): Promise<OracleResult> {
  const tool = requireShared(ctx, 'tools', 'etsi-oracle');
  const env = { ...process.env, ETSI_ORACLE_VERSION: String(version) };
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    execFile(tool, ['decode', file], { env, maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err); // could not start it at all
      else resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
  if (r.code !== 0 && /asn1c is missing/.test(r.stderr)) {
    skipOrFail(ctx, 'the etsi-oracle needs asn1c: apt-get install asn1c');
  }
  if (r.code !== 0 && r.stdout === '' && !/does not decode|not a stream/.test(r.stderr)) {
    throw new Error(`etsi-oracle failed (exit ${r.code}): ${r.stderr.trim()}`);
  }
  return { xer: r.stdout, stderr: r.stderr, ok: r.code === 0 };
}

/**
 * The oracle's reading of `pdus`, written one after another to a temporary file: asserts it
 * accepts every one and returns one XER element per PDU, in order.
 */
export async function oracleXerOf(ctx: Mocha.Context, pdus: readonly Uint8Array[]): Promise<XerNode[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-oracle-'));
  try {
    const file = path.join(dir, 'pdus.ber');
    fs.writeFileSync(file, Buffer.concat(pdus));
    const o = await oracleDecode(ctx, file);
    assert.ok(o.ok, o.stderr);
    const xer = parseXer(o.xer);
    assert.equal(xer.length, pdus.length, 'one XER element per PDU');
    return xer;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// --- XER ---------------------------------------------------------------------------------------

/**
 * One XER element. XER as asn1c prints it has no attributes and no mixed content: an
 * element holds either text (`<seconds>12</seconds>`) or elements. An ENUMERATED or BOOLEAN
 * value is one empty child named for the value (`<iRIType><iRI-Begin/></iRIType>`); NULL is
 * an empty element (`<keep-alive/>` or `<keep-alive></keep-alive>`).
 */
export interface XerNode {
  name: string;
  children: XerNode[];
  /** The text content, entities resolved; '' for elements holding elements. */
  text: string;
}

/** Parses a sequence of XER documents (the oracle prints one per PDU, back to back). */
export function parseXer(src: string): XerNode[] {
  const p = { src, at: 0 };
  const out: XerNode[] = [];
  for (;;) {
    skipProlog(p);
    if (p.at >= src.length) return out;
    out.push(parseElement(p));
  }
}

/** The child called `name`; throws when there is none (or more than one). */
export function child(n: XerNode, name: string): XerNode {
  const found = n.children.filter((c) => c.name === name);
  if (found.length !== 1) throw new Error(`<${n.name}> has ${found.length} <${name}> elements, expected 1`);
  return found[0]!;
}

/** The child at a path of names, or undefined when some step is absent. */
export function find(n: XerNode, ...names: string[]): XerNode | undefined {
  let cur: XerNode | undefined = n;
  for (const name of names) cur = cur?.children.find((c) => c.name === name);
  return cur;
}

/** An ENUMERATED/BOOLEAN value: the name of the single empty child. */
export function enumValue(n: XerNode): string {
  const only = n.children[0];
  if (n.children.length !== 1 || only!.children.length !== 0 || only!.text !== '') {
    throw new Error(`<${n.name}> does not hold an enumerated value`);
  }
  return only!.name;
}

/** OCTET STRING text as asn1c prints it ("45 00 00 C8", wrapped over lines) → lower-case hex. */
export function xerHex(n: XerNode): string {
  const h = n.text.replace(/\s+/g, '');
  if (!/^([0-9A-Fa-f]{2})*$/.test(h)) throw new Error(`<${n.name}> does not hold hex octets: ${JSON.stringify(n.text.slice(0, 40))}`);
  return h.toLowerCase();
}

interface Cursor {
  src: string;
  at: number;
}

function skipProlog(p: Cursor): void {
  for (;;) {
    while (p.at < p.src.length && /\s/.test(p.src[p.at]!)) p.at++;
    if (p.src.startsWith('<?', p.at)) p.at = indexOrFail(p, '?>') + 2;
    else if (p.src.startsWith('<!--', p.at)) p.at = indexOrFail(p, '-->') + 3;
    else return;
  }
}

function parseElement(p: Cursor): XerNode {
  const m = /^<([A-Za-z][A-Za-z0-9_.-]*)\s*(\/?)>/.exec(p.src.slice(p.at, p.at + 300));
  if (!m) throw new Error(`XER: expected an element at ${p.at}: ${JSON.stringify(p.src.slice(p.at, p.at + 30))}`);
  const name = m[1]!;
  p.at += m[0].length;
  const node: XerNode = { name, children: [], text: '' };
  if (m[2] === '/') return node;
  let text = '';
  for (;;) {
    const lt = p.src.indexOf('<', p.at);
    if (lt < 0) throw new Error(`XER: <${name}> is not closed`);
    text += p.src.slice(p.at, lt);
    p.at = lt;
    if (p.src.startsWith('</', p.at)) {
      const close = `</${name}>`;
      if (!p.src.startsWith(close, p.at)) throw new Error(`XER: expected ${close} at ${p.at}`);
      p.at += close.length;
      break;
    }
    if (p.src.startsWith('<!--', p.at)) {
      p.at = indexOrFail(p, '-->') + 3;
      continue;
    }
    node.children.push(parseElement(p));
  }
  if (node.children.length > 0) {
    if (text.trim() !== '') throw new Error(`XER: <${name}> mixes text and elements`);
  } else {
    node.text = unescape(text);
  }
  return node;
}

function indexOrFail(p: Cursor, s: string): number {
  const i = p.src.indexOf(s, p.at);
  if (i < 0) throw new Error(`XER: unterminated construct at ${p.at}`);
  return i;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function unescape(s: string): string {
  return s.replace(/&(#x[0-9A-Fa-f]+|#[0-9]+|[a-z]+);/g, (whole, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    const v = ENTITIES[e];
    if (v === undefined) throw new Error(`XER: unknown entity ${whole}`);
    return v;
  });
}

// --- comparing lig's JSON with the oracle's XER --------------------------------------------------

/**
 * Every difference between a value as `lig decode --json` prints it (toJsonValue: OCTET
 * STRINGs as lower-case hex, big INTEGERs as decimal text, BIT STRINGs as {bytes, unusedBits})
 * and the oracle's XER element for it, walking lig's schema for the types. Names must match
 * on both sides, component by component; each side is normalised only in notation (the
 * oracle's "45 00 C8" hex, enumerations as <name/>), never in value. Empty when they agree.
 */
export function diffWithXer(schema: Schema, json: unknown, x: XerNode, path = x.name): string[] {
  const out: string[] = [];
  walk(schema, json, x, path, out);
  return out;
}

function walk(schema: Schema, j: unknown, x: XerNode, path: string, out: string[]): void {
  const s = resolve(schema);
  const differ = (lig: unknown, oracle: unknown) => out.push(`${path}: lig ${JSON.stringify(lig)}, oracle ${JSON.stringify(oracle)}`);
  try {
    switch (s.kind) {
      case 'seq': {
        const obj = j as Record<string, unknown>;
        if (obj[UNKNOWN] !== undefined) out.push(`${path}: lig did not recognise ${JSON.stringify(obj[UNKNOWN])}`);
        const ligNames = Object.keys(obj).filter((k) => k !== UNKNOWN);
        const xerNames = x.children.map((c) => c.name);
        if (ligNames.join() !== xerNames.join()) differ(ligNames, xerNames);
        for (const fl of s.fields) {
          const xc = x.children.find((c) => c.name === fl.name);
          if (obj[fl.name] !== undefined && xc) walk(fl.type, obj[fl.name], xc, `${path}.${fl.name}`, out);
        }
        return;
      }
      case 'choice': {
        const [name, v] = Object.entries(j as Record<string, unknown>)[0] ?? [];
        const alt = s.alts.find((a) => a.name === name);
        if (x.children.length !== 1 || x.children[0]!.name !== name || !alt) {
          differ(name, x.children.map((c) => c.name));
          return;
        }
        walk(alt.type, v, x.children[0]!, `${path}.${name}`, out);
        return;
      }
      case 'seqOf': {
        const items = j as unknown[];
        if (items.length !== x.children.length) differ(`${items.length} items`, `${x.children.length} items`);
        // X.693: items of a CHOICE, ENUMERATED or BOOLEAN type carry no wrapper element
        const bare = ['choice', 'enum', 'bool'].includes(resolve(s.of).kind);
        items.forEach((item, i) => {
          const xc = x.children[i];
          if (xc) walk(s.of, item, bare ? { name: 'item', children: [xc], text: '' } : xc, `${path}[${i}]`, out);
        });
        return;
      }
      case 'octets':
      case 'raw':
        if (xerHex(x) !== j) differ(j, xerHex(x));
        return;
      case 'int':
        if (x.text.trim() !== String(j)) differ(j, x.text);
        return;
      case 'enum':
        if (enumValue(x) !== j) differ(j, enumValue(x));
        return;
      case 'bool':
        if (enumValue(x) !== String(j)) differ(j, enumValue(x));
        return;
      case 'null':
        if (j !== null || x.children.length !== 0 || x.text !== '') differ(j, x.text || x.children.map((c) => c.name));
        return;
      case 'bits': {
        const b = j as { bytes: string; unusedBits: number };
        const all = [...Buffer.from(b.bytes, 'hex')].map((v) => v.toString(2).padStart(8, '0')).join('');
        const ligBits = all.slice(0, all.length - b.unusedBits);
        if (x.text.replace(/\s+/g, '') !== ligBits) differ(ligBits, x.text);
        return;
      }
      default: // character strings, GeneralizedTime, OBJECT IDENTIFIER, RELATIVE-OID: text as is
        if (x.text !== j) differ(j, x.text);
    }
  } catch (e) {
    out.push(`${path}: ${(e as Error).message}`);
  }
}
