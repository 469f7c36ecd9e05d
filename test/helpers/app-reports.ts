/**
 * The application IRI a capture should give for one target address, as tshark (an
 * independent dissector) reads the capture, and the application IRI the LEMF stored, both
 * as sorted "protocol kind name" lines so a test compares them whole:
 *   "dns query news.example.com", "dns response news.example.com",
 *   "http request news.example.com", "http response 200", "tls client-hello mail.example.org".
 * Covers DNS, HTTP and TLS ClientHello: what the demo capture holds. Also how the tests run
 * tshark: requireTshark, and tsharkFields for the fields of every packet of a capture.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { skipOrFail } from './shared';

let haveTshark: boolean | undefined;

/** Skips (or fails under CI) unless tshark runs. */
export function requireTshark(ctx: Mocha.Context): void {
  haveTshark ??= spawnSync('tshark', ['-v'], { encoding: 'utf8' }).status === 0;
  if (!haveTshark) skipOrFail(ctx, 'tshark is not installed (apt-get install -y tshark)');
}

/**
 * tshark's `fields` of each packet of `pcap` (`args` before them: a -Y filter, -d, -E
 * options), one row per packet. Throws when tshark fails (the caller checked requireTshark).
 */
export function tsharkFields(pcap: string, fields: readonly string[], args: readonly string[] = []): string[][] {
  const r = spawnSync('tshark', ['-r', pcap, ...args, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  const text = r.stdout.replace(/\n$/, '');
  return text === '' ? [] : text.split('\n').map((l) => l.split('|'));
}

/** tshark's view of `pcap`: the DNS messages, HTTP requests/responses and TLS ClientHellos of `target`. */
export function expectedAppReports(pcap: string, target: string): string[] {
  const rows = tsharkFields(
    pcap,
    ['dns.flags.response', 'dns.qry.name', 'http.request.method', 'http.host', 'http.response.code', 'tls.handshake.extensions_server_name'],
    ['-Y', `ip.addr==${target} && (dns || http.request || http.response || tls.handshake.type==1)`],
  );
  const out: string[] = [];
  for (const [dnsResponse, qname, method, host, code, sni] of rows) {
    if (qname) out.push(`dns ${dnsResponse === '1' ? 'response' : 'query'} ${qname}`);
    else if (method) out.push(`http request ${host}`);
    else if (code) out.push(`http response ${code}`);
    else if (sni) out.push(`tls client-hello ${sni}`);
  }
  return out.sort();
}

interface Field {
  name: string;
  value: string;
}

/** The application reports (ligApplicationReport) in a LEMF's records.jsonl, as the same lines. */
export function storedAppReports(out: string): string[] {
  const lines: string[] = [];
  for (const text of fs.readFileSync(path.join(out, 'records.jsonl'), 'utf8').split('\n')) {
    if (!text.includes('ligApplicationReport')) continue;
    const found = /"ligApplicationReport":(\{.*?"fields":\[.*?\]\})/.exec(text);
    if (!found) throw new Error(`an application report that does not parse: ${text.slice(0, 200)}`);
    const report = JSON.parse(found[1]!) as { protocol: string; fields: Field[] };
    const f = (name: string) => report.fields.find((x) => x.name === name)?.value ?? '';
    const kind = f('kind');
    if (report.protocol === 'dns') lines.push(`dns ${kind} ${f('qname')}`);
    else if (report.protocol === 'http') lines.push(kind === 'request' ? `http request ${f('host')}` : `http response ${f('status')}`);
    else if (report.protocol === 'tls') lines.push(`tls client-hello ${f('sni')}`);
    else lines.push(`${report.protocol} ${kind}`);
  }
  return lines.sort();
}
