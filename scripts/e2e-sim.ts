// The simulator for scripts/e2e-kind.sh: runs next to the operator (same pod, loopback) and writes
// examples/ bound to itself (URLs, CAs, credentials) to the file named by its argument, for
// `kubectl apply`. Runs until SIGTERM.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startSimulator } from '../src/sim/index.ts';
import { bindToSimulator, loadExamples } from './lib/examples.ts';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: node scripts/e2e-sim.ts OUTPUT.yaml\n');
  process.exit(2);
}
const sim = await startSimulator({ knobs: { taskDurationMs: 200 } });
const docs = bindToSimulator(loadExamples(join(dirname(fileURLToPath(import.meta.url)), '..', 'examples')), sim);
writeFileSync(out, docs.map((d) => stringify(d)).join('---\n'));
console.log(`simulator running at ${sim.vcd.url}; examples bound to it in ${out}`);
process.once('SIGTERM', () => void sim.stop().then(() => process.exit(0)));
