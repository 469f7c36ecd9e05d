// Marks every generated file as such (ts-proto's own header names the tool versions only).
'use strict';
const fs = require('fs');
const path = require('path');
const root = path.join(__dirname, '..', 'src', 'gen');
const mark = '// Generated from proto/ by `npm run gen` (buf + ts-proto). Do not edit by hand.\n';
for (const file of walk(root)) {
  const text = fs.readFileSync(file, 'utf8');
  if (!text.startsWith(mark)) fs.writeFileSync(file, mark + text);
}
function* walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (p.endsWith('.ts')) yield p;
  }
}
