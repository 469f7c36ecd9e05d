/**
 * lig's ASN.1 profile (asn1/LIG-*.asn) against the TypeScript schemas of src/etsi: a small
 * parser for the subset of ASN.1 the profile uses (SEQUENCE, CHOICE, SEQUENCE OF, ENUMERATED,
 * named BIT STRING, tags, OPTIONAL, extension markers, size and value constraints, OID value
 * assignments, UTCTime, an OBJECT IDENTIFIER constrained to one value), then a walk of both from
 * PS-PDU down that compares every component: name, tag,
 * optionality, type, constraints, enumeration values, extensibility. Every type of the profile
 * and every exported schema must be reached, so neither side can grow alone. The last tests
 * alter one side at a time and show that the comparison notices.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TagClass } from '../../src/ber/constants';
import { Schema, resolve } from '../../src/ber/schema';
import * as common from '../../src/etsi/common';
import * as email from '../../src/etsi/email';
import * as hi1 from '../../src/etsi/hi1';
import * as ipAccess from '../../src/etsi/ip-access';
import * as psPdu from '../../src/etsi/ps-pdu';

// --- a parser for the profile's ASN.1 subset ---------------------------------------------------

interface Range { min?: bigint; max?: bigint }
interface Tag { cls: number; num: number }
interface Comp { name: string; tag?: Tag; type: AType; optional: boolean }
type AType =
  | { k: 'seq' | 'choice'; comps: Comp[]; ext: boolean }
  | { k: 'seqOf'; of: AType; size?: Range }
  | { k: 'enum'; values: Record<string, number>; ext: boolean }
  | { k: 'int'; range?: Range }
  | { k: 'octets' | 'utf8' | 'ia5' | 'printable'; size?: Range }
  | { k: 'bits'; size?: Range; named?: Record<string, number> }
  | { k: 'gtime' | 'utime' | 'bool' | 'null' | 'roid' }
  /** `value`: the value reference of a single-value constraint, `OBJECT IDENTIFIER (hi1OperationId)`. */
  | { k: 'oid'; value?: string }
  | { k: 'ref'; name: string };

interface Module {
  name: string;
  tagging: string;
  types: Map<string, AType>;
  /** OBJECT IDENTIFIER / RELATIVE-OID value assignments, resolved to arcs. */
  values: Map<string, number[]>;
  /** Imported type name → module it comes from. */
  imports: Map<string, string>;
}

function tokenize(src: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < src.length) {
    if (/\s/.test(src[i]!)) { i++; continue; }
    if (src.startsWith('--', i)) { // a comment ends at the end of the line or at the next "--"
      const nl = src.indexOf('\n', i + 2);
      const dd = src.indexOf('--', i + 2);
      i = dd >= 0 && (nl < 0 || dd < nl) ? dd + 2 : nl < 0 ? src.length : nl;
      continue;
    }
    const m = /^(::=|\.\.\.|\.\.|[[\]{}(),;]|[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*|\d+)/.exec(src.slice(i, i + 200));
    if (!m) throw new Error(`ASN.1: unexpected ${JSON.stringify(src.slice(i, i + 20))}`);
    out.push(m[0]);
    i += m[0].length;
  }
  return out;
}

