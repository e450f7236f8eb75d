// An HTTP server in the test process that the deployed flow reports to (POST /collect/<kind>,
// JSON body) and that serves the fixture media the flow sends to the model (GET /fixtures/<file>).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from '../../../scripts/compat/targets';

export interface Collected {
  kind: string;
  body: unknown;
  at: number;
}

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
const MIME: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
};

export class Collector {
  readonly received: Collected[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<Collector> {
    let self: Collector | undefined;
    const server = http.createServer((req, res) => self?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new Collector(server, `http://127.0.0.1:${port}`);
    return self;
  }

  fixtureUrl(file: string): string {
    return `${this.url}/fixtures/${file}`;
  }

  collectUrl(kind: string): string {
    return `${this.url}/collect/${kind}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    const fixture = /^\/fixtures\/([\w.-]+)$/.exec(url);
    if (req.method === 'GET' && fixture) {
      const file = path.join(FIXTURES, fixture[1]);
      if (!fs.existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      const data = fs.readFileSync(file);
      res.writeHead(200, { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream', 'content-length': data.length });
      res.end(data);
      return;
    }
    const collect = /^\/collect\/([\w-]+)$/.exec(url);
    if (req.method === 'POST' && collect) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep the raw text: the assertion that reads it will show what arrived
        }
        this.received.push({ kind: collect[1], body, at: Date.now() });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w();
      });
      return;
    }
    res.writeHead(404).end();
  }

  /** Resolves with the first collected item of one of these kinds, received at index from or
   * later. Waiting for every outcome of a run, not only the hoped-for one, fails fast. */
  async waitFor(kinds: string | string[], timeoutMs: number, from = 0): Promise<Collected> {
    const wanted = Array.isArray(kinds) ? kinds : [kinds];
    const kind = wanted.join("' or '");
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.slice(from).find((c) => wanted.includes(c.kind));
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.received.slice(from).map((c) => `${c.kind}: ${JSON.stringify(c.body).slice(0, 400)}`);
        throw new Error(`nothing collected as '${kind}' within ${timeoutMs} ms; received instead: ${seen.join('\n') || 'nothing'}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
