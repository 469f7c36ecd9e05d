/**
 * The probe spool's wire pieces against the generated codec (the batch the spool writes is
 * byte for byte what Batch.encode writes, and decodes back), and the spool itself on a real
 * Journal in a temp dir: ids are journal indices, survive reopening, and acks release them.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Batch, Event, ProbeMessage } from '../../src/gen/lig/v1/ingest';
import {
  MAX_BATCH_BYTES,
  MAX_BATCH_ID_FIELD_BYTES,
  MAX_EVENT_BYTES,
  SPOOL_ID_FILE,
  Spool,
  batchIdOf,
  encodeBatch,
  eventFieldBytes,
  probeMessageOfBatch,
} from '../../src/probe/spool';

function event(i: number, size: number): Event {
  return { timeUs: 1_700_000_000_000_000n + BigInt(i), kind: { $case: 'packet', packet: { matches: [{ taskId: BigInt(i), direction: 2, sessionKey: '' }], data: Buffer.alloc(size, i), originalLength: 0 } } };
}

describe('probe spool', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-spool-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('encodes a batch exactly as Batch.encode does, for ids and event sizes across varint boundaries', () => {
    for (const id of [1n, 127n, 128n, 16_383n, 16_384n, 2n ** 35n, 2n ** 63n - 1n]) {
      for (const sizes of [[], [0], [1, 100], [125, 126, 127, 128, 16_380, 16_400]]) {
        const events = sizes.map((n, i) => event(i, n));
        const encoded = events.map((e) => Event.encode(e).finish());
        const bytes = encodeBatch(id, encoded);
        assert.deepEqual(Buffer.from(bytes), Buffer.from(Batch.encode({ batchId: id, events }).finish()));
        assert.equal(bytes.length, Batch.encode({ batchId: id, events: [] }).finish().length + encoded.reduce((n, e) => n + eventFieldBytes(e.length), 0));
        assert.equal(batchIdOf(bytes), id);
        const framed = probeMessageOfBatch(bytes);
        assert.deepEqual(framed, Buffer.from(ProbeMessage.encode({ body: { $case: 'batch', batch: { batchId: id, events } } }).finish()));
      }
    }
  });

  it('sizes the largest single event so that its batch, with the largest id, is one journal record', () => {
    assert.equal(MAX_BATCH_ID_FIELD_BYTES + eventFieldBytes(MAX_EVENT_BYTES), MAX_BATCH_BYTES);
    let size = MAX_EVENT_BYTES;
    while (Event.encode(event(1, size)).finish().length > MAX_EVENT_BYTES) size--;
    const e = Event.encode(event(1, size)).finish();
    assert.ok(e.length > MAX_EVENT_BYTES - 8);
    assert.ok(encodeBatch(2n ** 63n - 1n, [e]).length <= MAX_BATCH_BYTES);
    assert.equal(batchIdOf(new Uint8Array([0x12, 0x00])), undefined, 'no id field first');
  });

  it('numbers batches by journal index, keeps them and its id across reopening, and releases acked ones', async () => {
    const dir = path.join(tmp, 'spool');
    let spool = await Spool.open({ dir });
    const id = spool.id;
    assert.match(id, /^[0-9a-f]{32}$/);
    const a = spool.store([Event.encode(event(1, 10)).finish()]);
    const b = spool.store([Event.encode(event(2, 10)).finish(), Event.encode(event(3, 10)).finish()]);
    assert.deepEqual([a.id, b.id], [1n, 2n]);
    await Promise.all([a.durable, b.durable]);
    assert.equal(spool.stored, 2n);
    await spool.ack(1n);
    await spool.close();

    spool = await Spool.open({ dir });
    try {
      assert.equal(spool.id, id);
      assert.equal(spool.acked, 1n);
      assert.equal(spool.nextId, 3n);
      const left = await spool.read(2n, 10);
      assert.deepEqual(left.map((x) => x.id), [2n]);
      assert.equal(Batch.decode(left[0]!.bytes).events.length, 2);
      await spool.ack(2n);
      assert.equal(spool.stats.unackedBatches, 0n);
    } finally {
      await spool.close();
    }
  });

  it('refuses a damaged spool id file with a typed error', async () => {
    const dir = path.join(tmp, 'spool');
    await (await Spool.open({ dir })).close();
    fs.writeFileSync(path.join(dir, SPOOL_ID_FILE), 'not an id\n');
    await assert.rejects(Spool.open({ dir }), { code: 'LIG_ERR_PROBE_SPOOL' });
    // The journal was released: the directory opens again once the file is fixed.
    fs.rmSync(path.join(dir, SPOOL_ID_FILE));
    await (await Spool.open({ dir })).close();
  });
});
