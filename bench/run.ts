// One command for every benchmark: `npm run bench` (builds, then runs this).
//   tsx bench/run.ts                 all parts (a, e, b, c, d), each in a fresh process
//   tsx bench/run.ts --only a,c      some parts; the others keep their last results
//   tsx bench/run.ts --quick         smaller sizes, for checking the harness itself
//   tsx bench/run.ts --report        no measuring: rewrite BENCHMARKS.md and the chart from bench/results
// Prints a table per part, stores each part's report in bench/results/<part>.json and rewrites
// BENCHMARKS.md and bench/chart.svg from all stored reports.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PartId, PartReport } from './lib/part';
import { forkTs, ROOT } from './lib/proc';
import { PART_TITLES, writeChart, writeMarkdown } from './lib/report';
import { textTable } from './lib/table';

const ALL: PartId[] = ['a', 'e', 'b', 'c', 'd'];
const RESULTS = path.join(ROOT, 'bench', 'results');

function parseArgs(argv: string[]): { parts: PartId[]; quick: boolean } {
  let parts = argv.includes('--report') ? [] : ALL;
  const quick = argv.includes('--quick');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = a.startsWith('--only=') ? a.slice(7) : a === '--only' ? argv[++i] : undefined;
    if (value === undefined) continue;
    const wanted = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const bad = wanted.filter((w) => !ALL.includes(w as PartId));
    if (bad.length || !wanted.length) {
      throw new Error(`--only: expected a comma-separated list of a, b, c, d, e; got ${JSON.stringify(value)}`);
    }
    parts = ALL.filter((p) => wanted.includes(p));
  }
  return { parts, quick };
}

function runPart(id: PartId, quick: boolean): Promise<PartReport> {
  const started = Date.now();
  // --expose-gc lets memory baselines be taken after a collection
  const child = forkTs('bench/worker.ts', quick ? [id, '--quick'] : [id], ['--expose-gc']);
  return new Promise((resolve) => {
    let report: PartReport | undefined;
    child.on('message', (m: { report?: PartReport }) => {
      if (m?.report) report = m.report;
    });
    child.on('exit', (code, signal) => {
      if (report) return resolve(report);
      resolve({
        part: id,
        title: PART_TITLES[id],
        startedAt: new Date(started).toISOString(),
        durationSeconds: (Date.now() - started) / 1000,
        method: [],
        tables: [],
        targets: [],
        notes: [],
        data: null,
        error: `the benchmark process exited with code ${code}${signal ? ` (signal ${signal})` : ''} before reporting; see its output above`,
      });
    });
  });
}

function loadStored(id: PartId): PartReport | undefined {
  const file = path.join(RESULTS, `${id}.json`);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PartReport;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { parts, quick } = parseArgs(process.argv.slice(2));
  mkdirSync(RESULTS, { recursive: true });
  let failed = false;
  for (const id of parts) {
    console.log(`\n=== ${PART_TITLES[id]} ===`);
    const report = await runPart(id, quick);
    // a quick run checks the harness; it must not replace real figures
    if (!quick) writeFileSync(path.join(RESULTS, `${id}.json`), JSON.stringify(report, null, 2));
    for (const t of report.tables) console.log('\n' + textTable(t));
    if (report.targets.length) {
      console.log('');
      for (const t of report.targets) console.log(`${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${t.value} (target ${t.limit})`);
    }
    for (const n of report.notes) console.log(`note: ${n}`);
    if (report.error) {
      failed = true;
      console.log(`ERROR: ${report.error}`);
    }
    console.log(`(${report.durationSeconds.toFixed(0)} s)`);
  }
  if (quick) {
    console.log('\n--quick: BENCHMARKS.md and bench/results/ left unchanged');
  } else {
    const reports: Partial<Record<PartId, PartReport>> = {};
    for (const id of ALL) reports[id] = loadStored(id);
    const chart = writeChart(reports.a);
    const md = writeMarkdown(reports, 'npm run bench');
    console.log(`\nwrote ${path.relative(ROOT, md)}${chart ? ` and ${path.relative(ROOT, chart)}` : ''}`);
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
