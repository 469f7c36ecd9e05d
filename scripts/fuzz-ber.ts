/**
 * Time-boxed mutation fuzzer for src/ber (run by `npm run fuzz`, never by `npm test`).
 *
 *   npx tsx scripts/fuzz-ber.ts [--seconds 30] [--seed N] [--out DIR] [--replay FILE]
 *
 * Seeds are real nested PDUs built with the writer and the schema encoder (a TS 102 232-1
 * shaped PS-PDU with IPCC and IRI payloads, a deep recursive tree, high tags and long or
 * non-minimal lengths), plus OpenLI's recorded streams when ../shared/reference is present.
 * Each round mutates a seed (bit flips, byte insert/delete/overwrite, splices, length-field
 * and tag corruption, truncation, duplication) and feeds it to frameLength, readElement and
 * the schema decoder (re-encoding whatever decodes). Only a BerError may come out: anything
 * else is a finding (scripts/fuzz-driver.ts writes the input out and the run exits 1). The
 * same seed replays the same inputs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerError } from '../src/errors';
import { TagClass } from '../src/ber/constants';
import { decode } from '../src/ber/decode';
import { encode } from '../src/ber/encode';
import { Element, frameLength, readElement } from '../src/ber/reader';
import {
  bits, bool, choice, enumerated, f, gtime, ia5, int, lazy, nul, octets, oid, opt, printable, raw, roid, Schema, seq, seqOf, utf8,
} from '../src/ber/schema';
import { encodeIntegerContent, encodeOidContent, encodeTag, sequence, tlv } from '../src/ber/writer';
import {
  type FuzzScript, type Mutation, type Rng, Tally, deleteOctets, flipBits, fuzzMain, insertOctets, repeatSlice, setOctet, truncate,
} from './fuzz-driver';

// --- the generator (the run's, set by make) ---------------------------------------------------

let rng: Rng;
const rnd = (): number => rng.float();
const below = (n: number): number => rng.below(n);
const pick = <T>(xs: readonly T[]): T => rng.pick(xs);

// --- schemas and seeds -----------------------------------------------------------------------

const NetworkIdentifier = seq('NetworkIdentifier', [f('operatorIdentifier', 0, octets(1, 16)), opt('networkElementIdentifier', 1, octets(1, 16))], true);
const PSHeader = seq('PSHeader', [
  f('li-psDomainId', 0, oid),
  f('lawfulInterceptionIdentifier', 1, octets(1, 25)),
  opt('authorizationCountryCode', 2, printable(2, 2)),
  f('communicationIdentifier', 3, seq('CommunicationIdentifier', [
    f('networkIdentifier', 0, NetworkIdentifier),
    opt('communicationIdentityNumber', 1, int(0, 4294967295)),
    opt('deliveryCountryCode', 2, printable(2, 2)),
  ], true)),
  f('sequenceNumber', 4, int(0, 4294967295)),
  opt('timeStamp', 5, gtime),
  opt('timeStampQualifier', 7, enumerated({ unknown: 0, timeOfInterception: 1, timeOfMediation: 2 }, true)),
], true);
const IPAddress = seq('IPAddress', [f('iP-type', 1, enumerated({ iPV4: 0, iPV6: 1 }, true)), f('iP-value', 2, choice('IP-value', [f('iPBinaryAddress', 1, octets(4, 16)), f('iPTextAddress', 2, ia5(7, 45))], true))], true);
const IPIRIContents = seq('IPIRIContents', [
  opt('accessEventType', 0, enumerated({ accessAttempt: 0, accessAccept: 1 }, true)),
  opt('targetUsername', 1, octets()),
  opt('internetAccessType', 2, enumerated({ undefined: 0, dialUp: 1 }, true)),
  opt('targetIPAddress', 4, IPAddress),
  opt('startTime', 14, gtime),
  opt('octetsReceived', 18, int(0, 2n ** 64n - 1n)),
  opt('octetsTransmitted', 19, int(0, 2n ** 64n - 1n)),
  opt('flags', 25, bits()),
  opt('present', 26, nul),
  opt('ok', 27, bool),
], true);
const Payload = choice('Payload', [
  f('iRIPayloadSequence', 0, seqOf(seq('IRIPayload', [opt('iRIType', 0, enumerated({ begin: 1, end: 2, continue: 3, report: 4 }, true)), opt('timeStamp', 1, gtime), f('iRIContents', 2, choice('IRIContents', [f('iPIRI', 5, seq('IPIRI', [f('iPIRIObjId', 0, roid), f('iPIRIContents', 1, IPIRIContents)]))], true))], true))),
  f('cCPayloadSequence', 1, seqOf(seq('CCPayload', [
    opt('payloadDirection', 0, enumerated({ fromTarget: 0, toTarget: 1 }, true)),
    opt('timeStamp', 1, gtime),
    f('cCContents', 2, choice('CCContents', [f('iPCC', 5, seq('IPCC', [f('iPCCObjId', 0, roid), f('iPCCContents', 1, choice('IPCCContents', [f('iPPackets', 0, octets())], true))]))], true)),
  ], true))),
  f('hI1-Operation', 3, raw),
], true);
const PSPDU = seq('PS-PDU', [f('pSHeader', 1, PSHeader), f('payload', 2, Payload)]);
const Tree: Schema = seq('Tree', [f('label', 0, utf8()), opt('kids', 1, seqOf(lazy(() => Tree)))]);
const schemas: Schema[] = [PSPDU, Tree];

function header(seqNo: number | bigint) {
  return {
    'li-psDomainId': '0.4.0.2.2.5.1.40',
    lawfulInterceptionIdentifier: Buffer.from('FUZZ-LIID'),
    authorizationCountryCode: 'DE',
    communicationIdentifier: { networkIdentifier: { operatorIdentifier: Buffer.from('op'), networkElementIdentifier: Buffer.from('ne') }, communicationIdentityNumber: 7, deliveryCountryCode: 'DE' },
    sequenceNumber: seqNo,
    timeStamp: '20240102030405.123456Z',
    timeStampQualifier: 'timeOfInterception',
  };
}
const ipPacket = Buffer.from('4500001c000100004001f98cc0a80001c0a800020800f7ff00000000', 'hex');

function tree(depth: number): unknown {
  return depth === 0 ? { label: 'leaf' } : { label: `n${depth}`, kids: [tree(depth - 1), { label: 'ü' }] };
}

/** Rewrites every length in `buf` in the 3-octet long form (0x82 hi lo), as some peers do. */
function nonMinimal(el: Element, buf: Uint8Array): Buffer {
  const idLen = firstLengthOctet(el, buf) - el.start;
  const body = el.constructed ? Buffer.concat(el.children.map((c) => nonMinimal(c, buf))) : Buffer.from(el.content);
  return Buffer.concat([Buffer.from(buf.subarray(el.start, el.start + idLen)), Buffer.from([0x82, body.length >> 8, body.length & 0xff]), body]);
}

