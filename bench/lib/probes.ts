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

/**
 * Event-loop delay (ms). Node's histogram records the time between ticks of a `resolution` timer,
 * so an idle loop reads about the resolution itself: it is subtracted, leaving the lateness.
 */
export class LoopDelay {
  private h: IntervalHistogram;
  constructor(private readonly resolutionMs = 10) {
    this.h = monitorEventLoopDelay({ resolution: resolutionMs });
    this.h.enable();
  }
  stop(): { p50: number; p99: number; max: number; mean: number } {
    this.h.disable();
    const ms = (ns: number) => Math.max(0, ns / 1e6 - this.resolutionMs);
    return { p50: ms(this.h.percentile(50)), p99: ms(this.h.percentile(99)), max: ms(this.h.max), mean: ms(this.h.mean) };
  }
}

/** HTTP requests this process starts through undici, per second since `start`. */
export class RequestRate {
  readonly perSecond: number[] = [];
  private readonly start = Date.now();
  private readonly onRequest = () => {
    const s = Math.floor((Date.now() - this.start) / 1000);
    this.perSecond[s] = (this.perSecond[s] ?? 0) + 1;
  };
  constructor() {
    dc.subscribe('undici:request:create', this.onRequest);
  }
  stop(): { peak: number; total: number } {
    dc.unsubscribe('undici:request:create', this.onRequest);
    let peak = 0;
    let total = 0;
    for (const n of this.perSecond) {
      if (!n) continue;
      total += n;
      if (n > peak) peak = n;
    }
    return { peak, total };
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
