// Probe: how long refusing a 400 MB base64 string takes, and what it costs in memory (issue 14).
//   npx tsx bench/probes/oversized-string.ts
// Prints one line per case: a flat string (as JSON.parse or Buffer.toString make) and a data URI made
// by concatenation (as a flow usually builds it; V8 copies such a string whole the first time any of
// its characters is read). Each case runs in a fresh child process so that one cannot warm or
// pollute the other. The refusal must come from the string's length alone: a few ms, no RSS growth.
import { fork } from 'node:child_process';
import { classify } from '../../src/media/classify';

const MB = 1024 * 1024;
const CHARS = 400_000_000;
const LIMIT = 50 * MB;

async function probe(kind: 'flat' | 'concatenated'): Promise<void> {
  const b64 = Buffer.alloc((CHARS / 4) * 3).toString('base64'); // flat, CHARS characters
  const value = kind === 'flat' ? b64 : `data:video/mp4;base64,${b64}`;
  const rss = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  let code = 'accepted';
  try {
    await classify(value, { field: 'input_video', kind: 'video', maxBytes: LIMIT });
  } catch (err) {
    code = (err as { code?: string }).code ?? String(err);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const grown = (process.memoryUsage().rss - rss) / MB;
  console.log(
    `oversized-string: ${kind.padEnd(12)} ${value.length} chars, limit ${LIMIT / MB} MB -> ${code} in ${ms.toFixed(1)} ms, RSS +${grown.toFixed(1)} MiB`,
  );
}

const kind = process.argv[2];
if (kind === 'flat' || kind === 'concatenated') {
  probe(kind).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  void (async () => {
    for (const k of ['flat', 'concatenated']) {
      const child = fork(__filename, [k], { execArgv: ['--import', 'tsx'] });
      await new Promise((resolve) => child.on('exit', resolve));
    }
  })();
}
