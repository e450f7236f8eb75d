// Shared helpers of the sandbox tests: real HTTP over loopback with undici.
import { request } from 'undici';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox';
import { TestClock } from '../support/clock';

export { until } from '../support/wait';

export const KEY = 'SG_sandbox';
export const JSON_HEADERS = { 'x-api-key': KEY, 'content-type': 'application/json' };
export const SADTALKER = { input_image: 'https://example.com/face.png', input_audio: 'https://example.com/voice.mp3' };

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

async function answer(res: Awaited<ReturnType<typeof request>>): Promise<Answer> {
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json: parsed };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = JSON_HEADERS): Promise<Answer> {
  return answer(await request(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) }));
}

export async function get(url: string, headers: Record<string, string> = { 'x-api-key': KEY }): Promise<Answer> {
  return answer(await request(url, { method: 'GET', headers }));
}

export async function getBytes(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Answer['headers']; bytes: Buffer }> {
  const res = await request(url, { method: 'GET', headers });
  return { status: res.statusCode, headers: res.headers, bytes: Buffer.from(await res.body.arrayBuffer()) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A clock that stands still until the test moves it (sandbox option `clock: clock.now`). */
export class ManualClock extends TestClock {
  constructor() {
    super(true);
  }
}

/** Starts a sandbox for one describe block and closes it after. */
export function useSandbox(options: SandboxOptions = {}): () => Sandbox {
  let sb: Sandbox | undefined;
  before(async () => {
    sb = await startSandbox({ timeScale: 0.001, ...options });
  });
  afterEach(() => {
    sb?.reset();
  });
  after(async () => {
    await sb?.close();
  });
  return () => sb!;
}
