/**
 * From YAML text (or a file) to a validated config: syntax errors become ConfigSyntaxError
 * with line and column; schema issues become one ConfigErrors holding a ConfigError per
 * bad field, sorted by line, each message ending with where it is ("lig.yaml:12").
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Document, LineCounter, isMap, isNode, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import { ConfigError, ConfigErrors, ConfigReadError, ConfigSyntaxError } from '../errors';
import { Checker, INVALID, Issue, Schema, formatPath, isAbsent } from './schema';

/** Largest config file read: far above any real one, small enough to refuse a wrong file. */
export const MAX_CONFIG_BYTES = 1 << 20;
/** Most YAML alias expansions allowed (guards against "billion laughs" documents). */
export const MAX_YAML_ALIASES = 100;

/** The source offset of the node (or key) an issue points at, or of its nearest ancestor. */
function locate(doc: Document, issue: Issue): number | undefined {
  let node: unknown = doc.contents;
  let at = isNode(node) ? node.range?.[0] : undefined;
  for (let i = 0; i < issue.path.length; i++) {
    const seg = issue.path[i]!;
    const last = i === issue.path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const key = pair.key;
      if (last && issue.atKey && isNode(key)) return key.range?.[0] ?? at;
      node = pair.value;
      const start = isNode(node) && node.range ? node.range[0] : isNode(key) ? key.range?.[0] : undefined;
      if (start !== undefined) at = start;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      if (isNode(node) && node.range) at = node.range[0];
      else break;
    } else break;
  }
  return at;
}

/** Parses YAML and checks it against `schema`. `baseDir` resolves relative file paths. */
export function parseConfigText<T>(schema: Schema<T>, text: string, source?: string, baseDir?: string): T {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const bad = doc.errors[0];
  if (bad) {
    // The message of a YAML error does not quote the source line, so it cannot leak values.
    const { line, col } = lines.linePos(bad.pos[0]);
    const atEnd = bad.pos[0] >= text.length ? ' (at the end of the file)' : '';
    throw new ConfigSyntaxError(bad.message.split('\n')[0]! + atEnd, line, col, source);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    throw new ConfigSyntaxError(e instanceof Error ? e.message : String(e), 1, 1, source);
  }
  const ctx = new Checker(baseDir);
  const where = (offset: number | undefined) => {
    if (offset === undefined) return { line: 1, text: source ? ` (${source})` : '' };
    const { line } = lines.linePos(offset);
    return { line, text: ` (${source ?? 'line'}${source ? ':' : ' '}${line})` };
  };
  if (isAbsent(value)) {
    throw new ConfigErrors([new ConfigError(formatPath([]), `the file is empty: expected ${schema.expected}`)], source);
  }
  const result = schema.check(value, [], ctx);
  if (ctx.issues.length > 0 || result === INVALID) {
    const located = ctx.issues.map((issue, order) => ({ issue, order, ...where(locate(doc, issue)) }));
    located.sort((a, b) => a.line - b.line || a.order - b.order);
    const errors = located.map((l) => new ConfigError(formatPath(l.issue.path), l.issue.message + l.text));
    throw new ConfigErrors(errors, source);
  }
  return result;
}

/** Reads a config file and checks it; relative paths in it are resolved from its directory. */
export function loadConfigFile<T>(schema: Schema<T>, file: string): T {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new ConfigReadError(file, 'is not a regular file');
    if (st.size > MAX_CONFIG_BYTES) throw new ConfigReadError(file, `is larger than ${MAX_CONFIG_BYTES} bytes (MAX_CONFIG_BYTES): is this the right file?`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof ConfigReadError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigReadError(file, code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot be read (${code ?? String(e)})`, e);
  }
  return parseConfigText(schema, text, file, dirname(resolve(file)));
}
