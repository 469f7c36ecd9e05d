import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Journal } from '../../src/delivery/journal';
import { encodeCursor, encodeFrame } from '../../src/delivery/journal/framing';
import { JournalError } from '../../src/errors';
import { journalTempDir, lastSegment, segmentFiles } from '../helpers/journal';
import { assertRecord, recordFor, recordsFor, rejectsWith } from '../journal-fixtures';


/** Offset of record `index` in a segment whose first record is `base`. */
const offsetOf = (base: bigint, index: bigint) => 16 + recordsFor(base, index - 1n).reduce((n, r) => n + r.length + 16, 0);

async function filled(dir: string, last: bigint, opts = {}): Promise<void> {
  const j = await Journal.open(dir, opts);
  await j.append(recordsFor(1n, last));
  await j.close();
}

async function expectIntact(j: Journal, last: bigint): Promise<void> {
  const got = await j.read(1n, { maxRecords: Number(last) + 10, maxBytes: 1 << 24 });
  assert.equal(got.length, Number(last));
  got.forEach((r, k) => {
    assert.equal(r.index, BigInt(k + 1));
    assertRecord(r.index, r.data);
  });
}

describe('journal recovery', () => {
  let dir: string;
  let j: Journal | undefined;
  journalTempDir((d) => (dir = d), { opened: () => j });

  it('cuts garbage from the end of the last segment, then appends continue', async () => {
    await filled(dir, 20n, { segmentBytes: 4096 });
    const garbage = Buffer.from(Array.from({ length: 100 }, (_, k) => (k * 37 + 11) & 0xff));
    fs.appendFileSync(lastSegment(dir), garbage);
    j = await Journal.open(dir, { segmentBytes: 4096 });
    assert.equal(j.stats.tornBytesAtOpen, 100);
    assert.equal(j.next, 21n);
    await expectIntact(j, 20n);
    assert.deepEqual(await j.append([recordFor(21n)]), { first: 21n, last: 21n });
    await j.close();
    j = await Journal.open(dir, { segmentBytes: 4096 });
    assert.equal(j.stats.tornBytesAtOpen, 0);
    await expectIntact(j, 21n);
  });

  it('cuts half a record written at crash time, at every cut point', async () => {
    await filled(dir, 10n);
    const frame = encodeFrame(11n, recordFor(11n, 1));
    const file = lastSegment(dir);
    const clean = fs.statSync(file).size;
    for (let cut = 1; cut < frame.length; cut++) {
      fs.appendFileSync(file, frame.subarray(0, cut));
      j = await Journal.open(dir);
      assert.equal(j.stats.tornBytesAtOpen, cut, `cut at ${cut}`);
      assert.equal(j.next, 11n);
      await j.close();
      assert.equal(fs.statSync(file).size, clean);
    }
    j = await Journal.open(dir);
    await j.append([recordFor(11n)]);
    await expectIntact(j, 11n);
  });

  it('restarts a segment whose header was torn while it was being created', async () => {
    await filled(dir, 5n);
    fs.writeFileSync(path.join(dir, '00000000000000000006.seg'), Buffer.from('LIGJ\0\0'));
    j = await Journal.open(dir);
    assert.equal(j.stats.tornBytesAtOpen, 6);
    assert.equal(j.next, 6n);
    await j.append(recordsFor(6n, 8n));
    await j.close();
    j = await Journal.open(dir);
    await expectIntact(j, 8n);
    assert.equal(segmentFiles(dir).length, 2);
  });

  it('refuses a damaged record in an older segment, naming file and offset', async () => {
    await filled(dir, 60n, { segmentBytes: 4096 });
    const file = segmentFiles(dir)[0]!;
    const at = offsetOf(1n, 3n);
    const bytes = fs.readFileSync(file);
    bytes[at + 20]! ^= 0x01;
    fs.writeFileSync(file, bytes);
    const e = (await rejectsWith(Journal.open(dir, { segmentBytes: 4096 }), 'LIG_ERR_JOURNAL_CORRUPT')) as JournalError;
    assert.equal(e.file, file);
    assert.equal(e.offset, at);
    assert.match(e.message, new RegExp(`${path.basename(file)} at offset ${at}`));
    assert.equal(fs.readFileSync(file).length, bytes.length, 'nothing was cut');
  });

  it('refuses damage in the last segment when valid records follow it', async () => {
    await filled(dir, 10n);
    const file = lastSegment(dir);
    const at = offsetOf(1n, 5n);
    const bytes = fs.readFileSync(file);
    bytes[at + 2]! ^= 0x40;
    fs.writeFileSync(file, bytes);
    const e = (await rejectsWith(Journal.open(dir), 'LIG_ERR_JOURNAL_CORRUPT')) as JournalError;
    assert.equal(e.offset, at);
    assert.equal(fs.readFileSync(file).length, bytes.length, 'nothing was cut');
  });

  it('refuses an intact record with the wrong index at the end, rather than cutting it', async () => {
    await filled(dir, 5n);
    const file = lastSegment(dir);
    const at = fs.statSync(file).size;
    fs.appendFileSync(file, encodeFrame(7n, recordFor(7n)));
    const e = (await rejectsWith(Journal.open(dir), 'LIG_ERR_JOURNAL_CORRUPT')) as JournalError;
    assert.equal(e.offset, at);
    assert.match(e.message, /record index 7, expected 6/);
  });

  it('refuses a missing segment, a damaged cursor and a cursor past the end', async () => {
    await filled(dir, 60n, { segmentBytes: 4096 });
    const files = segmentFiles(dir);
    const middle = files[2]!;
    const saved = fs.readFileSync(middle);
    fs.rmSync(middle);
    await rejectsWith(Journal.open(dir), 'LIG_ERR_JOURNAL_CORRUPT');
    fs.writeFileSync(middle, saved);
    fs.writeFileSync(path.join(dir, 'confirmed'), Buffer.from('not a cursor....'));
    await rejectsWith(Journal.open(dir), 'LIG_ERR_JOURNAL_CORRUPT');
    fs.writeFileSync(path.join(dir, 'confirmed'), encodeCursor(61n));
    await rejectsWith(Journal.open(dir), 'LIG_ERR_JOURNAL_CORRUPT');
    assert.deepEqual(segmentFiles(dir), files, 'a bad cursor deletes nothing');
    fs.writeFileSync(path.join(dir, 'confirmed'), encodeCursor(0n));
    j = await Journal.open(dir, { segmentBytes: 4096 });
    await expectIntact(j, 60n);
  });

  it('finishes deleting confirmed segments after a crash between cursor write and delete', async () => {
    await filled(dir, 60n, { segmentBytes: 4096 });
    const before = segmentFiles(dir).length;
    fs.writeFileSync(path.join(dir, 'confirmed'), encodeCursor(45n));
    j = await Journal.open(dir, { segmentBytes: 4096 });
    assert.equal(j.confirmed, 45n);
    assert.ok(segmentFiles(dir).length < before);
    const rest = await j.read(46n, { maxRecords: 100 });
    assert.deepEqual(
      rest.map((r) => r.index),
      recordsFor(46n, 60n).map((_, k) => BigInt(46 + k)),
    );
  });

  it('takes a lock: a second open fails, a stale lock of a dead process is taken over', async () => {
    j = await Journal.open(dir);
    const e = await rejectsWith(Journal.open(dir), 'LIG_ERR_JOURNAL_LOCKED');
    assert.match(e.message, new RegExp(String(process.pid)));
    await j.close();
    j = undefined;
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    fs.writeFileSync(path.join(dir, 'lock'), `${dead}\n`);
    j = await Journal.open(dir);
    assert.equal(fs.readFileSync(path.join(dir, 'lock'), 'utf8'), `${process.pid}\n`);
    await j.close();
    assert.equal(fs.existsSync(path.join(dir, 'lock')), false, 'close removes the lock');
    fs.writeFileSync(path.join(dir, 'lock'), '');
    j = await Journal.open(dir);
  });
});