function firstLengthOctet(el: Element, buf: Uint8Array): number {
  let at = el.start + 1;
  if ((buf[el.start]! & 0x1f) === 0x1f) while (buf[at++]! & 0x80);
  return at;
}

function buildSeeds(): Buffer[] {
  const cc = encode(PSPDU, {
    pSHeader: header(2 ** 32 - 1),
    payload: { cCPayloadSequence: [
      { payloadDirection: 'toTarget', timeStamp: '20240102030405Z', cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPPackets: ipPacket } } } },
      { cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPPackets: Buffer.alloc(300, 0x61) } } } },
    ] },
  });
  const iri = encode(PSPDU, {
    pSHeader: header(1),
    payload: { iRIPayloadSequence: [{ iRIType: 'begin', timeStamp: '20240102030405Z', iRIContents: { iPIRI: { iPIRIObjId: '5.3.20.2', iPIRIContents: {
      accessEventType: 'accessAccept', targetUsername: Buffer.from('user@example'), internetAccessType: 'dialUp',
      targetIPAddress: { 'iP-type': 'iPV4', 'iP-value': { iPBinaryAddress: Buffer.from([192, 0, 2, 7]) } },
      startTime: '20240102030405Z', octetsReceived: 2n ** 64n - 1n, octetsTransmitted: 0, flags: { bytes: Buffer.from([0xa0]), unusedBits: 5 }, present: null, ok: true,
    } } } }] },
  });
  const hi1 = encode(PSPDU, { pSHeader: header(2), payload: { 'hI1-Operation': sequence(tlv(encodeTag(TagClass.Context, false, 0), encodeIntegerContent(-129))) } });
  const deep = encode(Tree, tree(20));
  // hand-built with the writer: every tag class, high tags, long lengths
  const odd = sequence(
    tlv(encodeTag(TagClass.Context, true, 16384), tlv(encodeTag(TagClass.Application, false, 31), Buffer.alloc(200, 1))),
    tlv(encodeTag(TagClass.Private, true, 127), tlv(encodeTag(TagClass.Universal, false, 6), encodeOidContent('2.999.3'))),
    tlv(encodeTag(TagClass.Context, false, 30), Buffer.alloc(0)),
  );
  const seeds = [cc, iri, hi1, deep, odd];
  seeds.push(...seeds.slice(0, 3).map((s) => nonMinimal(readElement(s), s)));
  const samples = path.resolve(__dirname, '../../shared/reference/samples');
  for (const name of ['libtrace-etsi_10_pings_HI2.raw_tcp', 'libtrace-etsi_10_pings_HI3.raw_tcp']) {
    const file = path.join(samples, name);
    if (!fs.existsSync(file)) continue;
    const data = fs.readFileSync(file);
    for (let at = 0, n = 0; at < data.length && n < 6; n++) {
      const len = frameLength(data, at)!;
      seeds.push(Buffer.from(data.subarray(at, at + len)));
      at += len;
    }
  }
  return seeds;
}

