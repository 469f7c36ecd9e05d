import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Journal } from '../../src/delivery/journal';

/**
 * confirm() deletes fully confirmed segments. An append made while that delete is awaited
 * used to land in the segment being deleted and vanish with it, after being reported durable.
 * The delete is intercepted here so the append happens exactly inside that window.
 */
describe('journal: append while confirm deletes a segment', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lig-journal-race-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('keeps a record appended during the delete, across reopen', async () => {
    const j = await Journal.open(dir);
    await j.append([Buffer.from('one')]);
    const realRm = fsp.rm;
    let appended: Promise<{ first: bigint; last: bigint }> | undefined;
    fsp.rm = (async (...args: Parameters<typeof fsp.rm>) => {
      if (!appended) appended = j.append([Buffer.from('two')]);
      await appended;
      return realRm(...args);
    }) as typeof fsp.rm;
    try {
      await j.confirm(1n);
    } finally {
      fsp.rm = realRm;
    }
    assert.ok(appended, 'confirm deleted the fully confirmed segment (the window under test was reached)');
    const { first } = await appended;
    assert.equal(first, 2n);
    assert.deepEqual((await j.read(2n)).map((r) => Buffer.from(r.data).toString()), ['two']);
    await j.close();
    const again = await Journal.open(dir);
    assert.equal(again.confirmed, 1n);
    assert.deepEqual((await again.read(2n)).map((r) => Buffer.from(r.data).toString()), ['two']);
    await again.close();
  });
});
