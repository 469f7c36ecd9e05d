/**
 * Plain-text tables and times for the admin commands' human output (`lig warrant list`,
 * `lig agency list`, `lig probe list`). Scripts use --json instead.
 */

/** Rows under a header, columns padded to their widest cell, two spaces apart. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** A time for people: ISO 8601 in UTC to the second; "-" for none. */
export function timeText(ms: bigint | number | undefined): string {
  if (ms === undefined) return '-';
  return new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A time for scripts: ISO 8601 in UTC with milliseconds; null for none. */
export function timeJson(ms: bigint | number | undefined): string | null {
  return ms === undefined ? null : new Date(Number(ms)).toISOString();
}