// --- mutations -------------------------------------------------------------------------------

const INTERESTING = [0x00, 0x01, 0x1f, 0x20, 0x30, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x89, 0xfe, 0xff];

function headers(buf: Uint8Array): Element[] {
  try {
    const all: Element[] = [];
    const walk = (e: Element) => { all.push(e); e.children.forEach(walk); };
    walk(readElement(buf));
    return all;
  } catch {
    return [];
  }
}

const mutators: Record<string, Mutation> = {
  bitflip: flipBits(),
  set: setOctet(INTERESTING, 0.5),
  insert: insertOctets(1, INTERESTING, 0.5),
  delete: deleteOctets(4),
  splice: (b, _rng, seeds) => {
    const other = pick(seeds);
    const from = below(other.length);
    const at = below(b.length + 1);
    return Buffer.concat([b.subarray(0, at), other.subarray(from, from + 1 + below(64)), b.subarray(at + below(16))]);
  },
  length: (b) => {
    const els = headers(b);
    if (!els.length) return b;
    const el = pick(els);
    const at = firstLengthOctet(el, b);
    const len = el.end - el.contentStart;
    const choices: number[][] = [
      [len + 1], [Math.max(0, len - 1)], [0], [0x80], [0xff], [0x84, 0xff, 0xff, 0xff, 0xff], [0x86, 1, 0, 0, 0, 0, 0],
      [0x89, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x82, len >> 8, len & 0xff], [0x81], [below(256)],
    ];
    const repl = Buffer.from(pick(choices).map((x) => x & 0xff));
    return Buffer.concat([b.subarray(0, at), repl, b.subarray(el.contentStart)]);
  },
  tag: (b) => {
    const els = headers(b);
    if (!els.length) return b;
    const el = pick(els);
    const id = Buffer.concat([Buffer.from([(b[el.start]! & 0xe0) | 0x1f]), Buffer.alloc(below(12), 0x81), Buffer.from([below(128)])]);
    return Buffer.concat([b.subarray(0, el.start), rnd() < 0.5 ? id : Buffer.from([below(256)]), b.subarray(firstLengthOctet(el, b))]);
  },
  truncate,
  duplicate: repeatSlice(32),
};
const mutatorNames = Object.keys(mutators);

/** A mutable element tree; serialised again with correct lengths, so input gets past framing. */
interface Node { id: Buffer; content: Buffer; children: Node[] | undefined }

function toNode(el: Element, buf: Uint8Array): Node {
  const id = Buffer.from(buf.subarray(el.start, firstLengthOctet(el, buf)));
  return { id, content: Buffer.from(el.content), children: el.constructed ? el.children.map((c) => toNode(c, buf)) : undefined };
}

function serialise(n: Node): Buffer {
  return n.children ? tlv(n.id, ...n.children.map(serialise)) : tlv(n.id, n.content);
}

function nodes(n: Node, out: Node[] = []): Node[] {
  out.push(n);
  n.children?.forEach((c) => nodes(c, out));
  return out;
}

let donorCache: Node[] | undefined;
/** Every element of every seed, to graft elsewhere. */
function donors(seeds: Buffer[]): Node[] {
  return (donorCache ??= seeds.flatMap((s) => nodes(toNode(readElement(s), s))));
}