function parseModule(src: string): Module {
  const t = tokenize(src);
  let p = 0;
  const peek = (o = 0): string => t[p + o] ?? '<end>';
  const next = (): string => {
    if (p >= t.length) throw new Error('ASN.1: unexpected end of module');
    return t[p++]!;
  };
  const endOrComma = (): boolean => { // after an item of a list: true at its closing brace
    const s = next();
    if (s !== ',' && s !== '}') throw new Error(`ASN.1: expected , or } after an item, found ${s} (token ${p})`);
    return s === '}';
  };
  const eat = (want: string): void => {
    const got = next();
    if (got !== want) throw new Error(`ASN.1: expected ${want}, found ${got} (token ${p})`);
  };
  const num = (): number => {
    const s = next();
    if (!/^\d+$/.test(s)) throw new Error(`ASN.1: expected a number, found ${s}`);
    return Number(s);
  };
  const bound = (): bigint | undefined => {
    const s = next();
    if (s === 'MIN' || s === 'MAX') return undefined;
    if (!/^\d+$/.test(s)) throw new Error(`ASN.1: expected a bound, found ${s}`);
    return BigInt(s);
  };
  const range = (): Range => { // n | n..m, inside parentheses
    const min = bound();
    if (peek() !== '..') return { min, max: min };
    next();
    return { min, max: bound() };
  };
  const size = (): Range | undefined => { // optional (SIZE (range))
    if (peek() !== '(' || peek(1) !== 'SIZE') return undefined;
    eat('('); eat('SIZE'); eat('('); const r = range(); eat(')'); eat(')');
    return r;
  };
  const namedNumbers = (): { values: Record<string, number>; ext: boolean } => {
    const values: Record<string, number> = {};
    let ext = false;
    eat('{');
    for (;;) {
      if (peek() === '...') { next(); ext = true; } else { const n = next(); eat('('); values[n] = num(); eat(')'); }
      if (endOrComma()) return { values, ext };
    }
  };
  const components = (): { comps: Comp[]; ext: boolean } => {
    const comps: Comp[] = [];
    let ext = false;
    eat('{');
    if (peek() === '}') { next(); return { comps, ext }; }
    for (;;) {
      if (peek() === '...') { next(); ext = true; } else {
        const name = next();
        let tag: Tag | undefined;
        if (peek() === '[') {
          next();
          const cls = { UNIVERSAL: TagClass.Universal, APPLICATION: TagClass.Application, PRIVATE: TagClass.Private }[peek()];
          if (cls !== undefined) next();
          tag = { cls: cls ?? TagClass.Context, num: num() };
          eat(']');
        }
        const type = parseType();
        const optional = peek() === 'OPTIONAL' ? (next(), true) : false;
        comps.push({ name, tag, type, optional });
      }
      if (endOrComma()) return { comps, ext };
    }
  };
  const parseType = (): AType => {
    const w = next();
    switch (w) {
      case 'SEQUENCE': {
        if (peek() === '{') return { k: 'seq', ...components() };
        const sz = size();
        eat('OF');
        return { k: 'seqOf', of: parseType(), size: sz };
      }
      case 'CHOICE': return { k: 'choice', ...components() };
      case 'ENUMERATED': return { k: 'enum', ...namedNumbers() };
      case 'INTEGER': {
        if (peek() !== '(') return { k: 'int' };
        eat('('); const r = range(); eat(')');
        return { k: 'int', range: r };
      }
      case 'OCTET': eat('STRING'); return { k: 'octets', size: size() };
      case 'BIT': {
        eat('STRING');
        const named = peek() === '{' ? namedNumbers().values : undefined;
        return { k: 'bits', named, size: size() };
      }
      case 'UTF8String': return { k: 'utf8', size: size() };
      case 'IA5String': return { k: 'ia5', size: size() };
      case 'PrintableString': return { k: 'printable', size: size() };
      case 'GeneralizedTime': return { k: 'gtime' };
      case 'UTCTime': return { k: 'utime' };
      case 'BOOLEAN': return { k: 'bool' };
      case 'NULL': return { k: 'null' };
      case 'OBJECT': {
        eat('IDENTIFIER');
        if (peek() !== '(' || !/^[a-z]/.test(peek(1)) || peek(2) !== ')') return { k: 'oid' };
        eat('(');
        const value = next();
        eat(')');
        return { k: 'oid', value };
      }
      case 'RELATIVE-OID': return { k: 'roid' };
      default:
        if (!/^[A-Z]/.test(w)) throw new Error(`ASN.1: expected a type, found ${w}`);
        return { k: 'ref', name: w };
    }
  };

  const mod: Module = { name: next(), tagging: '', types: new Map(), values: new Map(), imports: new Map() };
  eat('DEFINITIONS');
  while (peek() !== '::=') mod.tagging += `${mod.tagging ? ' ' : ''}${next()}`;
  eat('::=');
  eat('BEGIN');
  if (peek() === 'IMPORTS') {
    next();
    let names: string[] = [];
    while (peek() !== ';') {
      const n = next();
      if (n === ',') continue;
      if (n === 'FROM') {
        const from = next();
        for (const s of names) mod.imports.set(s, from);
        names = [];
      } else names.push(n);
    }
    eat(';');
  }
  while (peek() !== 'END') {
    const name = next();
    if (/^[A-Z]/.test(name)) { // type assignment
      eat('::=');
      if (mod.types.has(name)) throw new Error(`ASN.1: ${name} is defined twice`);
      mod.types.set(name, parseType());
    } else { // OBJECT IDENTIFIER or RELATIVE-OID value assignment
      if (peek() === 'OBJECT') { next(); eat('IDENTIFIER'); } else eat('RELATIVE-OID');
      eat('::=');
      eat('{');
      const arcs: number[] = [];
      while (peek() !== '}') {
        const a = next();
        if (/^\d+$/.test(a)) arcs.push(Number(a));
        else if (peek() === '(') { next(); arcs.push(num()); eat(')'); } else {
          const ref = mod.values.get(a);
          if (!ref) throw new Error(`ASN.1: unknown value ${a}`);
          arcs.push(...ref);
        }
      }
      eat('}');
      mod.values.set(name, arcs);
    }
  }
  return mod;
}

