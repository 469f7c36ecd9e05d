/**
 * Codec benchmark: IPCC PS-PDUs per second for captured packets of 64, 576, 1000 and 1500
 * bytes and a simple IMIX mix (sizes alternate, as on a real link), through the general encoder (`ipccPdu`), the hot path (`IpccTemplate`, one fresh
 * buffer per PDU and a batch written into one buffer), and back through `decodePsPdu`.
 *
 * The baseline, measured in the same run, is the floor cost of any encoder: a copy of the
 * packet into a fresh buffer of the PDU's size. `x baseline` is each path's time per PDU
 * over the baseline's, so 1.0 would be as cheap as memcpy. Allocating a Buffer per PDU is
 * most of that floor, so a copy into one buffer per batch is measured too: the floor of
 * `encodeInto`.
 */
import { randomBytes } from 'node:crypto';
import { RecordContext, Stamp, ipccPdu } from '../src/etsi/build';
import { IpccTemplate } from '../src/etsi/fast-ipcc';
import { PayloadDirection } from '../src/etsi/ps-pdu';
import { decodePsPdu } from '../src/etsi/stream';
import { Rate, fixed, measure, measureOptions, table, whole } from './measure';

/** Packet sizes, one table each; 'imix' is simple IMIX: 40, 576 and 1500 bytes, 7:4:1, interleaved. */
const SIZES = [64, 576, 1000, 1500, 'imix'] as const;
const IMIX = [40, 576, 40, 40, 576, 40, 1500, 40, 576, 40, 40, 576];
/** Distinct packets per size, cycled through, so no run reuses one hot packet. */
const POOL = 64;
/** PDUs per buffer for the batch row. */
const BATCH = 64;

/** A typical communication: microsecond time stamps, every optional header component set. */
const CONTEXT: RecordContext = {
  liid: 'LIID-2024-000123',
  operatorId: 'lig-operator',
  networkElementId: 'probe-fra-1',
  authorizationCountryCode: 'DE',
  deliveryCountryCode: 'DE',
  cin: 1_234_567,
  interceptionPointId: 'IP01',
  timestampFormat: 'microsecond',
  timeStampQualifier: 'timeOfInterception',
};

interface Inputs {
  packets: Buffer[];
  stamps: Stamp[];
  directions: PayloadDirection[];
  /** The PDU's size for packet k (for the baseline and MB/s). */
  sizes: number[];
  pdus: Buffer[];
}

function inputs(size: number | 'imix', template: IpccTemplate): Inputs {
  const packets = Array.from({ length: POOL }, (_, k) => randomBytes(size === 'imix' ? IMIX[k % IMIX.length]! : size));
  // packets a few milliseconds apart (seeded, so every run sees the same times)
  const stamps: Stamp[] = [];
  let t = 1_700_000_000_000_000; // microseconds
  let r = 12_345;
  for (let k = 0; k < POOL; k++) {
    r = (r * 1_103_515_245 + 12_345) % 2_147_483_648;
    t += r % 40_000;
    stamps.push({ seconds: Math.floor(t / 1e6), micros: t % 1e6 });
  }
  const directions = Array.from({ length: POOL }, (_, k): PayloadDirection => (k % 3 === 0 ? 'toTarget' : 'fromTarget'));
  const pdus = packets.map((p, k) => template.encode(1_000_000 + k, stamps[k]!, p, directions[k]!));
  return { packets, stamps, directions, sizes: pdus.map((b) => b.length), pdus };
}

