import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { setImmediate as turn } from 'node:timers/promises';
import { INITIAL_BACKOFF_MS, MAX_BACKOFF_MS } from '../../src/delivery/backoff';
import { Journal } from '../../src/delivery/journal';
import { DeliveryLink, LinkOptions } from '../../src/delivery/link';
import { MemoryConnection, MemoryTransport } from '../../src/delivery/memory-transport';
import { KEEPALIVE_LIID, LinkAgency } from '../../src/delivery/tri';
import { DeliveryError } from '../../src/errors';
import { keepAliveResponsePdu } from '../../src/etsi';
import { ManualClock } from '../helpers/manual-clock';
import { PduPeer, RECORD_LIID, Received, dataSeqs, isRequest, liidOf, recordPdus, triKind } from '../helpers/pdu-peer';
import { removeDir, tempDir } from '../journal-fixtures';

const AGENCY: LinkAgency = {
  id: 'lea-test',
  operatorId: 'OPERATOR-1',
  networkElementId: 'mediator-1',
  timestampFormat: 'microsecond',
  domainIdVersion: 40,
  keepalive: { interval: 30_000, wait: 10_000 },
  pduAck: false,
};

const seqOf = (r: Received) => r.pdu.pSHeader.sequenceNumber;

describe('delivery link (in-memory transport)', () => {
  let dir: string;
  let journal: Journal;
  let clock: ManualClock;
  let transport: MemoryTransport;
  let link: DeliveryLink | undefined;

  beforeEach(async () => {
    dir = tempDir('lig-delivery-');
    journal = await Journal.open(dir);
    clock = new ManualClock();
    transport = new MemoryTransport({ remote: 'lemf.test:6001' });
  });
  afterEach(async () => {
    await link?.close();
    link = undefined;
    await journal.close();
    removeDir(dir);
  });

  function start(opts: Partial<Omit<LinkOptions, 'agency'>> & { agency?: Partial<LinkAgency> } = {}): DeliveryLink {
    link = new DeliveryLink({ hi: 'hi2', journal, transport, clock, random: () => 0.5, ...opts, agency: { ...AGENCY, ...opts.agency } });
    link.start();
    return link;
  }

  async function connected(): Promise<{ far: MemoryConnection; peer: PduPeer }> {
    const far = await transport.accept();
    return { far, peer: new PduPeer(far) };
  }

  it('writes records in order from the first unconfirmed one, then a keep-alive when the journal goes idle', async () => {
    await journal.append(recordPdus(1, 20));
    start();
    const { peer } = await connected();
    const ka = await peer.waitFor(isRequest);
    assert.deepEqual(dataSeqs(peer.received), Array.from({ length: 20 }, (_, k) => k + 1));
    assert.equal(peer.received.indexOf(ka), 20, 'the keep-alive follows the records');
    // the keep-alive's header: the agency's identifiers, the fixed marker LIID, its own counter
    const h = ka.pdu.pSHeader;
    assert.equal(triKind(ka.pdu), 'keep-alive');
    assert.equal(liidOf(ka), KEEPALIVE_LIID);
    assert.equal(h['li-psDomainId'], '0.4.0.2.2.5.1.40');
    assert.equal(Buffer.from(h.communicationIdentifier.networkIdentifier.operatorIdentifier as Uint8Array).toString(), 'OPERATOR-1');
    assert.equal(Buffer.from(h.communicationIdentifier.networkIdentifier.networkElementIdentifier as Uint8Array).toString(), 'mediator-1');
    assert.equal(h.communicationIdentifier.communicationIdentityNumber, undefined);
    assert.equal(h.sequenceNumber, 1);
    assert.deepEqual(h.microSecondTimeStamp, { seconds: clock.now() / 1000, microSeconds: 0 });
    // more records wake the link: they follow, with the next keep-alive (sequence 2) after them
    await journal.append(recordPdus(21, 25));
    const ka2 = await peer.waitFor(isRequest, 21);
    assert.deepEqual(dataSeqs(peer.received).slice(20), [21, 22, 23, 24, 25]);
    assert.equal(seqOf(ka2), 2);
    assert.equal(link!.state().recordsSent, 25);
  });

  it('confirms nothing on write, and only on a keep-aliveResponse with the keep-alive\'s sequence number', async () => {
    await journal.append(recordPdus(1, 10));
    const confirmed: bigint[] = [];
    start().on('confirmed', (i: bigint) => confirmed.push(i));
    const { peer } = await connected();
    const ka = await peer.waitFor(isRequest);
    // a response naming another sequence number confirms nothing
    peer.answer(ka, seqOf(ka) + 1000);
    // the link answers a keep-alive of ours after it has handled what came before it
    peer.keepAlive(555);
    await peer.waitFor((r) => triKind(r.pdu) === 'keep-aliveResponse' && seqOf(r) === 555);
    assert.equal(journal.confirmed, 0n);
    assert.deepEqual(confirmed, []);
    let s = link!.state();
    assert.equal(s.lastConfirmed, 0n);
    assert.equal(s.unmatchedResponses, 1);
    assert.equal(s.keepalivesAnswered, 0);
    assert.equal(s.backlogRecords, 10);
    // the right answer releases everything written before the keep-alive
    peer.answer(ka);
    await once(link!, 'confirmed');
    assert.deepEqual(confirmed, [10n]);
    assert.equal(journal.confirmed, 10n);
    s = link!.state();
    assert.equal(s.lastConfirmed, 10n);
    assert.equal(s.keepalivesAnswered, 1);
    assert.equal(s.backlogRecords, 0);
    assert.equal(s.backlogBytes, 0);
  });

  it('sends a confirming keep-alive after every burst; an answer also stands for earlier keep-alives', async () => {
    await journal.append(recordPdus(1, 12));
    start({ tuning: { confirmEveryRecords: 5 } });
    const { peer } = await connected();
    await peer.waitForCount(3, isRequest);
    const order = peer.received.map((r) => (isRequest(r) ? `ka${seqOf(r)}` : seqOf(r)));
    assert.deepEqual(order, [1, 2, 3, 4, 5, 'ka1', 6, 7, 8, 9, 10, 'ka2', 11, 12, 'ka3']);
    peer.answer(peer.received[11]!);
    const [upTo] = await once(link!, 'confirmed');
    assert.equal(upTo, 10n);
    assert.equal(journal.confirmed, 10n);
  });

  it('with pduAck, confirms on the pDUAcknowledgementResponse, not on a keep-aliveResponse', async () => {
    await journal.append(recordPdus(1, 3));
    start({ agency: { pduAck: true } });
    const { peer } = await connected();
    const req = await peer.waitFor(isRequest);
    assert.equal(triKind(req.pdu), 'pDUAcknowledgementRequest');
    assert.equal(liidOf(req), KEEPALIVE_LIID);
    // a keep-aliveResponse with the same number does not answer an acknowledgement request
    peer.stream.write(keepAliveResponsePdu({ liid: 'X', operatorId: 'LEMF' }, seqOf(req), { seconds: 0, micros: 0 }));
    peer.keepAlive(9);
    await peer.waitFor((r) => triKind(r.pdu) === 'keep-aliveResponse');
    assert.equal(journal.confirmed, 0n);
    assert.equal(link!.state().unmatchedResponses, 1);
    peer.answer(req);
    await once(link!, 'confirmed');
    assert.equal(journal.confirmed, 3n);
  });

  it('drops the connection when no answer comes within keepalive.wait, and resumes from the first unconfirmed record', async () => {
    await journal.append(recordPdus(1, 10));
    const disconnected = new Promise<DeliveryError>((resolve) => start({ tuning: { confirmEveryRecords: 5 } }).once('disconnected', resolve));
    const first = await connected();
    const [ka1, ka2] = await first.peer.waitForCount(2, isRequest);
    first.peer.answer(ka1!);
    await once(link!, 'confirmed');
    assert.equal(journal.confirmed, 5n);
    // ka2 stays unanswered: one millisecond short of the deadline nothing happens ...
    clock.advance(AGENCY.keepalive.wait - 1);
    assert.equal(link!.state().status, 'connected');
    // ... at the deadline the link drops the connection
    const backoff = once(link!, 'backoff');
    clock.advance(1);
    const reason = await disconnected;
    assert.equal(reason.code, 'LIG_ERR_DELIVERY_KEEPALIVE_TIMEOUT');
    assert.equal(seqOf(ka2!), 2);
    assert.match(reason.message, /sequence number 2 within 10000 ms/);
    const [delay] = await backoff;
    let s = link!.state();
    assert.equal(s.status, 'backoff');
    assert.equal(s.lastError?.code, 'LIG_ERR_DELIVERY_KEEPALIVE_TIMEOUT');
    assert.equal(s.connectedSince, undefined);
    await once(first.far, 'close');
    // reconnect after the backoff: 6..10 again (never confirmed), then a keep-alive numbered 1
    clock.advance(delay);
    const second = await connected();
    const ka = await second.peer.waitFor(isRequest);
    assert.deepEqual(dataSeqs(second.peer.received), [6, 7, 8, 9, 10]);
    assert.equal(seqOf(ka), 1, 'each connection has its own keep-alive counter');
    second.peer.answer(ka);
    await once(link!, 'confirmed');
    assert.equal(journal.confirmed, 10n);
    s = link!.state();
    assert.equal(s.status, 'connected');
    assert.equal(s.reconnects, 1);
    assert.ok(s.connectedSince instanceof Date);
  });

  it('after the agency closes the connection, delivers every unconfirmed record again and nothing is lost', async () => {
    await journal.append(recordPdus(1, 30));
    start({ tuning: { confirmEveryRecords: 8 } });
    const first = await connected();
    const kas = await first.peer.waitForCount(2, isRequest);
    first.peer.answer(kas[0]!);
    await once(link!, 'confirmed');
    const backoff = once(link!, 'backoff');
    first.far.destroy();
    const [delay] = await backoff;
    assert.equal(link!.state().lastError?.code, 'LIG_ERR_DELIVERY_CLOSED');
    await journal.append(recordPdus(31, 35));
    clock.advance(delay);
    const second = await connected();
    second.peer.autoAnswer = true;
    while (journal.confirmed < 35n) await once(link!, 'confirmed');
    const seen = new Set([...dataSeqs(first.peer.received), ...dataSeqs(second.peer.received)]);
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 35 }, (_, k) => k + 1));
    assert.equal(dataSeqs(second.peer.received)[0], 9, 'resumes after the last confirmed record (8)');
    assert.deepEqual(dataSeqs(second.peer.received), Array.from({ length: 27 }, (_, k) => k + 9));
  });

  it('honours backpressure: stops writing on false until drain, but a keep-alive still goes out', async () => {
    transport = new MemoryTransport({ highWaterMark: 1 });
    let near: MemoryConnection | undefined;
    let full: Promise<unknown> | undefined;
    transport.on('connection', (far: MemoryConnection, n: MemoryConnection) => {
      far.pause();
      near = n;
      full = once(n, 'full');
    });
    await journal.append(recordPdus(1, 10));
    start();
    const { far, peer } = await connected();
    await full;
    await turn();
    await turn();
    assert.equal(near!.writes, 1, 'one record, then it waits for drain');
    assert.equal(link!.state().recordsSent, 1);
    // nothing written for keepalive.interval: the keep-alive is written despite the full buffer
    clock.advance(AGENCY.keepalive.interval);
    assert.equal(near!.writes, 2);
    far.resume();
    await peer.waitForCount(12);
    const order = peer.received.map((r) => (isRequest(r) ? 'ka' : seqOf(r)));
    assert.deepEqual(order, [1, 'ka', 2, 3, 4, 5, 6, 7, 8, 9, 10, 'ka']);
  });

  it('stops writing while maxOutstanding requests are unanswered', async () => {
    await journal.append(recordPdus(1, 5));
    start({ tuning: { confirmEveryRecords: 1, maxOutstanding: 2 } });
    const { peer } = await connected();
    const [ka1] = await peer.waitForCount(2, isRequest);
    assert.equal(link!.state().recordsSent, 2);
    await turn();
    assert.equal(link!.state().recordsSent, 2);
    peer.answer(ka1!);
    await peer.waitForCount(3, isRequest);
    assert.deepEqual(dataSeqs(peer.received), [1, 2, 3]);
  });

  it('sends a keep-alive after keepalive.interval of silence, and not before', async () => {
    start();
    const { peer } = await connected();
    clock.advance(AGENCY.keepalive.interval - 1);
    assert.equal(link!.state().keepalivesSent, 0);
    clock.advance(1);
    assert.equal(link!.state().keepalivesSent, 1);
    const ka = await peer.waitFor(isRequest);
    assert.equal(seqOf(ka), 1);
    peer.answer(ka);
    while (link!.state().keepalivesAnswered < 1) await turn();
    clock.advance(AGENCY.keepalive.interval);
    const ka2 = await peer.waitFor(isRequest, peer.received.indexOf(ka) + 1);
    assert.equal(seqOf(ka2), 2);
    assert.equal(link!.state().lastConfirmed, 0n, 'nothing to confirm');
  });

  it('answers the agency\'s keep-alives with a keep-aliveResponse echoing the sequence number', async () => {
    start();
    const { peer } = await connected();
    peer.keepAlive(4_000_000_000);
    const r = await peer.waitFor((x) => triKind(x.pdu) === 'keep-aliveResponse');
    assert.equal(seqOf(r), 4_000_000_000);
    assert.equal(liidOf(r), KEEPALIVE_LIID);
    assert.equal(link!.state().keepalivesReceived, 1);
  });

  it('drops a connection on which the agency sends bytes that are not PS-PDUs', async () => {
    const reason = new Promise<DeliveryError>((resolve) => start().once('disconnected', resolve));
    const { far } = await connected();
    far.write(Buffer.from([0x04, 0x02, 0x00, 0x00]));
    assert.equal((await reason).code, 'LIG_ERR_DELIVERY_PROTOCOL');
  });

  it('backs off exponentially with full jitter, capped, while the agency refuses; resets once healthy', async () => {
    transport.refusing = true;
    const delays: number[] = [];
    start().on('backoff', (d: number) => delays.push(d));
    const attempts = 12;
    for (let k = 0; k < attempts; k++) {
      while (delays.length <= k) await once(link!, 'backoff');
      assert.equal(link!.state().status, 'backoff');
      clock.advance(delays[k]!);
    }
    while (delays.length <= attempts) await once(link!, 'backoff');
    const expected = Array.from({ length: attempts + 1 }, (_, k) => Math.floor(0.5 * Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** k)));
    assert.deepEqual(delays, expected);
    assert.equal(Math.max(...delays), MAX_BACKOFF_MS / 2, 'capped');
    const s = link!.state();
    assert.equal(s.lastError?.code, 'LIG_ERR_DELIVERY_CONNECT');
    assert.equal(s.reconnects, attempts + 1);
    assert.equal(transport.connects, attempts + 1);
    // the agency comes back; an answered keep-alive proves the link healthy and resets the backoff
    transport.refusing = false;
    clock.advance(delays[attempts]!);
    const { far, peer } = await connected();
    clock.advance(AGENCY.keepalive.interval);
    peer.answer(await peer.waitFor(isRequest));
    while (link!.state().keepalivesAnswered < 1) await turn();
    far.destroy();
    while (delays.length <= attempts + 1) await once(link!, 'backoff');
    assert.equal(delays[attempts + 1], Math.floor(0.5 * INITIAL_BACKOFF_MS));
  });

  it('shows no LIID of the records it delivers in its state', async () => {
    await journal.append(recordPdus(1, 3));
    start();
    const { far, peer } = await connected();
    await peer.waitFor(isRequest);
    far.destroy();
    await once(link!, 'disconnected');
    const text = JSON.stringify(link!.state(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    assert.ok(!text.includes(RECORD_LIID));
    assert.match(text, /lemf\.test:6001/);
  });

  it('stops (no reconnect loop) when its journal is closed, and says why', async () => {
    start();
    await connected();
    const closed = once(link!, 'closed');
    await journal.close();
    await closed;
    const s = link!.state();
    assert.equal(s.status, 'closed');
    assert.equal(s.lastError?.code, 'LIG_ERR_JOURNAL_CLOSED');
    assert.equal(transport.connects, 1);
    journal = await Journal.open(dir);
  });

  it('close() ends the connection and stops reconnecting', async () => {
    start();
    const { far } = await connected();
    await link!.close();
    assert.equal(link!.state().status, 'closed');
    if (!far.closed) await once(far, 'close');
    clock.advance(MAX_BACKOFF_MS * 2);
    await turn();
    assert.equal(transport.connects, 1);
  });
});