// --- the comparison ----------------------------------------------------------------------------

class Walk {
  readonly diffs: string[] = [];
  /** `Module.Type` names of the profile reached. */
  readonly reached = new Set<string>();
  /** TypeScript schema objects reached. */
  readonly reachedTs = new Set<Schema>();
  /** Named bits of BIT STRING types reached, by ASN.1 type name. */
  readonly namedBits = new Map<string, Record<string, number>>();
  /** Single-value constraints of OBJECT IDENTIFIER components reached: `Module.Type.component` → value reference. */
  readonly oidValues = new Map<string, string>();
  private readonly done = new Map<string, Set<Schema>>();

  constructor(private readonly modules: Map<string, Module>) {}

  /** Compares the profile's type `name` of module `mod` with a TypeScript schema. */
  type(mod: string, name: string, s: Schema, at: string): void {
    const m = this.modules.get(mod)!;
    const from = m.types.has(name) ? mod : m.imports.get(name);
    if (from === undefined) return void this.diffs.push(`${at}: ${mod} has no type ${name}`);
    const r = resolve(s);
    this.reachedTs.add(r);
    if ((r.kind === 'seq' || r.kind === 'choice') && r.name !== name) this.diffs.push(`${at}: the ASN.1 type is ${name}, the schema's ${r.name}`);
    const def = this.modules.get(from)?.types.get(name);
    if (!def) {
      if (this.modules.has(from)) this.diffs.push(`${at}: ${from} does not define ${name}`);
      return; // imported from a module outside the profile (TS 102 232-5, HI1): its name is all there is to compare
    }
    const key = `${from}.${name}`;
    this.reached.add(key);
    const seen = this.done.get(key) ?? new Set<Schema>();
    if (seen.has(r)) return;
    seen.add(r);
    this.done.set(key, seen);
    if (def.k === 'bits' && def.named) this.namedBits.set(name, def.named);
    this.compare(from, def, r, `${at}<${name}>`);
  }

