// The node status of a submitting node: "3 submitted · ok 2c7f59ea" (green), "… · invalid
// input_image" (red), "3 submitted · 1 in progress" (blue) while uploads/submits are under way.
import type { Node } from 'node-red';
import type { Translate } from './runtime-text';

export class SubmitStatus {
  private submitted = 0;
  private active = 0;
  private last: { text: string; ok: boolean } | undefined;
  /** messages of this node waiting for the account's request budget, and how many wait ahead of each */
  private readonly waitingAhead = new Map<object, number>();

  constructor(
    private readonly node: Node,
    private readonly t: Translate,
    /** jobs and spend of the account, shown when a spending cap is set */
    private readonly usage?: () => string | undefined,
  ) {}

  waiting(token: object, ahead: number): void {
    this.waitingAhead.set(token, ahead);
    this.show();
  }

  done(token: object): void {
    if (this.waitingAhead.delete(token)) this.show();
  }

  started(): void {
    this.active++;
    this.show();
  }

  succeeded(requestId: string): void {
    this.active = Math.max(0, this.active - 1);
    this.submitted++;
    this.last = { text: this.t('status.last.ok', { id: requestId.slice(0, 8) }), ok: true };
    this.show();
  }

  /** `short` is the status text of the failure; `started` says whether started() was called */
  failed(short: string, started: boolean): void {
    if (started) this.active = Math.max(0, this.active - 1);
    this.last = { text: short, ok: false };
    // a failure shows at once, even while other messages are in progress
    this.show(true);
  }

  private show(lastFirst = false): void {
    if (this.waitingAhead.size > 0 && !lastFirst) {
      this.node.status({
        fill: 'yellow',
        shape: 'ring',
        text: this.t('status.waiting', { count: this.waitingAhead.size, ahead: Math.min(...this.waitingAhead.values()) }),
      });
      return;
    }
    if (this.active > 0 && !lastFirst) {
      this.node.status({
        fill: 'blue',
        shape: 'dot',
        text: this.t('status.working', { count: this.submitted, active: this.active }),
      });
      return;
    }
    if (!this.last) {
      this.node.status({});
      return;
    }
    this.node.status({
      fill: this.last.ok ? 'green' : 'red',
      shape: this.last.ok ? 'dot' : 'ring',
      text: this.withUsage(this.t('status.summary', { count: this.submitted, last: this.last.text })),
    });
  }

  private withUsage(text: string): string {
    let usage: string | undefined;
    try {
      usage = this.usage?.();
    } catch {
      usage = undefined;
    }
    return usage ? `${text} · ${usage}` : text;
  }
}
