// Runs one benchmark part in this (fresh) process and hands its report to bench/run.ts over IPC.
// Usage (normally started by run.ts): node --import tsx bench/worker.ts <a|b|c|d|e> [--quick] [--out report.json]
import { writeFileSync } from 'node:fs';
import type { PartId, PartReport } from './lib/part';

const parts: Record<PartId, () => Promise<{ run(opts: { quick: boolean }): Promise<PartReport> }>> = {
  a: () => import('./parts/polling'),
  b: () => import('./parts/rate-limits'),
  c: () => import('./parts/scale'),
  d: () => import('./parts/large-result'),
  e: () => import('./parts/robustness'),
};

async function main(): Promise<void> {
  const id = process.argv[2] as PartId;
  const load = parts[id];
  if (!load) throw new Error(`bench worker: unknown part ${JSON.stringify(id)}; expected a, b, c, d or e`);
  const mod = await load();
  const report = await mod.run({ quick: process.argv.includes('--quick') });
  const out = process.argv.indexOf('--out');
  if (out > 0 && process.argv[out + 1]) writeFileSync(process.argv[out + 1], JSON.stringify(report, null, 2));
  else if (process.send) await new Promise<void>((resolve) => process.send!({ report }, () => resolve()));
  else console.log(JSON.stringify(report, null, 2));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