export async function benchCodec(): Promise<string[]> {
  const o = measureOptions();
  const out = [
    `IPCC PS-PDU encode and decode, one core; context: ${CONTEXT.timestampFormat} time stamps, all optional header fields.`,
    `Median of ${o.runs} runs of >= ${o.seconds} s (${o.clock} clock) after ${o.warmupSeconds} s warm-up. MB/s counts PDU bytes (10^6).`,
    `Baseline: copy the packet into a fresh buffer of the PDU's size. "x baseline" = time per PDU / baseline's.`,
    `"${BATCH} per buffer": PDUs written back to back into one buffer per ${BATCH} (sizeOf, then encodeInto).`,
    '',
  ];
  const template = new IpccTemplate(CONTEXT);
  const gtContext: RecordContext = { ...CONTEXT, timestampFormat: 'generalized' };
  const gtTemplate = new IpccTemplate(gtContext);
  for (const size of SIZES) {
    const x = inputs(size, template);
    const meanPdu = x.sizes.reduce((a, b) => a + b, 0) / POOL;
    const rows: [string, Rate][] = [];
    const baseline = measure(copyBatch(x));
    rows.push(['baseline: copy into fresh buffer', baseline]);
    const batchFloor = measure(copyIntoBatch(x));
    rows.push([`copy, ${BATCH} per buffer`, batchFloor]);
    rows.push(['general ipccPdu', measure(generalBatch(x))]);
    rows.push(['fast encode', measure(fastBatch(x, template))]);
    rows.push(['fast encode (GeneralizedTime)', measure(fastBatch(x, gtTemplate))]);
    rows.push([`fast encodeInto, ${BATCH} per buffer`, measure(intoBatch(x, template))]);
    rows.push(['decodePsPdu', measure(decodeBatch(x))]);
    const what = size === 'imix' ? 'simple IMIX packets (40, 576, 1500 bytes, 7:4:1)' : `packet ${size} bytes`;
    out.push(`${what} (PDU ~${Math.round(meanPdu)} bytes on average)`);
    out.push(...table(['path', 'PDUs/s', 'MB/s', 'ns/PDU', 'spread ns', 'x baseline'], rows.map(([name, r]) => [
      name,
      whole(r.opsPerSec),
      fixed((r.opsPerSec * meanPdu) / 1e6),
      fixed(r.nsPerOp),
      `${fixed(r.minNs)}-${fixed(r.maxNs)}`,
      fixed(r.nsPerOp / baseline.nsPerOp, 2),
    ])));
    const [general, fast, , batch] = rows.slice(2).map(([, r]) => r.nsPerOp) as [number, number, number, number];
    out.push(`fast encode: ${fixed(general / fast)}x the general encoder's rate; ` +
      `encodeInto batch: ${fixed(batch / batchFloor.nsPerOp, 2)}x the time of copying into a batch buffer`, '');
  }
  return out;
}

// Each returns a batch function (see measure): the loop lives inside, over the input pool.

function copyBatch(x: Inputs): (n: number) => number {
  const { packets, sizes } = x;
  return (n) => {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const k = i & (POOL - 1);
      const p = packets[k]!;
      const b = Buffer.allocUnsafe(sizes[k]!);
      b.set(p, b.length - p.length);
      acc += b[b.length - 1]!;
    }
    return acc;
  };
}

function copyIntoBatch(x: Inputs): (n: number) => number {
  const { packets, sizes } = x;
  return (n) => {
    let acc = 0;
    for (let i = 0; i < n; i += BATCH) {
      const count = Math.min(BATCH, n - i);
      let total = 0;
      for (let j = 0; j < count; j++) total += sizes[(i + j) & (POOL - 1)]!;
      const buf = Buffer.allocUnsafe(total);
      let at = 0;
      for (let j = 0; j < count; j++) {
        const k = (i + j) & (POOL - 1);
        const p = packets[k]!;
        buf.set(p, at + sizes[k]! - p.length);
        at += sizes[k]!;
      }
      acc += buf[at - 1]!;
    }
    return acc;
  };
}

function generalBatch(x: Inputs): (n: number) => number {
  const { packets, stamps, directions } = x;
  let seq = 0;
  return (n) => {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const k = i & (POOL - 1);
      const b = ipccPdu(CONTEXT, seq, stamps[k]!, packets[k]!, directions[k]!);
      seq = (seq + 1) >>> 0;
      acc += b[b.length - 1]!;
    }
    return acc;
  };
}

function fastBatch(x: Inputs, t: IpccTemplate): (n: number) => number {
  const { packets, stamps, directions } = x;
  let seq = 0;
  return (n) => {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const k = i & (POOL - 1);
      const b = t.encode(seq, stamps[k]!, packets[k]!, directions[k]!);
      seq = (seq + 1) >>> 0;
      acc += b[b.length - 1]!;
    }
    return acc;
  };
}

function intoBatch(x: Inputs, t: IpccTemplate): (n: number) => number {
  const { packets, stamps, directions } = x;
  let seq = 0;
  return (n) => {
    let acc = 0;
    for (let i = 0; i < n; i += BATCH) {
      const count = Math.min(BATCH, n - i);
      let total = 0;
      for (let j = 0; j < count; j++) {
        const k = (i + j) & (POOL - 1);
        total += t.sizeOf((seq + j) >>> 0, stamps[k]!, packets[k]!.length);
      }
      const buf = Buffer.allocUnsafe(total);
      let at = 0;
      for (let j = 0; j < count; j++) {
        const k = (i + j) & (POOL - 1);
        at += t.encodeInto(buf, at, seq, stamps[k]!, packets[k]!, directions[k]!);
        seq = (seq + 1) >>> 0;
      }
      acc += buf[at - 1]!;
    }
    return acc;
  };
}

function decodeBatch(x: Inputs): (n: number) => number {
  const { pdus } = x;
  return (n) => {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const pdu = decodePsPdu(pdus[i & (POOL - 1)]!);
      acc += pdu.pSHeader.sequenceNumber;
    }
    return acc;
  };
}
