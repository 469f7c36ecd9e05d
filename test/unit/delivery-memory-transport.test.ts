import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { memoryPair } from '../../src/delivery/memory-transport';

describe('in-memory transport', () => {
  it('delivers bytes in order, asynchronously, and reports backpressure until the reader drains', async () => {
    const [a, b] = memoryPair({ a: { highWaterMark: 10 } });
    const got: number[] = [];
    b.on('data', (c: Uint8Array) => got.push(...c));
    b.pause();
    assert.equal(a.write(Uint8Array.from([1, 2, 3])), true);
    assert.equal(a.write(Uint8Array.from([4, 5, 6, 7, 8, 9, 10])), false, 'at the high-water mark');
    assert.equal(a.buffered, 10);
    assert.deepEqual(got, [], 'nothing is delivered synchronously or while paused');
    const drained = once(a, 'drain');
    b.resume();
    await drained;
    assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(a.buffered, 0);
  });

  it('closes both ends on destroy, delivering what was already sent', async () => {
    const [a, b] = memoryPair();
    const got: number[] = [];
    b.on('data', (c: Uint8Array) => got.push(...c));
    a.write(Uint8Array.from([7]));
    const closedA = once(a, 'close');
    const closedB = once(b, 'close');
    a.destroy();
    await Promise.all([closedA, closedB]);
    assert.deepEqual(got, [7]);
    assert.equal(b.closed, true);
    assert.equal(a.write(Uint8Array.from([8])), false);
  });
});
