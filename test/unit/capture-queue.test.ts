/**
 * The source queue (bounded by frames and bytes; live producers drop and count, file
 * producers wait; the consumer pulls) and the handover ledger of the live source.
 */
import { strict as assert } from 'node:assert';
import type { Frame } from '../../src/capture/frame';
import { DEFAULT_QUEUE_BYTES, DEFAULT_QUEUE_FRAMES, FrameQueue } from '../../src/capture/frame-queue';
import { HandoverLedger } from '../../src/capture/handover';
import { SourceError } from '../../src/errors';

const frame = (n: number, size = 10): Frame => ({ ts: { seconds: n, micros: 0 }, linktype: 1, data: new Uint8Array(size), origLen: size });
const ids = (fs: (Frame | undefined)[]) => fs.map((f) => f?.ts.seconds);

describe('capture: frame queue', () => {
  it('defaults and option checks', () => {
    assert.deepEqual(new FrameQueue().limits, { maxFrames: DEFAULT_QUEUE_FRAMES, maxBytes: DEFAULT_QUEUE_BYTES });
    for (const bad of [{ maxFrames: 0 }, { maxBytes: -1 }, { maxFrames: 1.5 }]) {
      assert.throws(() => new FrameQueue(bad), (e: unknown) => e instanceof SourceError && e.code === 'LIG_ERR_SOURCE_OPTIONS');
    }
  });

  it('offer: drops and counts when full by frames, and keeps order', () => {
    const q = new FrameQueue({ maxFrames: 3 });
    for (let i = 1; i <= 5; i++) q.offer(frame(i));
    assert.equal(q.size, 3);
    assert.equal(q.dropped, 2);
    assert.deepEqual(ids(q.take(10)), [1, 2, 3]);
    // Room again: offers succeed; the ring wraps around.
    for (let i = 6; i <= 8; i++) assert.equal(q.offer(frame(i)), true);
    assert.deepEqual(ids([q.poll(), q.poll()]), [6, 7]);
    q.offer(frame(9));
    q.offer(frame(10));
    assert.deepEqual(ids(q.take(10)), [8, 9, 10]);
    assert.equal(q.poll(), undefined);
  });

  it('offer: bounded by bytes too; a lone frame larger than the bound still passes', () => {
    const q = new FrameQueue({ maxBytes: 25 });
    assert.ok(q.offer(frame(1, 10)));
    assert.ok(q.offer(frame(2, 10)));
    assert.ok(!q.offer(frame(3, 10)));
    assert.equal(q.byteSize, 20);
    q.take(2);
    assert.ok(q.offer(frame(4, 100)), 'an empty queue takes any one frame');
    assert.ok(!q.offer(frame(5, 1)));
    assert.equal(q.dropped, 2);
  });

  it('next: waits for a frame; a waiting consumer gets it directly', async () => {
    const q = new FrameQueue();
    const pending = q.next();
    q.offer(frame(1));
    assert.equal((await pending)?.ts.seconds, 1);
    assert.equal(q.size, 0);
  });

  it('put: waits for room instead of dropping, and resumes when the consumer pulls', async () => {
    const q = new FrameQueue({ maxFrames: 2 });
    const done: number[] = [];
    const producer = (async () => {
      for (let i = 1; i <= 6; i++) {
        assert.ok(await q.put(frame(i)));
        done.push(i);
      }
    })();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(done, [1, 2], 'the producer waits while the queue is full');
    const got: number[] = [];
    while (got.length < 6) got.push((await q.next())!.ts.seconds);
    await producer;
    assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
    assert.equal(q.dropped, 0);
  });

  it('end: consumers get the queued frames, then undefined (or the error), and producers stop', async () => {
    const q = new FrameQueue({ maxFrames: 1 });
    q.offer(frame(1));
    const blocked = q.put(frame(2));
    q.end();
    assert.equal(await blocked, false);
    assert.equal(q.offer(frame(3)), false);
    assert.equal(q.dropped, 0, 'frames refused after the end are not drops');
    assert.equal((await q.next())?.ts.seconds, 1);
    assert.equal(await q.next(), undefined);

    const failing = new FrameQueue();
    failing.offer(frame(1));
    const boom = new SourceError('LIG_ERR_SOURCE_READ', 'disk');
    failing.end(boom);
    assert.equal((await failing.next())?.ts.seconds, 1);
    await assert.rejects(failing.next(), (e) => e === boom);
    const waiting = new FrameQueue();
    const w = waiting.next();
    waiting.end(boom);
    await assert.rejects(w, (e) => e === boom);
  });
});

describe('capture: handover ledger', () => {
  it('lets one copy of each packet through, whichever handle delivers it first', () => {
    const l = new HandoverLedger();
    // Old handle: a (only it saw, captured before the new one opened), b, c. New handle: b, c, d.
    assert.equal(l.admit('old', 'a'), true);
    assert.equal(l.admit('new', 'b'), true);
    assert.equal(l.admit('old', 'b'), false);
    assert.equal(l.admit('old', 'c'), true);
    assert.equal(l.admit('new', 'c'), false);
    assert.equal(l.admit('new', 'd'), true);
    assert.equal(l.duplicates, 2);
  });

  it('counts identical contents: two equal packets on both handles give two copies, not one', () => {
    const l = new HandoverLedger();
    assert.ok(l.admit('old', 'x'));
    assert.ok(l.admit('old', 'x'));
    assert.ok(!l.admit('new', 'x'));
    assert.ok(!l.admit('new', 'x'));
    assert.ok(l.admit('new', 'x'), 'a third copy only the new handle saw is a new packet');
  });

  it('stops noting beyond its bound: duplicates possible, loss never', () => {
    const l = new HandoverLedger(2);
    assert.ok(l.admit('old', 'a'));
    assert.ok(l.admit('old', 'b'));
    assert.ok(l.admit('old', 'c'));
    assert.equal(l.overflow, 1);
    assert.ok(!l.admit('new', 'a'));
    assert.ok(l.admit('new', 'c'), 'c was not noted: let through again');
  });
});
