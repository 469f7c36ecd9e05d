/**
 * The XMPP analyser (src/probe/app/xmpp.ts) on the RFC 6120 §9 example session: stream
 * headers, SASL PLAIN, the stream restart, resource binding, message stanzas (entities,
 * quoted '>' in attributes, messages without a body), STARTTLS; every way of feeding; deep
 * nesting, over-long tags, gaps, truncation and garbage.
 */
import { strict as assert } from 'node:assert';
import { MAX_XML_TAG_BYTES, decodeEntities } from '../../src/probe/app/xml-scan';
import { MAX_XMPP_DEPTH, XMPP_CONTENT_FIELDS, XmppAnalyser, sniffXmpp } from '../../src/probe/app/xmpp';
import { newCounters } from '../../src/probe/app/text';
import type { StreamAnalyser } from '../../src/probe/app/types';
import { type Turn, assertEveryFeed, assertGarbageSafe, assertTruncationSafe, bytes, ev, feedWhole, plain } from '../helpers/app-feed';

const make = (): StreamAnalyser => new XmppAnalyser(newCounters());
const NS = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'";
const SASL = "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'";
const BIND = "xmlns='urn:ietf:params:xml:ns:xmpp-bind'";
const plainAuth = Buffer.from('\0juliet\0r0m30myr0m30').toString('base64');

const SESSION: Turn[] = [
  ['client', `<?xml version='1.0'?><stream:stream from='juliet@im.example.com' to='im.example.com' version='1.0' xml:lang='en' ${NS}>`],
  ['server', `<?xml version='1.0'?>\n<stream:stream from='im.example.com' id='t7AMCin9zjMNwQKDnplntZPIDEI=' to='juliet@im.example.com' version='1.0' xml:lang='en' ${NS}><stream:features><mechanisms ${SASL}><mechanism>PLAIN</mechanism></mechanisms></stream:features>`],
  ['client', `<auth ${SASL} mechanism='PLAIN'>${plainAuth}</auth>`],
  ['server', `<success ${SASL}/>`],
  ['client', `<stream:stream to='im.example.com' version='1.0' ${NS}>`],
  ['server', `<stream:stream from='im.example.com' id='x' version='1.0' ${NS}><stream:features><bind ${BIND}/></stream:features>`],
  ['client', `<iq id='tn281v37' type='set'><bind ${BIND}><resource>balcony</resource></bind></iq>`],
  ['server', `<iq id='tn281v37' type='result'>\n  <bind ${BIND}>\n    <jid>juliet@im.example.com/balcony</jid>\n  </bind>\n</iq>`],
  ['client', `<message to='romeo@example.net' type='chat' id='a>b' xml:lang='en'><body>Art thou not Romeo, &amp; a Montague? &#x263A;</body></message>`],
  [
    'server',
    `<message from="romeo@example.net/orchard" to="juliet@im.example.com/balcony" type="chat"><body>Neither, fair saint, if either thee dislike.</body><thread>e0ffe42b</thread></message>` +
      `<message from='romeo@example.net/orchard' to='juliet@im.example.com/balcony'><composing xmlns='http://jabber.org/protocol/chatstates'/></message><presence/>`,
  ],
  ['client', '</stream:stream>'],
  ['server', '</stream:stream>'],
];

const CF = { contentFields: XMPP_CONTENT_FIELDS };