  private compare(mod: string, a: AType, s: Schema, at: string): void {
    const r = resolve(s);
    this.reachedTs.add(r);
    if (a.k === 'ref') return this.type(mod, a.name, r, at);
    const kind = { seq: 'seq', choice: 'choice', seqOf: 'seqOf', enum: 'enum', int: 'int', octets: 'octets', utf8: 'utf8', ia5: 'ia5', printable: 'printable', bits: 'bits', gtime: 'gtime', utime: 'ia5', bool: 'bool', null: 'null', oid: 'oid', roid: 'roid' }[a.k];
    if (r.kind !== kind) return void this.diffs.push(`${at}: ASN.1 ${a.k}, schema ${r.kind}`);
    const diff = (what: string, x: unknown, y: unknown): void => {
      if (JSON.stringify(x, big) !== JSON.stringify(y, big)) this.diffs.push(`${at}: ${what} ${JSON.stringify(x, big)} in ASN.1, ${JSON.stringify(y, big)} in the schema`);
    };
    const range = (x: Range | undefined, lo: unknown, hi: unknown): void => diff('range', [x?.min, x?.max], [lo, hi].map((v) => (v === undefined ? undefined : BigInt(v as number))));
    switch (a.k) {
      case 'seq':
      case 'choice': {
        const fields = r.kind === 'seq' ? r.fields : r.kind === 'choice' ? r.alts : [];
        diff('extensible', a.ext, (r as { ext?: boolean }).ext ?? false);
        diff('components', a.comps.map((c) => c.name), fields.map((f) => f.name));
        for (const c of a.comps) {
          const fl = fields.find((x) => x.name === c.name);
          if (!fl) continue;
          const here = `${at}.${c.name}`;
          if (c.type.k === 'oid' && c.type.value) this.oidValues.set(here, c.type.value);
          diff(`${c.name}: tag`, c.tag ? [c.tag.cls, c.tag.num] : null, fl.tag === undefined ? null : [fl.cls ?? TagClass.Context, fl.tag]);
          if (a.k === 'seq') diff(`${c.name}: OPTIONAL`, c.optional, fl.optional ?? false);
          this.compare(mod, c.type, fl.type, here);
        }
        return;
      }
      case 'seqOf': {
        const x = r as Extract<Schema, { kind: 'seqOf' }>;
        range(a.size, x.min, x.max);
        return this.compare(mod, a.of, x.of, `${at}[]`);
      }
      case 'enum': {
        const x = r as Extract<Schema, { kind: 'enum' }>;
        diff('extensible', a.ext, x.ext ?? false);
        diff('values', sortedEntries(a.values), sortedEntries(x.values));
        return;
      }
      case 'int': {
        const x = r as Extract<Schema, { kind: 'int' }>;
        return range(a.range, x.min, x.max);
      }
      case 'octets':
      case 'utf8':
      case 'ia5':
      case 'printable':
      case 'bits': {
        const x = r as { min?: number; max?: number };
        return range(a.size, x.min, x.max);
      }
      case 'utime': { // UTCTime: lig reads and writes it as an IA5String without constraints (see src/etsi/hi1.ts)
        const x = r as { min?: number; max?: number };
        return range(undefined, x.min, x.max);
      }
      default:
        return; // GeneralizedTime, BOOLEAN, NULL, OBJECT IDENTIFIER, RELATIVE-OID: the kind is all
    }
  }
}

const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}` : v);
const sortedEntries = (o: Readonly<Record<string, number>>): Array<[string, number]> => Object.entries(o).sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]));

// --- the tests ---------------------------------------------------------------------------------

const ASN1_DIR = path.resolve(__dirname, '..', '..', 'asn1');
const FILES = ['LIG-PS-PDU.asn', 'LIG-IPAccessPDU.asn', 'LIG-EmailPDU.asn', 'LIG-HI1NotificationOperations.asn', 'LIG-HI2Operations.asn'];
const readProfile = (): Map<string, string> => new Map(FILES.map((f) => [f, fs.readFileSync(path.join(ASN1_DIR, f), 'utf8')]));

function load(texts: Map<string, string>): Map<string, Module> {
  const mods = new Map<string, Module>();
  for (const src of texts.values()) {
    const m = parseModule(src);
    mods.set(m.name, m);
  }
  return mods;
}

/** Walks the whole profile from PS-PDU against PS_PDU; returns what differs and what was never reached. */
const SCHEMA_MODULES: ReadonlyArray<readonly [string, object]> = [
  ['common.ts', common], ['ps-pdu.ts', psPdu], ['ip-access.ts', ipAccess], ['email.ts', email], ['hi1.ts', hi1],
];

function check(mods: Map<string, Module>, schemaModules = SCHEMA_MODULES): { walk: Walk; problems: string[] } {
  const walk = new Walk(mods);
  walk.type('LIG-PS-PDU', 'PS-PDU', psPdu.PS_PDU, 'PS-PDU');
  const problems = [...walk.diffs];
  for (const m of mods.values()) {
    if (m.tagging !== 'IMPLICIT TAGS') problems.push(`${m.name} is ${m.tagging || 'EXPLICIT TAGS'}: lig's schemas assume IMPLICIT TAGS`);
    for (const t of m.types.keys()) if (!walk.reached.has(`${m.name}.${t}`)) problems.push(`${m.name}.${t} is in the profile but no schema has it`);
  }
  for (const [file, mod] of schemaModules) {
    for (const [k, v] of Object.entries(mod)) {
      if (isSchema(v) && !walk.reachedTs.has(resolve(v))) problems.push(`src/etsi/${file} exports ${k}, which the profile does not reach`);
    }
  }
  return { walk, problems };
}

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && typeof (v as { kind?: unknown }).kind === 'string';
}

