// The await node's status line: while jobs run, the one expected to finish first with its progress
// ("sadtalker 60 % · ~40 s", refreshed each second), in yellow with "· 2 waiting for budget" when
// the account's request budget holds their polls back; when none runs, how the last one ended, with
// Segmind's cost when it reports one ("completed · $0.184"). The numbers come from src/jobs/progress.ts.
import type { NodeStatus } from 'node-red';
import { formatCost, formatDuration, progressLine, reportedCost, type ProgressJob } from '../jobs/progress';
import type { Prior } from '../jobs/priors';
import { ThrottledStatus } from '../jobs/status-throttle';
import type { JobEnd } from '../jobs/waiter';

type Translate = (key: string, params?: Record<string, unknown>) => string;

export interface AwaitStatusOptions {
  apply(status: NodeStatus): void;
  t: Translate;
  /** the jobs being waited for now */
  jobs(): Iterable<ProgressJob>;
  belief(model: string | undefined): Prior;
  /** real ms per API second */
  unitMs: number;
  now?: () => number;
}

const TICK_MS = 1000;

export class AwaitStatus {
  /** the status is worked out when it is shown (at most once a second): it walks every job */
  private readonly status: ThrottledStatus<() => NodeStatus>;
  private ticker?: ReturnType<typeof setInterval>;
  private pending?: ReturnType<typeof setImmediate>;
  /** how the last job ended, shown while nothing runs */
  private last: NodeStatus = {};
  private closed = false;

  constructor(private readonly o: AwaitStatusOptions) {
    this.status = new ThrottledStatus<() => NodeStatus>((s) => o.apply(s()), TICK_MS);
  }

  /**
   * Jobs started or ended. Deferred to the next turn so that a job's end (resolved just after the
   * waiter reports the change) is known when the line is drawn.
   */
  update(): void {
    if (this.closed || this.pending) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      this.draw();
    });
  }

  /** A message left the node: remember how, for when nothing runs. */
  ended(end: JobEnd): void {
    const t = this.o.t;
    switch (end.kind) {
      case 'completed': {
        const cost = reportedCost(end.result);
        this.last = { fill: 'green', shape: 'dot', text: cost === undefined ? t('status.completed') : t('status.completedCost', { cost: formatCost(cost) }) };
        break;
      }
      case 'failed':
        this.last = { fill: 'red', shape: 'ring', text: t('status.failed', { code: end.error.code }) };
        break;
      case 'timeout':
        this.last = { fill: 'yellow', shape: 'ring', text: t('status.timedOut') };
        break;
      case 'stopped':
        this.last = { fill: 'grey', shape: 'ring', text: t('status.stopped') };
        break;
      default:
        return;
    }
    this.update();
  }

  close(): void {
    this.closed = true;
    this.status.close();
    if (this.ticker) clearInterval(this.ticker);
    if (this.pending) clearImmediate(this.pending);
    this.ticker = undefined;
    this.pending = undefined;
  }

  private draw(): void {
    if (this.closed) return;
    this.status.set(this.line);
  }

  private readonly line = (): NodeStatus => {
    const now = (this.o.now ?? Date.now)();
    const line = progressLine(this.o.jobs(), (m) => this.o.belief(m), now, this.o.unitMs);
    if (!line) {
      if (this.ticker) clearInterval(this.ticker);
      this.ticker = undefined;
      return this.last;
    }
    // progress moves with time alone: redraw each second while something runs
    if (!this.ticker) {
      this.ticker = setInterval(() => this.draw(), TICK_MS);
      this.ticker.unref?.();
    }
    const t = this.o.t;
    const text =
      t('status.progress', { model: line.model, percent: line.percent, remaining: formatDuration(line.remainingRealSeconds) }) +
      (line.more > 0 ? t('status.more', { count: line.more }) : '');
    // the account's request budget, not Segmind, is what holds these jobs back now
    if (line.waitingForBudget > 0) {
      return { fill: 'yellow', shape: 'ring', text: text + t('status.waitingForBudget', { count: line.waitingForBudget }) };
    }
    return { fill: 'blue', shape: 'dot', text };
  };
}
