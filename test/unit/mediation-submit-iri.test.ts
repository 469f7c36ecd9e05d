/**
 * MediationHandler.submitIri on real journals: IRI the mediator makes itself goes into the
 * agency's HI2 journal in order with the probes' batches, numbered in its communication's IRI
 * sequence; a new communication gets a CIN that is durable before the record carries it;
 * `once` makes a resubmission after a restart harmless; a failing build or an unknown agency
 * leaves nothing behind. The records pass the etsi-oracle.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ipiriPdu } from '../../src/etsi/build';
import { isLigError } from '../../src/errors';
import { CinRegistry } from '../../src/mediation/numbering';
import { enumValue, find, oracleXerOf } from '../helpers/oracle';
import { TestCore, batchOf, intercept, ipv4, packetEvent } from '../mediation-fixtures';

const INTERCEPTS = [intercept('LIID-CC', 'content'), intercept('LIID-IRI', 'iri-only')];

/** An IPIRI record saying `what` in targetUsername (so each record is recognisable). */
const report = (what: string) => (ctx: Parameters<typeof ipiriPdu>[0], seq: number, t: Parameters<typeof ipiriPdu>[2]) =>
  ipiriPdu(ctx, seq, t, 'iRI-Report', { accessEventType: 'unknown', targetUsername: what, internetAccessType: 'wirelessLAN', iPVersion: 'iPV4' });

describe('mediation: submitIri (mediator-originated IRI)', () => {
  let dir: string;
  let core: TestCore | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-submit-iri-'));
  });
  afterEach(async () => {
    await core?.close();
    core = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('numbers records in the intercept\'s IRI sequence, between the batches it was called between', async function () {
    core = await TestCore.open(dir, INTERCEPTS);
    const iriTask = core.task('LIID-IRI');
    const pkt = (k: number) => packetEvent(ipv4('udp', Buffer.from(`p${k}`)).bytes, [[iriTask, 1]]);
    const a = core.handler.accept('probe-1', batchOf(1n, [pkt(0), pkt(1)]), 's');
    const b = core.handler.submitIri('lea-1', 'LIID-IRI', undefined, report('first'), { stamp: { seconds: 1_700_000_000, micros: 5 } });
    const c = core.handler.accept('probe-1', batchOf(2n, [pkt(2)]), 's');
    const d = core.handler.submitIri('lea-1', 'LIID-IRI', undefined, report('second'));
    await Promise.all([a, b, c, d]);
    const recs = await core.records('hi2');
    assert.deepEqual(recs.map((r) => r.seq), [0, 1, 2, 3, 4]);
    assert.deepEqual(recs.map((r) => r.iriType), ['iRI-Report', 'iRI-Report', 'iRI-Report', 'iRI-Report', 'iRI-Report']);
    assert.deepEqual(recs.map((r) => (r.access ? Buffer.from(r.access.targetUsername).toString() : 'packet')), ['packet', 'packet', 'first', 'packet', 'second']);
    const cin = core.cins.get('lea-1', 'LIID-IRI');
    assert.ok(recs.every((r) => r.cin === cin && r.liid === 'LIID-IRI'));
    assert.deepEqual([recs[2]!.seconds, recs[2]!.micros], [1_700_000_000, 5], 'the stamp given');
    assert.equal(core.handler.counters.mediatorIri, 2);

    const pdus = await oracleXerOf(this, await core.raw('hi2'));
    assert.equal(pdus.length, 5);
    assert.equal(enumValue(find(pdus[2]!, 'payload', 'iRIPayloadSequence', 'IRIPayload', 'iRIContents', 'iPIRI', 'iPIRIContents', 'accessEventType')!), 'unknown');
  });

  it('a communication of its own gets a new CIN, durable in cins.json before the record, and ahead of later batches', async () => {
    core = await TestCore.open(dir, INTERCEPTS);
    const iriTask = core.task('LIID-IRI');
    const own = core.cins.get('lea-1', 'LIID-IRI')!;
    const a = core.handler.submitIri('lea-1', 'LIID-IRI', 'hi1-notification', report('hi1'));
    const b = core.handler.accept('probe-1', batchOf(1n, [packetEvent(ipv4('udp', Buffer.from('x')).bytes, [[iriTask, 1]])]), 's');
    await Promise.all([a, b]);
    const cin = core.cins.get('lea-1', 'LIID-IRI', 'hi1-notification');
    assert.ok(cin !== undefined && cin !== own);
    assert.equal((await CinRegistry.open(dir)).get('lea-1', 'LIID-IRI', 'hi1-notification'), cin, 'durable');
    const recs = await core.records('hi2');
    assert.deepEqual(recs.map((r) => [r.cin, r.seq]), [[cin, 0], [own, 0]], 'its own sequence; the later batch after it');
  });

  it('with `once`, a resubmission after a restart is skipped; a higher id is appended', async () => {
    core = await TestCore.open(dir, INTERCEPTS);
    await core.handler.submitIri('lea-1', 'LIID-CC', undefined, report('one'), { once: { origin: 'test', id: 1n } });
    await core.handler.submitIri('lea-1', 'LIID-CC', undefined, report('two'), { once: { origin: 'test', id: 2n } });
    await core.close();
    core = await TestCore.open(dir, INTERCEPTS);
    await core.handler.submitIri('lea-1', 'LIID-CC', undefined, report('two again'), { once: { origin: 'test', id: 2n } });
    await core.handler.submitIri('lea-1', 'LIID-CC', undefined, report('three'), { once: { origin: 'test', id: 3n } });
    await core.handler.submitIri('lea-1', 'LIID-CC', undefined, report('other origin'), { once: { origin: 'other', id: 1n } });
    const recs = await core.records('hi2');
    assert.deepEqual(recs.map((r) => Buffer.from(r.access!.targetUsername).toString()), ['one', 'two', 'three', 'other origin']);
    assert.deepEqual(recs.map((r) => r.seq), [0, 1, 2, 3]);
    assert.equal(core.channels.hi2.counters.duplicateBatches, 1);
  });

  it('a build that throws appends nothing and takes no number; an unknown agency is a typed error', async () => {
    core = await TestCore.open(dir, INTERCEPTS);
    await assert.rejects(
      core.handler.submitIri('lea-1', 'LIID-CC', undefined, () => {
        throw new RangeError('bad record');
      }),
      RangeError,
    );
    await assert.rejects(core.handler.submitIri('lea-9', 'LIID-CC', undefined, report('x')), (e) => isLigError(e) && e.code === 'LIG_ERR_MEDIATION_NO_AGENCY');
    await core.handler.submitIri('lea-1', 'LIID-CC', undefined, report('after'));
    const recs = await core.records('hi2');
    assert.deepEqual(recs.map((r) => r.seq), [0]);
  });
});