const oidText = (arcs: number[] | undefined): string | undefined => arcs?.join('.');

describe('asn1/ profile against the schemas of src/etsi', () => {
  const mods = load(readProfile());

  it('parses the five modules of the profile', () => {
    assert.deepEqual([...mods.keys()].sort(), ['LIG-EmailPDU', 'LIG-HI1NotificationOperations', 'LIG-HI2Operations', 'LIG-IPAccessPDU', 'LIG-PS-PDU']);
    assert.ok(mods.get('LIG-IPAccessPDU')!.types.size >= 25);
  });

  it('every component agrees: names, tags, OPTIONAL, types, constraints, enumerations, extensibility', () => {
    const { problems, walk } = check(mods);
    assert.deepEqual(problems, []);
    assert.ok(walk.reached.size >= 70, `${walk.reached.size} profile types reached`);
  });

  it('ObjIds are RELATIVE-OIDs with the values lig writes, li-psDomainId the default version', () => {
    const ipa = mods.get('LIG-IPAccessPDU')!.values;
    const em = mods.get('LIG-EmailPDU')!.values;
    const ps = mods.get('LIG-PS-PDU')!.values;
    assert.deepEqual(
      { iPIRI: oidText(ipa.get('iPIRIObjId')), iPCC: oidText(ipa.get('iPCCObjId')), iPIRIOnly: oidText(ipa.get('iPIRIOnlyObjId')), iPIRIPacketReport: oidText(ipa.get('iPIRIPacketReportObjId')) },
      { ...ipAccess.IP_ACCESS_OBJIDS },
    );
    assert.deepEqual({ emailIRI: oidText(em.get('emailIRIObjId')), emailCC: oidText(em.get('emailCCObjId')) }, { ...email.EMAIL_OBJIDS });
    assert.equal(oidText(ps.get('lawfulInterceptDomainId')), common.LI_DOMAIN);
    assert.equal(oidText(ps.get('li-psDomainId')), common.liPsDomainId(psPdu.DEFAULT_DOMAIN_ID_VERSION));
    // every *ObjId component of the service modules is a RELATIVE-OID
    for (const m of [mods.get('LIG-IPAccessPDU')!, mods.get('LIG-EmailPDU')!]) {
      for (const [name, t] of m.types) {
        if (t.k !== 'seq') continue;
        for (const c of t.comps) if (/ObjId$/.test(c.name)) assert.equal(c.type.k, 'roid', `${m.name}.${name}.${c.name}`);
      }
    }
  });

  it('HI1: every domainID is constrained to hi1OperationId, which is HI1_OPERATION_ID', () => {
    const { walk } = check(mods);
    const domainIds = [...walk.oidValues].filter(([at]) => at.endsWith('.domainID'));
    // Notification (three alternatives share it), Alarm-Indicator, National-HI1-ASN1parameters
    assert.ok(domainIds.length >= 3, `${domainIds.length} domainID components reached`);
    for (const [at, value] of domainIds) assert.equal(value, 'hi1OperationId', at);
    assert.deepEqual([...new Set(walk.oidValues.values())], ['hi1OperationId']);
    assert.equal(oidText(mods.get('LIG-HI1NotificationOperations')!.values.get('hi1OperationId')), hi1.HI1_OPERATION_ID);
  });

  it("PacketReportIndications' named bits are PACKET_REPORT_INDICATIONS", () => {
    const { walk } = check(mods);
    assert.deepEqual(sortedEntries(walk.namedBits.get('PacketReportIndications') ?? {}), sortedEntries(ipAccess.PACKET_REPORT_INDICATIONS));
  });

  describe('notices drift on either side', () => {
    // one edit of the ASN.1 text each: the comparison must report it
    const textEdits: Array<[string, string, string, string]> = [
      ['a tag', 'LIG-IPAccessPDU.asn', 'pOPIPAddress            [19] IPAddress', 'pOPIPAddress            [27] IPAddress'],
      ['OPTIONAL dropped', 'LIG-PS-PDU.asn', 'iP-assignment       [3] ENUMERATED { static(1), dynamic(2), notKnown(3), ... } OPTIONAL', 'iP-assignment       [3] ENUMERATED { static(1), dynamic(2), notKnown(3), ... }'],
      ['a component renamed', 'LIG-EmailPDU.asn', 'server-Octets-Sent          [6] INTEGER', 'serverOctetsSent            [6] INTEGER'],
      ['an enumeration value', 'LIG-IPAccessPDU.asn', 'sessionExpired(13)', 'sessionExpired(14)'],
      ['an extension marker', 'LIG-PS-PDU.asn', 'wlanAPMACAddress    [0] OCTET STRING (SIZE (6)) OPTIONAL,   -- the access point\'s BSSID\n    ...', 'wlanAPMACAddress    [0] OCTET STRING (SIZE (6)) OPTIONAL'],
      ['a size constraint', 'LIG-PS-PDU.asn', 'LawfulInterceptionIdentifier ::= OCTET STRING (SIZE (1..25))', 'LawfulInterceptionIdentifier ::= OCTET STRING (SIZE (1..32))'],
      ['a range', 'LIG-PS-PDU.asn', 'microSeconds    [1] INTEGER (0..999999)', 'microSeconds    [1] INTEGER (0..1000000)'],
      ['a type', 'LIG-EmailPDU.asn', 'content         [2] OCTET STRING', 'content         [2] UTF8String'],
      ['a component added', 'LIG-IPAccessPDU.asn', 'framedRoutes            [26] SEQUENCE OF FramedRoute OPTIONAL', 'framedRoutes            [26] SEQUENCE OF FramedRoute OPTIONAL,\n    extra [27] NULL OPTIONAL'],
      ['a type lig lacks', 'LIG-EmailPDU.asn', '\nEND', '\nMessagingCC ::= SEQUENCE { event-identifier [1] INTEGER, ... }\nEND'],
      ['EXPLICIT TAGS', 'LIG-EmailPDU.asn', 'DEFINITIONS IMPLICIT TAGS', 'DEFINITIONS EXPLICIT TAGS'],
      ['an HI1-Operation tag', 'LIG-HI1NotificationOperations.asn', 'liModified                      [3] Notification', 'liModified                      [6] Notification'],
      ['a Notification size', 'LIG-HI1NotificationOperations.asn', 'target-Information              [6] OCTET STRING (SIZE (1..256))', 'target-Information              [6] OCTET STRING (SIZE (1..255))'],
      ['the HI2 operator-Identifier size', 'LIG-HI2Operations.asn', 'operator-Identifier         [0] OCTET STRING (SIZE (1..5))', 'operator-Identifier         [0] OCTET STRING (SIZE (1..16))'],
      ['a TimeStamp alternative', 'LIG-HI2Operations.asn', 'utcTime             [1] UTCTime', 'utcTime             [1] GeneralizedTime'],
      ['TimeStamp made extensible', 'LIG-HI2Operations.asn', 'utcTime             [1] UTCTime\n', 'utcTime             [1] UTCTime,\n    ...\n'],
    ];
    for (const [what, file, from, to] of textEdits) {
      it(`in the ASN.1: ${what}`, () => {
        const texts = readProfile();
        const src = texts.get(file)!;
        assert.ok(src.includes(from), `the edit's anchor is in ${file}`);
        texts.set(file, src.replace(from, to));
        assert.notDeepEqual(check(load(texts)).problems, [], 'the edit went unnoticed');
      });
    }

    // one change of a schema each, compared against its profile type
    const fieldsOf = (s: Schema) => (resolve(s) as Extract<Schema, { kind: 'seq' }>).fields;
    const ipAddr = resolve(common.IP_ADDRESS) as Extract<Schema, { kind: 'seq' }>;
    const schemaEdits: Array<[string, string, string, Schema]> = [
      ['a tag', 'LIG-PS-PDU', 'IPAddress', { ...ipAddr, fields: ipAddr.fields.map((f) => (f.name === 'iP-assignment' ? { ...f, tag: 9 } : f)) }],
      ['OPTIONAL', 'LIG-PS-PDU', 'IPAddress', { ...ipAddr, fields: ipAddr.fields.map((f) => (f.name === 'iP-type' ? { ...f, optional: true } : f)) }],
      ['a component dropped', 'LIG-PS-PDU', 'IPAddress', { ...ipAddr, fields: ipAddr.fields.filter((f) => f.name !== 'iP-NAT-translated') }],
      ['the order of components', 'LIG-PS-PDU', 'IPAddress', { ...ipAddr, fields: [...ipAddr.fields].reverse() }],
      ['extensibility', 'LIG-PS-PDU', 'IPAddress', { ...ipAddr, ext: false }],
      ['the type name', 'LIG-PS-PDU', 'IPAddress', { ...ipAddr, name: 'IPAddr' }],
      ['an enumeration', 'LIG-IPAccessPDU', 'IPIRIContents', {
        ...(resolve(ipAccess.IPIRI_CONTENTS) as Extract<Schema, { kind: 'seq' }>),
        fields: fieldsOf(ipAccess.IPIRI_CONTENTS).map((f) => (f.name === 'endReason' ? { ...f, type: { kind: 'enum', values: { ...ipAccess.END_REASON, idleTimeout: 5 }, ext: true } } : f)),
      }],
      ['a size', 'LIG-EmailPDU', 'EmailIRI', {
        ...(resolve(email.EMAIL_IRI) as Extract<Schema, { kind: 'seq' }>),
        fields: fieldsOf(email.EMAIL_IRI).map((f) => (f.name === 'e-mail-Sender' ? { ...f, type: { kind: 'utf8', min: 0, max: 256 } } : f)),
      }],
    ];
    for (const [what, mod, type, altered] of schemaEdits) {
      it(`in a schema: ${what}`, () => {
        const clean = new Walk(mods);
        clean.type(mod, type, mod === 'LIG-PS-PDU' ? common.IP_ADDRESS : mod === 'LIG-IPAccessPDU' ? ipAccess.IPIRI_CONTENTS : email.EMAIL_IRI, type);
        assert.deepEqual(clean.diffs, [], 'the unaltered schema agrees');
        const walk = new Walk(mods);
        walk.type(mod, type, altered, type);
        assert.notDeepEqual(walk.diffs, [], 'the change went unnoticed');
      });
    }

    it('in a schema module: an exported schema the profile does not have', () => {
      const stray: Schema = { kind: 'seq', name: 'MessagingCC', fields: [], ext: true };
      const { problems } = check(mods, [...SCHEMA_MODULES, ['messaging.ts', { MESSAGING_CC: stray }]]);
      assert.deepEqual(problems, ['src/etsi/messaging.ts exports MESSAGING_CC, which the profile does not reach']);
    });
  });
});
