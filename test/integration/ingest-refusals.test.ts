/**
 * What the ingest server refuses, over real mTLS on 127.0.0.1, and that it stays up for
 * everyone else: clients without a certificate, with one from another CA, or with a lig
 * certificate that is not a probe's; malformed, oversized and out-of-order messages; a second
 * stream from the same probe. And what the probe refuses: a server that is not the mediator.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { MediatorMessage } from '../../src/gen/lig/v1/ingest';
import { IngestServer } from '../../src/mediation/ingest-server';
import { ProbeError } from '../../src/errors';
import {
  batchBytes,
  cleanup,
  helloBytes,
  next,
  openProbe,
  packet,
  probeCreds,
  rawStream,
  setup,
  startServer,
  Status,
  TestHandler,
  type RawOutcome,
  type Setup,
} from './ingest-helpers';

const codeOf = (o: RawOutcome) => o.status.metadata.get('lig-error-code')[0];
const decoded = (o: RawOutcome) => o.messages.map((m) => MediatorMessage.decode(m).body);

describe('ingest: refusals', function () {
  let s: Setup;
  let handler: TestHandler;
  let server: IngestServer;
  const refused: unknown[] = [];
  before(async () => {
    s = await setup('lig-ingest-refusals-');
    handler = new TestHandler();
    server = await startServer(s, handler, { maxMessageBytes: 4096, maxBatchEvents: 2 });
    server.on('refused', (e) => refused.push(e));
  });
  after(async () => {
    await server?.close();
    cleanup(s);
  });

  /** The server still serves a well-behaved probe; run after each refusal. */
  afterEach(async function () {
    const p = await openProbe(s, server.port, { name: 'probe-2', spoolDir: path.join(s.tmp, `spool-${this.currentTest!.title.length}-${Math.random()}`) });
    try {
      const before = handler.ids('probe-2').length;
      p.submit(packet(1n, Buffer.from('still up')));
      await p.drained();
      assert.equal(handler.ids('probe-2').length, before + 1);
    } finally {
      await p.close();
    }
  });

  it('refuses a client without a certificate in the TLS handshake', async () => {
    const o = await rawStream(server.port, probeCreds(s), [helloBytes()]);
    assert.equal(o.status.code, Status.UNAVAILABLE);
    assert.equal(server.probes().some((p) => p.name === 'probe-1'), false, 'no stream was ever admitted');
  });

  it('refuses a certificate from another CA, even one named like a probe', async () => {
    const o = await rawStream(server.port, probeCreds(s, s.foreign.leaf), [helloBytes()]);
    assert.equal(o.status.code, Status.UNAVAILABLE);
    assert.equal(server.probes().some((p) => p.name === 'probe-1'), false);
  });

  it('answers PERMISSION_DENIED to a lig certificate of another role', async () => {
    const n = refused.length;
    const o = await rawStream(server.port, probeCreds(s, s.pki.admin), [helloBytes()]);
    assert.equal(o.status.code, Status.PERMISSION_DENIED);
    assert.equal(codeOf(o), 'LIG_ERR_INGEST_NOT_PROBE');
    assert.equal(refused.length, n + 1);
    assert.equal(server.probe('admin'), undefined);
  });

  for (const [what, frames] of [
    ['bytes that are not protobuf', [Buffer.from([0xff, 0xff, 0xff, 0xff])]],
    ['a truncated Hello', [helloBytes(7n).subarray(0, 5)]],
    ['an empty message', [Buffer.alloc(0)]],
    ['a batch before Hello', [batchBytes(1n)]],
    ['a second Hello', [helloBytes(), helloBytes()]],
    ['a batch without an id', [helloBytes(), batchBytes(0n)]],
    ['a Hello with an over-long spool id', [helloBytes(0n, 'x'.repeat(65))]],
  ] as const) {
    it(`answers INVALID_ARGUMENT to ${what}`, async () => {
      const o = await rawStream(server.port, probeCreds(s, s.pki.probe), [...frames]);
      assert.equal(o.status.code, Status.INVALID_ARGUMENT, o.status.details);
      assert.equal(codeOf(o), 'LIG_ERR_INGEST_MALFORMED');
    });
  }

  it('answers RESOURCE_EXHAUSTED to a message over maxMessageBytes', async () => {
    const big = batchBytes(1n, [packet(1n, Buffer.alloc(5000, 0xab))]);
    const o = await rawStream(server.port, probeCreds(s, s.pki.probe), [helloBytes(), big]);
    assert.equal(o.status.code, Status.RESOURCE_EXHAUSTED);
  });

  it('answers RESOURCE_EXHAUSTED to a batch over maxBatchEvents, and accepts none of it', async () => {
    const before = handler.ids('probe-1').length;
    const three = batchBytes(1n, [packet(1n, Buffer.from('a')), packet(1n, Buffer.from('b')), packet(1n, Buffer.from('c'))]);
    const o = await rawStream(server.port, probeCreds(s, s.pki.probe), [helloBytes(), three]);
    assert.equal(o.status.code, Status.RESOURCE_EXHAUSTED);
    assert.equal(codeOf(o), 'LIG_ERR_INGEST_TOO_LARGE');
    assert.equal(handler.ids('probe-1').length, before);
  });

  it('answers INVALID_ARGUMENT to batch ids that skip, or that do not start at Hello\'s first unacked', async () => {
    const gap = await rawStream(server.port, probeCreds(s, s.pki.probe), [helloBytes(), batchBytes(100n), batchBytes(102n)]);
    assert.equal(gap.status.code, Status.INVALID_ARGUMENT);
    assert.equal(codeOf(gap), 'LIG_ERR_INGEST_BATCH_ORDER');
    const start = await rawStream(server.port, probeCreds(s, s.pki.probe), [helloBytes(200n), batchBytes(201n)]);
    assert.equal(start.status.code, Status.INVALID_ARGUMENT);
    assert.equal(codeOf(start), 'LIG_ERR_INGEST_BATCH_ORDER');
  });

  it('acknowledges without accept() what the core already holds, and refuses a restarted numbering', async () => {
    handler.firstUnacked = (probe) => (probe === 'probe-1' ? 1001n : 1n);
    try {
      const before = handler.ids('probe-1').length;
      // Resending 999 and 1000 (held by the core) and sending 1001 (new): one accept(), ack 1001.
      const o = await rawStream(server.port, probeCreds(s, s.pki.probe), [helloBytes(999n), batchBytes(999n), batchBytes(1000n), batchBytes(1001n)], {
        keepOpen: true,
        onMessage: (b, call) => {
          const m = MediatorMessage.decode(b).body;
          if (m?.$case === 'ack' && m.ack.batchId === 1001n) call.end();
        },
      });
      assert.equal(o.status.code, Status.OK, o.status.details);
      assert.deepEqual(handler.ids('probe-1').slice(before), [1001n]);
      assert.ok(decoded(o).some((m) => m?.$case === 'ack' && m.ack.batchId === 1001n));
      // A probe that says it holds nothing unacknowledged, yet numbers from 1 again.
      const replay = await rawStream(server.port, probeCreds(s, s.pki.probe), [helloBytes(0n), batchBytes(1n)]);
      assert.equal(replay.status.code, Status.FAILED_PRECONDITION);
      assert.equal(codeOf(replay), 'LIG_ERR_INGEST_BATCH_REPLAY');
      assert.deepEqual(handler.ids('probe-1').slice(before), [1001n]);
    } finally {
      handler.firstUnacked = undefined;
    }
  });

  it('replaces an older stream of the same probe (ABORTED), and serves the new one', async () => {
    let firstUp!: () => void;
    const up = new Promise<void>((r) => (firstUp = r));
    const old = rawStream(server.port, probeCreds(s, s.pki.probe), [helloBytes()], { keepOpen: true, onMessage: () => firstUp() });
    await up;
    const connects = server.probe('probe-1')!.streams;
    const fresh = await rawStream(server.port, probeCreds(s, s.pki.probe), [helloBytes(), batchBytes(5000n)], {
      keepOpen: true,
      onMessage: (b, call) => {
        const m = MediatorMessage.decode(b).body;
        if (m?.$case === 'ack') call.end();
      },
    });
    const o = await old;
    assert.equal(o.status.code, Status.ABORTED);
    assert.equal(codeOf(o), 'LIG_ERR_INGEST_REPLACED');
    assert.equal(fresh.status.code, Status.OK, fresh.status.details);
    assert.deepEqual(decoded(fresh).map((m) => m?.$case), ['tasks', 'ack']);
    const st = server.probe('probe-1')!;
    assert.equal(st.streams, connects + 1);
    assert.equal(st.lastAcked, 5000n);
  });

  it('the probe refuses a server whose certificate is not the mediator\'s', async () => {
    // The LEMF certificate chains to the same CA and names 127.0.0.1, but its role is lemf.
    const impostor = await IngestServer.listen({
      listen: { host: '127.0.0.1', port: 0 },
      tls: { ca: s.pki.ca, cert: s.pki.lemf.cert, key: s.pki.lemf.key },
      handler: new TestHandler(),
      log: () => undefined,
    });
    const streams: string[] = [];
    impostor.on('stream', (p: string) => streams.push(p));
    const p = await openProbe(s, impostor.port, { spoolDir: path.join(s.tmp, 'spool-impostor') });
    try {
      const outcome = await Promise.race([next<ProbeError>(p, 'disconnected'), next<void>(p, 'connected').then(() => 'connected' as const)]);
      assert.notEqual(outcome, 'connected', 'the probe must not talk to a non-mediator');
      const e = outcome as ProbeError;
      assert.equal(e.code, 'LIG_ERR_PROBE_STREAM');
      assert.equal(e.grpcCode, Status.UNAVAILABLE);
      assert.equal(p.stats().connected, false);
      assert.deepEqual(streams, []);
    } finally {
      await p.close();
      await impostor.close();
    }
  });
});
