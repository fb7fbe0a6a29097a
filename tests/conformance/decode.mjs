// decode.mjs: reads JSON lines {"kind":"tcf"|"gpp","string":...,"model":...} of strings that
// consentry encoded (consentry_signals_conformance emit), decodes each string with the IAB's
// reference packages and compares what they read with the model, field by field (model.mjs).
//
//   node decode.mjs FILE
//
// Exits 1 naming the first mismatches (line, field, expected, got), 0 printing the counts.
import { readFileSync } from 'node:fs';
import { decodeGppString, decodeTcString, diff } from './model.mjs';

/** MAX_SHOWN is how many mismatches are printed at most. */
const MAX_SHOWN = 20;

/** main checks every line of the file named on the command line. */
function main() {
  const file = process.argv[2];
  if (!file || process.argv.length !== 3) {
    process.stderr.write('usage: node decode.mjs FILE\n');
    process.exit(2);
  }
  const lines = readFileSync(file, 'utf8').split('\n');
  const counts = { tcf: 0, gpp: 0 };
  const mismatches = [];
  let badLines = 0;
  lines.forEach((text, index) => {
    if (text.trim() === '') return;
    const line = index + 1;
    let entry;
    try {
      entry = JSON.parse(text);
    } catch (err) {
      mismatches.push({ line, field: '(json)', expected: 'a JSON object', got: err.message });
      badLines++;
      return;
    }
    const { kind, string, model } = entry;
    if (kind !== 'tcf' && kind !== 'gpp') {
      mismatches.push({ line, field: 'kind', expected: '"tcf" or "gpp"', got: JSON.stringify(kind) });
      badLines++;
      return;
    }
    counts[kind]++;
    let decoded;
    try {
      decoded = kind === 'tcf' ? decodeTcString(string) : decodeGppString(string);
    } catch (err) {
      mismatches.push({
        line,
        field: '(reference decode)',
        expected: 'a string the reference reads',
        got: `${err.name}: ${err.message}`,
        string,
      });
      badLines++;
      return;
    }
    const differences = diff(model, decoded);
    if (differences.length > 0) badLines++;
    for (const d of differences) mismatches.push({ line, string, ...d });
  });
  const total = counts.tcf + counts.gpp;
  if (mismatches.length > 0) {
    for (const m of mismatches.slice(0, MAX_SHOWN)) {
      process.stderr.write(`${file}:${m.line}: ${m.field}: expected ${m.expected}, got ${m.got}\n`);
      if (m.string) {
        const shown = m.string.length > 300 ? m.string.slice(0, 300) + '...' : m.string;
        process.stderr.write(`  string: ${shown}\n`);
      }
    }
    if (mismatches.length > MAX_SHOWN) process.stderr.write(`... and ${mismatches.length - MAX_SHOWN} more\n`);
    process.stderr.write(`decode.mjs: ${badLines} of ${total} strings read differently by the reference ` +
      `(${mismatches.length} mismatched fields)\n`);
    process.exit(1);
  }
  if (total === 0) {
    process.stderr.write(`decode.mjs: ${file} holds no strings\n`);
    process.exit(1);
  }
  process.stdout.write(`decode.mjs: the reference read all ${total} strings consentry encoded as their models ` +
    `(${counts.tcf} TC strings, ${counts.gpp} GPP strings)\n`);
}

main();
