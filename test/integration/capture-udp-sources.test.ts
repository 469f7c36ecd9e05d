/**
 * `tzsp:` and `ccc:` sources on real UDP sockets (127.0.0.1, port 0): frames, counters by
 * reason, drops when the consumer falls behind, sender allow-lists, bind failures. The
 * datagrams sent are also checked against Wireshark's own dissectors (tshark `tzsp`, and
 * `pcli`/`pcli12`/`pcli20` for PacketCable CCC), framed in UDP by scapy.
 */
import { strict as assert } from 'node:assert';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CccHeaderForm, encodeCcc, parseCcc } from '../../src/capture/ccc';
import type { Frame } from '../../src/capture/frame';
import { parseTzsp, encodeTzsp } from '../../src/capture/tzsp';
import { CccSource, TzspSource } from '../../src/capture/udp-sources';
import { SourceError } from '../../src/errors';
import { hex } from '../fixtures/capture-golden';
import { requireTshark, tsharkFields } from '../helpers/app-reports';
import { requireScapy, scapy } from '../helpers/scapy';

const V4 = hex('4500001c 00010000 4011 62c8 0a010203 0a010204 13881389 0008 0000');
const V6 = hex('6000000000081140 20010db8000000000000000000000001 20010db8000000000000000000000002 13881389 0008 0000');
const eth = (ip: Uint8Array, marker = 0) => Uint8Array.from([...hex('020000000002 020000000001 0800'), ...ip, marker]);

async function sender(address = '127.0.0.1'): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, r));
  return s;
}