const structural: Record<string, (root: Node, seeds: Buffer[]) => void> = {
  leaf: (root, seeds) => {
    const leaves = nodes(root).filter((n) => !n.children);
    if (!leaves.length) return;
    const leaf = pick(leaves);
    leaf.content = mutators[pick(['bitflip', 'set', 'insert', 'delete', 'truncate', 'duplicate'])]!(Buffer.from(leaf.content), rng, seeds);
  },
  drop: (root) => {
    const parent = pick(nodes(root).filter((n) => n.children?.length));
    parent?.children!.splice(below(parent.children!.length), 1);
  },
  repeat: (root) => {
    const parent = pick(nodes(root).filter((n) => n.children?.length));
    if (parent) parent.children!.splice(below(parent.children!.length), 0, pick(parent.children!));
  },
  swap: (root) => {
    const parent = pick(nodes(root).filter((n) => (n.children?.length ?? 0) > 1));
    if (!parent) return;
    const k = parent.children!;
    const i = below(k.length);
    const j = below(k.length);
    [k[i], k[j]] = [k[j]!, k[i]!];
  },
  retag: (root) => {
    const n = pick(nodes(root));
    n.id = encodeTag(pick([0, 1, 2, 3] as const), rnd() < 0.5 ? n.children !== undefined : rnd() < 0.5, rnd() < 0.8 ? below(31) : below(20000));
    if (n.id[0]! & 0x20 && !n.children) n.children = [];
    if (!(n.id[0]! & 0x20) && n.children) n.content = Buffer.concat(n.children.map(serialise));
    if (!(n.id[0]! & 0x20)) n.children = undefined;
  },
  graft: (root, seeds) => {
    const parent = pick(nodes(root).filter((n) => n.children));
    const donor = pick(donors(seeds));
    if (parent) parent.children!.splice(below(parent.children!.length + 1), 0, structuredClone(donor));
  },
};
const structuralNames = Object.keys(structural);

// --- the run ---------------------------------------------------------------------------------

/** Outcomes per entry point: 'ok' or the BerError's code. */
const counts = new Map<string, Tally>();
const used = new Tally();
let slowest = { ms: 0, hex: '' };

/** Runs one entry point; returns its result, or undefined after counting a typed error. Anything else is a finding. */
function attempt<T>(where: string, fn: () => T): T | undefined {
  const tally = counts.get(where) ?? counts.set(where, new Tally()).get(where)!;
  try {
    const r = fn();
    tally.add('ok');
    return r;
  } catch (e) {
    if (e instanceof BerError && e.code) {
      tally.add(e.code);
      return undefined;
    }
    throw new Error(`untyped error from ${where}: ${e instanceof Error ? e.stack : String(e)}`);
  }
}

/** A seed, mutated as a tree (written back with lengths that fit) and/or as bytes. */
function next(seeds: Buffer[]): Buffer {
  let input: Buffer = Buffer.from(pick(seeds));
  if (rnd() < 0.5) {
    const root = toNode(readElement(input), input);
    for (let k = 1 + below(4); k > 0; k--) {
      const name = pick(structuralNames);
      used.add(name);
      structural[name]!(root, seeds);
    }
    input = serialise(root);
  }
  if (rnd() < 0.6) {
    for (let k = 1 + below(3); k > 0; k--) {
      const name = pick(mutatorNames);
      used.add(name);
      input = Buffer.from(mutators[name]!(input, rng, seeds));
    }
  }
  return input;
}

function check(bytes: Uint8Array): undefined {
  const input = Buffer.from(bytes);
  const t0 = performance.now();
  attempt('frameLength', () => frameLength(input));
  attempt('readElement', () => readElement(input));
  for (const schema of schemas) {
    const name = (schema as { name?: string }).name;
    const v = attempt(`decode ${name}`, () => decode(schema, input));
    if (v !== undefined) attempt(`re-encode ${name}`, () => encode(schema, v));
  }
  const ms = performance.now() - t0;
  if (ms > slowest.ms) slowest = { ms, hex: input.length > 64 ? `${input.subarray(0, 64).toString('hex')}… (${input.length} bytes)` : input.toString('hex') };
  return undefined;
}

export const berFuzz: FuzzScript = {
  script: __filename,
  make: (r) => {
    rng = r;
    const seeds = buildSeeds();
    for (const s of seeds) readElement(s); // every seed is valid BER to start with
    return [{
      name: 'ber',
      seeds,
      next: () => next(seeds),
      check,
      report: () => [
        `mutations: ${used}`,
        ...[...counts].map(([where, t]) => `${where.padEnd(20)} ${t.toString((k) => k.replace('LIG_ERR_BER_', ''))}`),
        `slowest input: ${slowest.ms.toFixed(1)} ms: ${slowest.hex}`,
        'no untyped errors',
      ],
    }];
  },
};

if (require.main === module) fuzzMain(berFuzz);
