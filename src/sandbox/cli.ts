#!/usr/bin/env node
// `npm run sandbox -- --port 8990`: a Segmind-compatible server for trying the nodes without an
// account. Dependency-free on purpose (node:util parseArgs) so the built file runs anywhere.

import { parseArgs } from 'node:util';
import { startSandbox } from './server';
import type { SandboxOptions } from './types';

const HELP = `Usage: segmind-sandbox [options]
  --host <host>          listen address (default 127.0.0.1)
  --port <n>             API port (default 8990; 0 = any free port)
  --files-port <n>       port of the output files origin (default 0 = any free port)
  --files-host <host>    address of the output files origin (default 127.0.0.2 when the
                         host is 127.0.0.1 and the system allows it, else the host)
  --key <key>            accepted x-api-key; repeatable (default SG_sandbox)
  --time-scale <x>       multiplies every API-time duration (default 1; 0.01 = 100x faster)
  --rpm <n>              requests per minute per key (default unlimited)
  --retention <s>        seconds a request stays queryable (default 3600)
  --sigma <x>            spread of job durations (default 0.36; 0 = exact typical times)
  --seed <n>             seed of job durations (default 1)
  --output-bytes <n>     size of the served output (sample MP4 padded with zeros)
  --output-via <where>   files | api | api-redirect (default files)
  --credits <n>          account credits; submits once they are used up get 406 (default unlimited)
  --latency <ms>         every API answer leaves this long after its request was handled (default 0)
  --quiet                do not log requests
  -h, --help             this text`;

function num(name: string, value: string | undefined, check: (n: number) => boolean, allowed: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new Error(`--${name}: expected ${allowed}, got "${value}"`);
  return n;
}

export function optionsFromArgs(argv: string[]): SandboxOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'files-port': { type: 'string' },
      'files-host': { type: 'string' },
      credits: { type: 'string' },
      latency: { type: 'string' },
      key: { type: 'string', multiple: true },
      'time-scale': { type: 'string' },
      rpm: { type: 'string' },
      retention: { type: 'string' },
      sigma: { type: 'string' },
      seed: { type: 'string' },
      'output-bytes': { type: 'string' },
      'output-via': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const port = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535;
  const via = values['output-via'];
  if (via !== undefined && via !== 'files' && via !== 'api' && via !== 'api-redirect') {
    throw new Error(`--output-via: expected files, api or api-redirect, got "${via}"`);
  }
  return {
    host: values.host ?? '127.0.0.1',
    port: num('port', values.port, port, 'a port 0-65535') ?? 8990,
    filesPort: num('files-port', values['files-port'], port, 'a port 0-65535') ?? 0,
    filesHost: values['files-host'],
    apiKeys: values.key && values.key.length > 0 ? values.key : ['SG_sandbox'],
    timeScale: num('time-scale', values['time-scale'], (n) => n > 0, 'a number > 0'),
    rateLimitPerMinute: num('rpm', values.rpm, (n) => Number.isInteger(n) && n > 0, 'a positive integer') ?? null,
    retentionSeconds: num('retention', values.retention, (n) => n > 0, 'a number of seconds > 0'),
    durationSigma: num('sigma', values.sigma, (n) => n >= 0, 'a number >= 0'),
    seed: num('seed', values.seed, Number.isInteger, 'an integer'),
    outputBytes: num('output-bytes', values['output-bytes'], (n) => Number.isSafeInteger(n) && n >= 0, 'a byte count >= 0'),
    outputVia: via,
    credits: num('credits', values.credits, () => true, 'a number') ?? null,
    latencyMs: num('latency', values.latency, (n) => n >= 0, 'a number of ms >= 0'),
    quiet: values.quiet ?? false,
  };
}

async function main(): Promise<void> {
  let options: SandboxOptions | 'help';
  try {
    options = optionsFromArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`segmind-sandbox: ${(err as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(HELP);
    return;
  }
  const sandbox = await startSandbox(options);
  console.log(`Segmind sandbox API:  ${sandbox.url}`);
  console.log(`Upload URL:           ${sandbox.uploadUrl}`);
  console.log(`Files origin:         ${sandbox.filesUrl}`);
  console.log(`API key:              ${sandbox.apiKeys.join(', ')}`);
  console.log(`Time scale:           ${options.timeScale ?? 1}   rate limit: ${options.rateLimitPerMinute ? `${options.rateLimitPerMinute} rpm` : 'none'}`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`segmind-sandbox: ${(err as Error).message}`);
    process.exit(1);
  });
}
