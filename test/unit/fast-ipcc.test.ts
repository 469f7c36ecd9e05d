/**
 * IpccTemplate (the IPCC hot path) against the general encoder `ipccPdu`: byte-identical
 * output over every boundary where a length, an INTEGER or the GeneralizedTime text changes
 * size, over every optional header component, and over a seeded random sample; the same
 * error codes for out-of-range inputs. The expected bytes always come from the general
 * encoder, never from the code under test.
 */
import { strict as assert } from 'node:assert';
import { RecordContext, Stamp, ipccPdu } from '../../src/etsi/build';
import { IpccTemplate, MAX_IPCC_PACKET_BYTES } from '../../src/etsi/fast-ipcc';
import { PAYLOAD_DIRECTION, PayloadDirection } from '../../src/etsi/ps-pdu';
import { decodePsPdu } from '../../src/etsi/stream';
import { BerError, EtsiLimitError, LigError } from '../../src/errors';

const DIRECTIONS = Object.keys(PAYLOAD_DIRECTION) as PayloadDirection[];
const FORMATS = ['microsecond', 'generalized'] as const;
const OPTIONAL = ['authorizationCountryCode', 'networkElementId', 'deliveryCountryCode', 'interceptionPointId', 'timeStampQualifier'] as const;
const OPTIONAL_VALUES = { authorizationCountryCode: 'DE', networkElementId: 'bng-17.fra.lab1', deliveryCountryCode: 'FR', interceptionPointId: 'IP-0042', timeStampQualifier: 'timeOfInterception' } as const;

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const PACKET_LENGTHS = [0, 1, ...range(100, 130), ...range(200, 260), ...range(65400, 65600), 70000];
const SEQS = [0, 127, 128, 255, 256, 32767, 32768, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
const MICROS = [0, 1, 10, 999999, 500000, 120000];
/** Seconds valid in both formats (GeneralizedTime ends with 9999-12-31T23:59:59Z). */
const SECONDS = [0, 1, 127, 128, 32767, 32768, 2 ** 23, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 951_782_400 /* 2000-02-29 */, 4_107_542_400 /* 2100-03-01 */, 253_402_300_799];
/** Seconds only MicroSecondTimeStamp can carry: INTEGER sizes 5, 6, 7 and the largest. */
const MICRO_ONLY_SECONDS = [2 ** 39 - 1, 2 ** 39, 2 ** 47 - 1, 2 ** 47, Number.MAX_SAFE_INTEGER];
/** Seconds only GeneralizedTime can carry: before 1970, back to year 0. */
const GT_ONLY_SECONDS = [-1, -86_400, -2_208_988_800 /* 1900-01-01 */, -62_167_219_200 /* 0000-01-01 */];

function context(liidLength: number, format: 'microsecond' | 'generalized', optional: readonly (typeof OPTIONAL)[number][]): RecordContext {
  const ctx: RecordContext = { liid: 'L'.repeat(liidLength - 1) + 'x', operatorId: 'operator-one-fra', cin: 314159, timestampFormat: format };
  for (const k of optional) (ctx as unknown as Record<string, unknown>)[k] = OPTIONAL_VALUES[k];
  return ctx;
}

/** Every subset of the optional header components. */
const SUBSETS = range(0, 2 ** OPTIONAL.length - 1).map((mask) => OPTIONAL.filter((_, i) => mask & (1 << i)));

/** Patterned bytes; packets are views into them at varying offsets, as capture buffers are. */
const POOL = Buffer.from(Array.from({ length: MAX_IPCC_PACKET_BYTES + 256 }, (_, i) => (i * 31 + (i >> 8)) & 0xff));
function packet(n: number, salt = 0): Buffer {
  return POOL.subarray(salt & 0xff, (salt & 0xff) + n);
}

/** Fast and general paths agree on this input, through both `encode` and `encodeInto`. */
function agree(t: IpccTemplate, ctx: RecordContext, seq: number, stamp: Stamp, p: Uint8Array, dir: PayloadDirection): Buffer {
  const expected = ipccPdu(ctx, seq, stamp, p, dir);
  const got = t.encode(seq, stamp, p, dir);
  if (!got.equals(expected)) {
    assert.fail(`differs for seq ${seq}, stamp ${stamp.seconds}.${stamp.micros}, ${p.length} bytes, ${dir}, ${JSON.stringify(ctx)}:\n` +
      `fast    ${got.subarray(0, 120).toString('hex')}\ngeneral ${expected.subarray(0, 120).toString('hex')}`);
  }
  assert.equal(t.sizeOf(seq, stamp, p.length), expected.length);
  return expected;
}

/** Both paths reject the input with the same error code. */
function bothReject(ctx: RecordContext, seq: number, stamp: Stamp, p: Uint8Array, dir: PayloadDirection): void {
  const t = new IpccTemplate(ctx);
  let code: string | undefined;
  assert.throws(() => ipccPdu(ctx, seq, stamp, p, dir), (e: unknown) => e instanceof LigError && (code = e.code) !== undefined);
  const sameCode = (e: unknown) => e instanceof LigError && e.code === code;
  assert.throws(() => t.encode(seq, stamp, p, dir), sameCode);
  const target = Buffer.alloc(200_000, 0xee);
  assert.throws(() => t.encodeInto(target, 3, seq, stamp, p, dir), sameCode);
  assert.ok(target.every((x) => x === 0xee), 'a rejected encodeInto writes nothing');
  if (typeof dir === 'string' && Object.hasOwn(PAYLOAD_DIRECTION, dir)) assert.throws(() => t.sizeOf(seq, stamp, p.length), sameCode); // sizeOf takes no direction
}

/** A small seeded PRNG (mulberry32), so a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('IpccTemplate (fast IPCC) is byte-identical to ipccPdu', () => {
  it('for every packet length at the length-octet boundaries, in both formats, LIIDs of 1 and 25 octets', () => {
    for (const format of FORMATS) {
      for (const liidLength of [1, 25]) {
        for (const optional of [[], OPTIONAL]) {
          const ctx = context(liidLength, format, optional);
          const t = new IpccTemplate(ctx);
          for (const n of PACKET_LENGTHS) agree(t, ctx, 1000 + n, { seconds: 1_700_000_000 + n, micros: n % 1_000_000 }, packet(n, n), DIRECTIONS[n % DIRECTIONS.length]!);
        }
      }
    }
  });

  it('for every sequence number, second and microsecond boundary, and every direction', () => {
    for (const format of FORMATS) {
      const seconds = [...SECONDS, ...(format === 'microsecond' ? MICRO_ONLY_SECONDS : GT_ONLY_SECONDS)];
      for (const optional of [[], OPTIONAL]) {
        const ctx = context(25, format, optional);
        const t = new IpccTemplate(ctx);
        const p = packet(60);
        for (const seq of SEQS) for (const s of seconds) for (const micros of MICROS) for (const dir of DIRECTIONS) agree(t, ctx, seq, { seconds: s, micros }, p, dir);
      }
    }
  });

  it('with every combination of the optional header components', () => {
    let longHeader = 0;
    let shortHeader = 0;
    for (const format of FORMATS) {
      for (const liidLength of [1, 25]) {
        for (const optional of SUBSETS) {
          const ctx = context(liidLength, format, optional);
          const t = new IpccTemplate(ctx);
          for (const [seq, stamp, n] of [[0, { seconds: 0, micros: 0 }, 0], [2 ** 32 - 1, { seconds: 2 ** 32, micros: 999999 }, 129], [128, { seconds: 2 ** 31, micros: 1 }, 65535]] as const) {
            const pdu = agree(t, ctx, seq, stamp, packet(n), 'toTarget');
            const headerLengthOctet = pdu[1]! < 0x80 ? pdu[3]! : pdu[2 + (pdu[1]! & 0x7f) + 1]!;
            if (headerLengthOctet >= 0x80) longHeader++;
            else shortHeader++;
          }
        }
      }
    }
    // the cases must reach a PSHeader of 128+ octets (long-form length) as well as short ones
    assert.ok(longHeader > 0 && shortHeader > 0, `header lengths: ${shortHeader} short, ${longHeader} long`);
  });

  it('with other domain versions, CINs and identifiers', () => {
    for (const [domainIdVersion, cin, operatorId, networkElementId] of [[1, 0, 'o', 'n'], [127, 2 ** 32 - 1, 'o'.repeat(16), 'n'.repeat(16)], [128, 128, 'op', undefined], [40, 2 ** 31, 'x'.repeat(15), 'y']] as const) {
      for (const format of FORMATS) {
        const ctx: RecordContext = { liid: 'AB', operatorId, cin, domainIdVersion, timestampFormat: format, ...(networkElementId ? { networkElementId } : {}) };
        agree(new IpccTemplate(ctx), ctx, 5, { seconds: 1_600_000_000, micros: 250 }, packet(300), 'combined');
      }
    }
    const noFormat: RecordContext = { liid: 'AB', operatorId: 'op', cin: 1 }; // microsecond by default
    agree(new IpccTemplate(noFormat), noFormat, 9, { seconds: 12, micros: 34 }, packet(10), 'fromTarget');
  });

  it('for a packet of exactly MAX_IPCC_PACKET_BYTES', () => {
    const ctx = context(25, 'generalized', OPTIONAL);
    agree(new IpccTemplate(ctx), ctx, 1, { seconds: 1, micros: 1 }, packet(MAX_IPCC_PACKET_BYTES), 'fromTarget');
  });

  it('on a seeded random sample of 3000 cases (one template many times, changing seconds)', () => {
    const seed = 0x1f2e3d4c;
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const text = (n: number) => Array.from({ length: n }, () => String.fromCharCode(int(0x41, 0x5a))).join('');
    let cases = 0;
    while (cases < 3000) {
      const format = pick(FORMATS);
      const ctx: RecordContext = { liid: text(int(1, 25)), operatorId: text(int(1, 16)), cin: pick([0, int(0, 2 ** 32 - 1), int(0, 200)]), timestampFormat: format };
      for (const k of OPTIONAL) if (r() < 0.5) (ctx as unknown as Record<string, unknown>)[k] = OPTIONAL_VALUES[k];
      if (r() < 0.5) ctx.networkElementId = text(int(1, 16));
      if (r() < 0.2) ctx.domainIdVersion = int(1, 300);
      const t = new IpccTemplate(ctx);
      let seconds = format === 'generalized' ? int(-62_167_219_200, 253_402_300_799) : pick([int(0, 2 ** 32), int(0, Number.MAX_SAFE_INTEGER)]);
      for (let k = 0; k < 20; k++, cases++) {
        if (r() < 0.3) seconds += int(0, 2); // often the same second again, sometimes the next
        const seq = pick([int(0, 300), int(0, 2 ** 32 - 1), pick(SEQS)]);
        const micros = pick([int(0, 999_999), int(0, 9) * 100_000, 0, 999_999]);
        const n = r() < 0.9 ? int(0, 1600) : int(0, 70_000);
        const p = packet(n, k);
        try {
          agree(t, ctx, seq, { seconds, micros }, p, pick(DIRECTIONS));
        } catch (e) {
          throw new Error(`seeded case ${cases} (seed ${seed}): ${(e as Error).message}`);
        }
      }
    }
  });

  it('with one template over many shapes in turn (every staged prefix reused and replaced)', () => {
    const r = rng(0x5eed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const lengths = [0, 1, 60, 127, 128, 129, 200, 255, 256, 576, 1500, 65535, 65536];
    for (const format of FORMATS) {
      const ctx = context(25, format, OPTIONAL);
      const t = new IpccTemplate(ctx);
      for (let k = 0; k < 1500; k++) {
        const seconds = pick([1_700_000_000, 1_700_000_001, 2 ** 32]);
        agree(t, ctx, pick(SEQS), { seconds, micros: pick(MICROS) }, packet(pick(lengths), k), pick(DIRECTIONS));
      }
    }
  });

  it('decodes back to what went in', () => {
    const ctx = context(7, 'microsecond', ['timeStampQualifier']);
    const p = packet(1000, 9);
    const pdu = decodePsPdu(new IpccTemplate(ctx).encode(2 ** 32 - 1, { seconds: 1_700_000_123, micros: 456 }, p, 'toTarget'));
    assert.equal(pdu.pSHeader.sequenceNumber, 2 ** 32 - 1);
    assert.deepEqual(pdu.pSHeader.microSecondTimeStamp, { seconds: 1_700_000_123, microSeconds: 456 });
    const cc = (pdu.payload as { cCPayloadSequence: { payloadDirection: string; cCContents: { iPCC: { iPCCContents: { iPPackets: Uint8Array } } } }[] }).cCPayloadSequence[0]!;
    assert.equal(cc.payloadDirection, 'toTarget');
    assert.ok(Buffer.from(cc.cCContents.iPCC.iPCCContents.iPPackets).equals(p));
  });
});

describe('IpccTemplate.encodeInto', () => {
  it('writes a batch back to back into one buffer, each PDU as the general encoder would', () => {
    const ctx = context(12, 'generalized', ['interceptionPointId']);
    const t = new IpccTemplate(ctx);
    const inputs = range(0, 40).map((i) => ({ seq: 126 + i, stamp: { seconds: 1_700_000_000 + (i >> 3), micros: i * 24_999 }, p: packet(i * 37, i), dir: DIRECTIONS[i % 5]! }));
    const total = inputs.reduce((n, x) => n + t.sizeOf(x.seq, x.stamp, x.p.length), 0);
    const buf = Buffer.alloc(total + 10, 0xee);
    let at = 5;
    for (const x of inputs) at += t.encodeInto(buf, at, x.seq, x.stamp, x.p, x.dir);
    assert.equal(at, 5 + total);
    const expected = Buffer.concat(inputs.map((x) => ipccPdu(ctx, x.seq, x.stamp, x.p, x.dir)));
    assert.ok(buf.subarray(5, 5 + total).equals(expected));
    assert.ok(buf.subarray(0, 5).every((x) => x === 0xee) && buf.subarray(5 + total).every((x) => x === 0xee), 'nothing written outside');
  });

  it('refuses a target without room, writing nothing', () => {
    const ctx = context(3, 'microsecond', []);
    const t = new IpccTemplate(ctx);
    const stamp = { seconds: 10, micros: 20 };
    const size = t.sizeOf(1, stamp, 100);
    for (const [len, offset] of [[size - 1, 0], [size, 1], [size + 5, 6], [size, -1], [size, 0.5]] as const) {
      const buf = Buffer.alloc(len, 0xee);
      assert.throws(() => t.encodeInto(buf, offset, 1, stamp, packet(100), 'fromTarget'), (e: unknown) => e instanceof LigError && e.code === 'LIG_ERR_ETSI_INVALID');
      assert.ok(buf.every((x) => x === 0xee));
    }
    const exact = Buffer.alloc(size + 2);
    assert.equal(t.encodeInto(exact, 2, 1, stamp, packet(100), 'fromTarget'), size);
  });
});

describe('IpccTemplate errors', () => {
  const p = packet(20);
  it('rejects out-of-range sequence numbers as the general encoder does', () => {
    for (const format of FORMATS) {
      for (const seq of [-1, 2 ** 32, 1.5, NaN, Infinity]) bothReject(context(4, format, []), seq, { seconds: 1, micros: 1 }, p, 'toTarget');
    }
  });

  it('rejects out-of-range time stamps as the general encoder does', () => {
    for (const s of [-1, 2 ** 53, 1.5, NaN]) bothReject(context(4, 'microsecond', []), 1, { seconds: s, micros: 1 }, p, 'toTarget');
    for (const s of [253_402_300_800, -62_167_219_201, NaN, Infinity]) bothReject(context(4, 'generalized', []), 1, { seconds: s, micros: 1 }, p, 'toTarget');
    for (const format of FORMATS) {
      for (const micros of [-1, 1_000_000, 0.5, NaN]) bothReject(context(4, format, []), 1, { seconds: 1, micros }, p, 'toTarget');
    }
  });

  it('rejects an unknown direction as the general encoder does', () => {
    for (const format of FORMATS) {
      for (const dir of ['sideways', 'toString', '__proto__', '', 'FROMTARGET']) bothReject(context(4, format, []), 1, { seconds: 1, micros: 1 }, p, dir as PayloadDirection);
    }
    // the general path omits an absent (OPTIONAL) direction; the hot path always requires one
    const t = new IpccTemplate(context(4, 'microsecond', []));
    assert.throws(() => t.encode(1, { seconds: 1, micros: 1 }, p, undefined as unknown as PayloadDirection), (e: unknown) => e instanceof BerError && e.code === 'LIG_ERR_BER_RANGE');
  });

  it('rejects what is not a packet or not a stamp with a typed error', () => {
    const t = new IpccTemplate(context(4, 'microsecond', []));
    for (const bad of [null, undefined, 'abc', [1, 2, 3], 42]) {
      assert.throws(() => t.encode(1, { seconds: 1, micros: 1 }, bad as unknown as Uint8Array, 'toTarget'), (e: unknown) => e instanceof BerError && e.code === 'LIG_ERR_BER_RANGE');
      assert.throws(() => t.encode(1, bad as unknown as Stamp, p, 'toTarget'), (e: unknown) => e instanceof BerError && e.code === 'LIG_ERR_BER_RANGE');
    }
    assert.throws(() => t.sizeOf(1, { seconds: 1, micros: 1 }, -1), (e: unknown) => e instanceof LigError && e.code === 'LIG_ERR_ETSI_INVALID');
    // numbers only: a bigint would make the bit arithmetic throw an untyped TypeError
    const big = 5n as unknown as number;
    for (const call of [
      () => t.encode(big, { seconds: 1, micros: 1 }, p, 'toTarget'),
      () => t.encode(1, { seconds: big, micros: 1 }, p, 'toTarget'),
      () => t.encode(1, { seconds: 1, micros: big }, p, 'toTarget'),
      () => t.sizeOf(1, { seconds: 1, micros: 1 }, big),
      () => new IpccTemplate(context(4, 'generalized', [])).encode(1, { seconds: big, micros: 1 }, p, 'toTarget'),
    ]) assert.throws(call, (e: unknown) => e instanceof LigError);
  });

  it('limits the packet size with MAX_IPCC_PACKET_BYTES, or the limit given', () => {
    const t = new IpccTemplate(context(4, 'microsecond', []));
    assert.equal(t.maxPacketBytes, MAX_IPCC_PACKET_BYTES);
    const tooLarge = (limit: number) => (e: unknown) => e instanceof EtsiLimitError && e.code === 'LIG_ERR_ETSI_TOO_LARGE' && e.limit === limit;
    assert.throws(() => t.encode(1, { seconds: 1, micros: 1 }, packet(MAX_IPCC_PACKET_BYTES + 1), 'toTarget'), tooLarge(MAX_IPCC_PACKET_BYTES));
    assert.throws(() => t.sizeOf(1, { seconds: 1, micros: 1 }, MAX_IPCC_PACKET_BYTES + 1), tooLarge(MAX_IPCC_PACKET_BYTES));
    const small = new IpccTemplate(context(4, 'microsecond', []), { maxPacketBytes: 1500 });
    small.encode(1, { seconds: 1, micros: 1 }, packet(1500), 'toTarget');
    assert.throws(() => small.encode(1, { seconds: 1, micros: 1 }, packet(1501), 'toTarget'), tooLarge(1500));
    for (const bad of [-1, 1.5, 2 ** 31, NaN]) {
      assert.throws(() => new IpccTemplate(context(4, 'microsecond', []), { maxPacketBytes: bad }), (e: unknown) => e instanceof LigError && e.code === 'LIG_ERR_ETSI_INVALID');
    }
  });

  it('checks the context once, at construction, with the general encoder\'s errors', () => {
    const base = context(4, 'microsecond', []);
    const bad: RecordContext[] = [
      { ...base, cin: undefined },
      { ...base, liid: '' },
      { ...base, liid: 'x'.repeat(26) },
      { ...base, operatorId: 'o'.repeat(17) },
      { ...base, networkElementId: '' },
      { ...base, authorizationCountryCode: 'DEU' },
      { ...base, deliveryCountryCode: 'd*' },
      { ...base, interceptionPointId: 'nine-char' },
      { ...base, cin: 2 ** 32 },
      { ...base, timeStampQualifier: 'later' as RecordContext['timeStampQualifier'] },
    ];
    for (const ctx of bad) {
      let code: string | undefined;
      assert.throws(() => ipccPdu(ctx, 0, { seconds: 0, micros: 0 }, p, 'toTarget'), (e: unknown) => e instanceof LigError && (code = e.code) !== undefined);
      assert.throws(() => new IpccTemplate(ctx), (e: unknown) => e instanceof LigError && e.code === code, JSON.stringify(ctx));
    }
    // the general path silently drops the time stamp for an unknown format; the template refuses it
    assert.throws(() => new IpccTemplate({ ...base, timestampFormat: 'iso' as RecordContext['timestampFormat'] }), (e: unknown) => e instanceof LigError && e.code === 'LIG_ERR_ETSI_INVALID');
  });
});
