import { strict as assert } from 'node:assert';
import { Backoff, INITIAL_BACKOFF_MS, MAX_BACKOFF_MS } from '../../src/delivery/backoff';
import { isLigError } from '../../src/errors';

describe('delivery backoff', () => {
  it('doubles its bound from INITIAL_BACKOFF_MS up to MAX_BACKOFF_MS and stays there', () => {
    const b = new Backoff({ random: () => 0.999999 });
    const bounds: number[] = [];
    const delays: number[] = [];
    for (let k = 0; k < 200; k++) {
      bounds.push(b.ceiling);
      delays.push(b.next());
    }
    assert.equal(bounds[0], INITIAL_BACKOFF_MS);
    for (let k = 1; k < bounds.length; k++) assert.equal(bounds[k], Math.min(MAX_BACKOFF_MS, 2 * bounds[k - 1]!));
    assert.equal(bounds[bounds.length - 1], MAX_BACKOFF_MS);
    delays.forEach((d, k) => assert.ok(d < bounds[k]! && d >= bounds[k]! - 1, `delay ${k} just under its bound`));
  });

  it('jitters over the whole range [0, bound): full jitter', () => {
    const b = new Backoff({ random: () => 0 });
    assert.equal(b.next(), 0);
    const draws = [0.1, 0.5, 0.9];
    const c = new Backoff({ initialMs: 1000, maxMs: 1000, random: () => draws.shift()! });
    assert.deepEqual([c.next(), c.next(), c.next()], [100, 500, 900]);
  });

  it('never returns more than the cap or less than 0, even for a broken random source', () => {
    for (const r of [1, 2, -1, NaN, Infinity]) {
      const b = new Backoff({ random: () => r });
      for (let k = 0; k < 20; k++) {
        const d = b.next();
        assert.ok(d >= 0 && d <= MAX_BACKOFF_MS, `random ${r}: ${d}`);
      }
    }
  });

  it('starts again from the initial bound after reset()', () => {
    const b = new Backoff({ random: () => 0.5 });
    for (let k = 0; k < 8; k++) b.next();
    assert.ok(b.ceiling > INITIAL_BACKOFF_MS);
    b.reset();
    assert.equal(b.ceiling, INITIAL_BACKOFF_MS);
    assert.equal(b.next(), INITIAL_BACKOFF_MS / 2);
  });

  it('refuses bounds that make no sense, with a config error', () => {
    for (const o of [{ initialMs: 0 }, { initialMs: -5 }, { initialMs: 100, maxMs: 50 }, { maxMs: NaN }]) {
      assert.throws(() => new Backoff(o), (e: unknown) => isLigError(e) && e.code === 'LIG_ERR_CONFIG');
    }
  });
});
