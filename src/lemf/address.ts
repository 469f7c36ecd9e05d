/** `ADDR:PORT` listen addresses for the LEMF (`127.0.0.1:0`, `[::1]:4000`, `0.0.0.0:4000`). Pure. */
import { isIP } from 'node:net';
import { UsageError } from '../errors';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `ADDR:PORT`; ADDR an IPv4 address, `[IPv6]` or a host name; PORT 0..65535 (0: any free port). */
export function parseListenAddress(text: string, flag = 'address'): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = m ? Number(m[3]) : NaN;
  if (!m || host === undefined || port > 65535 || (m[1] !== undefined && isIP(m[1]) !== 6)) {
    throw new UsageError(`${flag} must be ADDR:PORT (e.g. 127.0.0.1:0 or [::1]:4000), got "${text}"`);
  }
  return { host, port };
}

/** `host:port`, with brackets around an IPv6 host. */
export function formatAddress(a: ListenAddress): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
