// Process probes for the scale and download benchmarks: sampled RSS/heap peaks, event-loop delay,
// and sockets this process opened (Node's diagnostics channels see undici's connections too).

import dc from 'node:diagnostics_channel';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Samples memory every `everyMs` and keeps the peaks. */
export class MemorySampler {
  readonly baseline: MemorySample;
  peak: MemorySample;
  samples = 0;
  private timer: NodeJS.Timeout;

  constructor(everyMs = 50) {
    this.baseline = snapshot();
    this.peak = { ...this.baseline };
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    const s = snapshot();
    this.samples++;
    for (const k of Object.keys(s) as (keyof MemorySample)[]) if (s[k] > this.peak[k]) this.peak[k] = s[k];
  }

  stop(): { baseline: MemorySample; peak: MemorySample; end: MemorySample; samples: number } {
    clearInterval(this.timer);
    this.sample();
    return { baseline: this.baseline, peak: this.peak, end: snapshot(), samples: this.samples };
  }
}

function snapshot(): MemorySample {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** Event-loop delay histogram (ms figures). */
export class LoopDelay {
  private h: IntervalHistogram;
  constructor(resolutionMs = 10) {
    this.h = monitorEventLoopDelay({ resolution: resolutionMs });
    this.h.enable();
  }
  stop(): { p50: number; p99: number; max: number; mean: number } {
    this.h.disable();
    const ms = (ns: number) => ns / 1e6;
    return { p50: ms(this.h.percentile(50)), p99: ms(this.h.percentile(99)), max: ms(this.h.max), mean: ms(this.h.mean) };
  }
}

/** Counts TCP client sockets this process creates from now on. */
export class SocketCounter {
  count = 0;
  private readonly onSocket = () => {
    this.count++;
  };
  constructor() {
    dc.subscribe('net.client.socket', this.onSocket);
  }
  stop(): number {
    dc.unsubscribe('net.client.socket', this.onSocket);
    return this.count;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Lets garbage settle before a baseline, when the process runs with --expose-gc. */
export async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(100);
  }
}
