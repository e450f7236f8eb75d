// An HTTP server in the test process that Node-RED reports each delivery to (POST JSON).
import { createServer, type Server } from 'node:http';

export interface Report {
  requestId: string;
  outcome: string;
  [key: string]: unknown;
}

export class Collector {
  readonly reports: Report[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          this.reports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Report);
        } catch {
          this.reports.push({ requestId: '?', outcome: 'unparseable' });
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/delivered`;
  }

  /** resolves when `n` reports have arrived */
  async waitFor(n: number, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.reports.length < n) {
      if (Date.now() > until) throw new Error(`only ${this.reports.length} of ${n} deliveries within ${timeoutMs} ms: ${JSON.stringify(this.reports)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