describe('app: XMPP analyser', () => {
  it('stream headers, SASL logon, bound JID and messages; every way of feeding', () => {
    assertEveryFeed(make, SESSION, [
      ev('xmpp', 0, 'client', { kind: 'stream', to: 'im.example.com', from: 'juliet@im.example.com' }),
      ev('xmpp', 1, 'server', { kind: 'stream', from: 'im.example.com', to: 'juliet@im.example.com' }),
      ev('xmpp', 3, 'server', { kind: 'logon', mechanism: 'PLAIN', status: 'ok', username: 'juliet' }),
      ev('xmpp', 7, 'server', { kind: 'bind', jid: 'juliet@im.example.com/balcony' }),
      ev('xmpp', 8, 'client', { kind: 'message', from: 'juliet@im.example.com/balcony', to: 'romeo@example.net', type: 'chat', id: 'a>b', body: 'Art thou not Romeo, & a Montague? \u263a' }, CF),
      ev('xmpp', 9, 'server', { kind: 'message', from: 'romeo@example.net/orchard', to: 'juliet@im.example.com/balcony', type: 'chat', body: 'Neither, fair saint, if either thee dislike.' }, CF),
    ]);
  });

  it('STARTTLS: after <proceed/> nothing is read', () => {
    const got = feedWhole(make(), [
      ['client', `<stream:stream to='example.com' ${NS}>`],
      ['server', `<stream:stream from='example.com' ${NS}><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`],
      ['client', "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"],
      ['server', "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"],
      ['client', "\x16\x03\x01<message to='x@example.com'><body>hidden</body></message>"],
    ]);
    assert.deepEqual(
      got.map((e) => e.fields.kind),
      ['stream', 'stream', 'starttls'],
    );
    assert.ok(!JSON.stringify(plain(got)).includes('hidden'));
  });

  it('a failed logon; the password never appears', () => {
    const got = feedWhole(make(), [...SESSION.slice(0, 3), ['server', `<failure ${SASL}><not-authorized/></failure>`]]);
    assert.deepEqual(got[2]!.fields, { kind: 'logon', mechanism: 'PLAIN', status: 'failed', username: 'juliet' });
    assert.ok(!JSON.stringify(plain(got)).includes('r0m30'));
  });

  it('gives up a stream nested deeper than MAX_XMPP_DEPTH, cuts over-long tags, and stops a side after a gap', () => {
    const deep = make();
    feedWhole(deep, [['client', `<stream:stream ${NS}>${'<a>'.repeat(MAX_XMPP_DEPTH + 1)}<message><body>x</body></message>`]]);
    assert.equal(deep.counters.malformed, 1);
    const long = make();
    const got = feedWhole(long, [['client', `<stream:stream ${NS}><message to='${'x'.repeat(MAX_XML_TAG_BYTES)}'><body>lost</body></message><message to='y@example.com'><body>kept</body></message>`]]);
    // The cut tag's attributes are lost, but its nesting is kept: both messages are found.
    assert.deepEqual(
      got.filter((e) => e.fields.kind === 'message').map((e) => [e.fields.to, e.fields.body]),
      [
        [undefined, 'lost'],
        ['y@example.com', 'kept'],
      ],
    );
    assert.equal(long.counters.truncated, 1);
    const gap = make();
    gap.onData('client', bytes(`<stream:stream ${NS}><message to='a@example.com'><bo`), 1n);
    gap.onGap('client', 10);
    assert.deepEqual(gap.onData('client', bytes("<message to='b@example.com'><body>x</body></message>"), 2n), []);
    assert.equal(gap.counters.truncated, 1);
  });

  it('decodes the predefined entities and character references, and leaves bad ones', () => {
    assert.equal(decodeEntities('&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#xD800;&bogus;'), `<>&"'AB&#xD800;&bogus;`);
  });

  it('survives truncation at any point, and garbage', () => {
    assertTruncationSafe(make, SESSION);
    assertGarbageSafe(make, [SESSION]);
  });

  it('sniffs a stream opening, with or without the XML declaration', () => {
    assert.equal(sniffXmpp(bytes(`<?xml version='1.0'?><stream:stream to='a'`)), 'yes');
    assert.equal(sniffXmpp(bytes(`  <stream:stream xmlns='jabber:client'>`)), 'yes');
    assert.equal(sniffXmpp(bytes(`<?xml vers`)), 'more');
    assert.equal(sniffXmpp(bytes(`<stream:str`)), 'more');
    assert.equal(sniffXmpp(bytes(`<?xml version='1.0'?><html>`)), 'no');
    assert.equal(sniffXmpp(bytes(`GET / HTTP/1.1`)), 'no');
  });
});