function send(s: dgram.Socket, port: number, d: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => s.send(d, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
}

/** Waits (turn by turn, not by time) until `done` holds. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setImmediate(r));
}

describe('capture: UDP sources (TZSP, PacketCable CCC)', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  async function tzsp(opts: ConstructorParameters<typeof TzspSource>[1] = {}): Promise<{ src: TzspSource; port: number }> {
    const src = new TzspSource({ host: '127.0.0.1', port: 0 }, opts);
    await src.start();
    cleanup.push(() => src.stop());
    return { src, port: src.address().port };
  }

  it('TZSP: Ethernet frames arrive, time-stamped on arrival; everything else is counted by reason', async () => {
    const { src, port } = await tzsp();
    const tx = await sender();
    cleanup.push(() => tx.close());
    const before = Date.now();
    const datagrams = [
      encodeTzsp(eth(V4, 1)),
      Uint8Array.from([1, 4, 0, 0]), // keep-alive
      encodeTzsp(eth(V4, 2), { encapsulation: 18 }), // 802.11: not decoded
      Uint8Array.from([2, 0, 0, 1, 1, ...eth(V4)]), // version 2
      Uint8Array.from([1, 9, 0, 1, 1]), // type 9
      Uint8Array.from([1, 0, 0, 1, 0x29, 0x02, 0x05]), // cut inside a tag
      encodeTzsp(eth(V4, 3), { tags: hex('2902 05ea 00') }), // ORIGINAL_LENGTH 1514
      encodeTzsp(eth(V4, 4)),
    ];
    for (const d of datagrams) await send(tx, port, d);
    const frames: Frame[] = [];
    while (frames.length < 3) frames.push((await src.next())!);
    assert.deepEqual(
      frames.map((f) => [f.linktype, f.data.length, f.origLen, f.data[f.data.length - 1]]),
      [
        [1, 43, 43, 1],
        [1, 43, 1514, 3],
        [1, 43, 43, 4],
      ],
    );
    for (const f of frames) assert.ok(f.ts.seconds * 1000 + f.ts.micros / 1000 >= before - 1);
    await until(() => src.counters().frames === 3);
    assert.deepEqual(src.counters(), {
      frames: 3,
      dropped: 0,
      malformed: { LIG_ERR_TZSP_BAD_VERSION: 1, LIG_ERR_TZSP_BAD_TYPE: 1, LIG_ERR_TZSP_TRUNCATED: 1 },
      skipped: { 'tzsp-control': 1, 'tzsp-encapsulation': 1 },
    });
  });

  it('a consumer that falls behind costs drops, counted, never a wait or unbounded memory', async () => {
    const { src, port } = await tzsp({ queue: { maxFrames: 2 } });
    const tx = await sender();
    cleanup.push(() => tx.close());
    for (let i = 0; i < 10; i++) await send(tx, port, encodeTzsp(eth(V4, i)));
    await until(() => src.counters().frames + src.counters().dropped === 10);
    assert.equal(src.counters().dropped, 8);
    assert.deepEqual(src.take(10).map((f) => f.data[f.data.length - 1]), [0, 1]);
  });

  it('allowFrom: datagrams from other senders are skipped', async () => {
    const { src, port } = await tzsp({ allowFrom: ['127.0.0.2'] });
    const stranger = await sender('127.0.0.1');
    const router = await sender('127.0.0.2');
    cleanup.push(() => stranger.close(), () => router.close());
    await send(stranger, port, encodeTzsp(eth(V4, 1)));
    await send(router, port, encodeTzsp(eth(V4, 2)));
    const f = await src.next();
    assert.equal(f!.data[f!.data.length - 1], 2);
    await until(() => (src.counters().skipped['foreign-sender'] ?? 0) === 1);
  });

  it('a port in use is a typed error; bad options are refused', async () => {
    const { port } = await tzsp();
    const again = new TzspSource({ host: '127.0.0.1', port });
    await assert.rejects(again.start(), (e: unknown) => e instanceof SourceError && e.code === 'LIG_ERR_SOURCE_LISTEN' && /EADDRINUSE/.test(e.message));
    assert.throws(() => new CccSource({ host: '127.0.0.1', port: 0 }, { header: 8 as CccHeaderForm }), (e: unknown) => e instanceof SourceError && e.code === 'LIG_ERR_SOURCE_OPTIONS');
    assert.throws(() => new TzspSource({ host: '127.0.0.1', port: 0 }, { receiveBufferBytes: 0 }), (e: unknown) => e instanceof SourceError && e.code === 'LIG_ERR_SOURCE_OPTIONS');
  });

  it('CCC: IP packets attributed by CCCID, each header form, auto-detected; unknown CCCIDs skipped', async () => {
    const intercepts = new Map([
      [0x01020304, 11n],
      [7, 12n],
    ]);
    const src = new CccSource({ host: '127.0.0.1', port: 0 }, { intercepts, time: 'header' });
    await src.start();
    cleanup.push(() => src.stop());
    const tx = await sender();
    cleanup.push(() => tx.close());
    const port = src.address().port;
    await send(tx, port, encodeCcc(0x01020304, V4));
    await send(tx, port, encodeCcc(7, V6, { form: 12, ntpSeconds: 0xe9000000, ntpFraction: 0x40000000 }));
    await send(tx, port, encodeCcc(99, V4)); // no such intercept: never delivered
    await send(tx, port, encodeCcc(7, V4, { form: 20, ntpSeconds: 0xe9000001, caseId: hex('0102030405060708') }));
    await send(tx, port, hex('00000007 55')); // not IP
    const frames: Frame[] = [];
    while (frames.length < 3) frames.push((await src.next())!);
    assert.deepEqual(
      frames.map((f) => [f.taskId, f.linktype, Buffer.from(f.data).toString('hex'), f.origLen]),
      [
        [11n, 101, Buffer.from(V4).toString('hex'), 28],
        [12n, 101, Buffer.from(V6).toString('hex'), 48],
        [12n, 101, Buffer.from(V4).toString('hex'), 28],
      ],
    );
    assert.deepEqual(frames[1]!.ts, { seconds: 0xe9000000 - 2_208_988_800, micros: 250_000 }, "time: 'header' uses the NTP timestamp");
    assert.deepEqual(frames[2]!.ts, { seconds: 0xe9000001 - 2_208_988_800, micros: 0 });
    await until(() => Object.keys(src.counters().malformed).length > 0);
    assert.deepEqual(src.counters(), { frames: 3, dropped: 0, malformed: { LIG_ERR_CCC_NOT_IP: 1 }, skipped: { 'unknown-cccid': 1 } });
    // The mapping follows the task list.
    src.setIntercepts(new Map([[99, 13n]]));
    await send(tx, port, encodeCcc(99, V4));
    await send(tx, port, encodeCcc(7, V4));
    assert.equal((await src.next())!.taskId, 13n);
    await until(() => src.counters().skipped['unknown-cccid'] === 2);
  });

  describe('against tshark', function () {
    let dir: string;
    before(function () {
      requireScapy(this);
      requireTshark(this);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-udpsrc-'));
    });
    after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

    /** Frames `datagrams` in UDP to `port` (scapy), then dissects them with tshark; one array of fields per datagram. */
    function tshark(datagrams: Uint8Array[], port: number, decodeAs: string[], fields: string[]): string[][] {
      const hexFile = path.join(dir, `${port}.hex`);
      const pcap = path.join(dir, `${port}.pcap`);
      fs.writeFileSync(hexFile, datagrams.map((d) => Buffer.from(d).toString('hex')).join('\n'));
      scapy('udp-wrap', pcap, String(port), hexFile);
      return tsharkFields(pcap, fields, [...decodeAs.flatMap((d) => ['-d', d]), '-E', 'occurrence=l']);
    }

    it('TZSP: tshark reads the same version, type, encapsulation, original length and inner frame', async () => {
      const datagrams = [
        encodeTzsp(eth(V4, 1)),
        encodeTzsp(eth(V4, 2), { tags: hex('00 2902 05ea 00') }),
        encodeTzsp(eth(V4, 3), { type: 1 }),
        Uint8Array.from([1, 4, 0, 0]),
      ];
      // What the source makes of them, received over a real socket.
      const { src, port } = await tzsp();
      const tx = await sender();
      cleanup.push(() => tx.close());
      for (const d of datagrams) await send(tx, port, d);
      const frames: Frame[] = [];
      while (frames.length < 3) frames.push((await src.next())!);
      const rows = tshark(datagrams, 37008 + 1, ['udp.port==37009,tzsp'], ['tzsp.version', 'tzsp.type', 'tzsp.encap', 'tzsp.original_length', 'ip.src', 'ip.dst', 'udp.srcport']);
      datagrams.forEach((d, i) => {
        const p = parseTzsp(d);
        const row = rows[i]!;
        assert.deepEqual(row.slice(0, 3), ['1', String(p.type), p.kind === 'packet' ? String(p.encapsulation) : '0'], `datagram ${i}`);
        if (p.kind !== 'packet') return;
        assert.equal(row[3], p.originalLength === undefined ? '' : String(p.originalLength));
        // The innermost IP and UDP tshark finds are the ones in the frame lig took out.
        assert.deepEqual(row.slice(4), ['10.1.2.3', '10.1.2.4', '5000']);
        assert.deepEqual(Buffer.from(frames[i]!.data), Buffer.from(p.data));
      });
    });

    it('CCC: tshark pcli, pcli12 and pcli20 read the same CCCID, timestamp, case ID and IP packet', () => {
      const ntp = 0xe9123456;
      const cases: [CccHeaderForm, string][] = [
        [4, 'pcli'],
        [12, 'pcli12'],
        [20, 'pcli20'],
      ];
      for (const [form, proto] of cases) {
        const datagrams = [encodeCcc(0x01020304, V4, { form, ntpSeconds: ntp, ntpFraction: 0x80000000, caseId: hex('0a0b0c0d0e0f1011') }), encodeCcc(0xfffffffe, V6, { form, ntpSeconds: ntp + 1 })];
        const port = 9000 + form;
        const rows = tshark(datagrams, port, [`udp.port==${port},${proto}`, 'pcli.payload,ip'], ['pcli.cccid', 'pcli.timestamp', 'pcli.case_id', 'ip.src', 'ipv6.src', 'ip.len', 'ipv6.plen']);
        datagrams.forEach((d, i) => {
          const c = parseCcc(d, form);
          const [cccid, ts, caseId, ip4, ip6, len4, plen6] = rows[i]!;
          assert.equal(cccid, String(c.cccid), `${proto} CCCID`);
          if (c.time) {
            // tshark prints "Nov 24, 2023 06:03:34.500000000 UTC": compare as Unix time.
            const m = /^(.*\d\d:\d\d:\d\d)\.(\d{9}) UTC$/.exec(ts!);
            assert.ok(m, `timestamp "${ts}"`);
            assert.equal(Date.parse(`${m[1]} UTC`) / 1000, c.time.seconds);
            assert.equal(Math.floor(Number(m[2]) / 1000), c.time.micros);
          } else assert.equal(ts, '');
          assert.equal(caseId, c.caseId ? `0x${Buffer.from(c.caseId).toString('hex')}` : '');
          // The inner packet tshark dissects is the one lig takes out.
          if (c.packet[0]! >> 4 === 4) assert.deepEqual([ip4!.split(',').pop(), len4!.split(',').pop()], ['10.1.2.3', String(c.packet.length)]);
          else assert.deepEqual([ip6, plen6], ['2001:db8::1', String(c.packet.length - 40)]);
        });
      }
    });
  });
});
