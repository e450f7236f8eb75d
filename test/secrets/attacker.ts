// A server that plays a host the API key must never reach: it records every request (all headers
// included) and answers 200 with a few bytes, so a client that follows it gets something back.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface Attacker {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

export async function startAttacker(host = '127.0.0.1'): Promise<Attacker> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '8' }).end(Buffer.from('stolen!!'));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The first non-internal IPv4 address of this machine (a non-loopback host), if it has one. */
export function lanAddress(): string | undefined {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nets = require('node:os').networkInterfaces() as Record<string, { family: string | number; internal: boolean; address: string }[]>;
  for (const list of Object.values(nets)) {
    for (const n of list ?? []) if ((n.family === 'IPv4' || n.family === 4) && !n.internal) return n.address;
  }
  return undefined;
}
