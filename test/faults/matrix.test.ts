// The fault matrix through the real node chain: model node -> await node in the Node-RED runtime,
// against a sandbox that injects one fault per row (at the submit, a status poll, the result fetch
// or the output download). Every row asserts where the message left (an await output, or Catch for
// the model node), that the text tells the user what happened, how many POSTs the sandbox saw
// (never a duplicate submit), and that every input message got exactly one done().
//
// Each row has its own sandbox, config node, model node and await node, so all rows run at once:
// the suite costs about as long as its slowest row (the 30 s headers timeout, not scaled).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RequestFault, Sandbox, SandboxOptions } from '../../src/sandbox';
import { Collector, ROOT, builtSet, chainSandbox, freshId, helper, safeText, sleep, tempDir, type Event } from '../support/chain';

const KEY = 'SG_faults_3c9e1a';
const SAMPLE = fs.readFileSync(path.join(ROOT, 'assets/sample.mp4'));
/** how long after its ending a row waits for anything more (a duplicate output, a second done) */
const SETTLE_MS = 300;
/** API seconds last this many real seconds: sadtalker's 107.5 s take 107.5 ms */
const ROW_SCALE = 0.001;
/**
 * The await node's timeout, API seconds: 10,000 (10 s real) leaves a loaded machine, running every row
 * at once, time for retries; a row about timing out sets its own. The sandbox keeps requests longer
 * than that (retention 1e7 API s) unless a row is about Segmind's hour.
 */
const ROW_TIMEOUT = 10_000;

type Ending = 'completed' | 'failed' | 'timedOut' | 'caught';

interface RowContext {
  sb: Sandbox;
  events: Event[];
  /** the message as it ended (the output or the caught message) */
  msg: any;
  folder: string;
}

interface Row {
  name: string;
  /** which node the message enters: a sadtalker node (default) or the generic node with msg.model */
  entry?: 'model' | 'generic';
  /** the await node's result mode */
  mode?: 'url' | 'buffer' | 'file';
  sandbox?: Partial<SandboxOptions>;
  msg?: Record<string, unknown>;
  setup?(sb: Sandbox): void;
  ending: Ending;
  /** the user-facing text (msg.error.message, or msg.segmind.message on timed out) must match all */
  text: RegExp[];
  /** POST /v2/... the sandbox saw */
  posts: number;
  /** jobs the sandbox created (undefined: not asserted) */
  jobs?: number;
  /** msg.error.code on the failed output (or the caught message) */
  code?: string;
  /** caught rows: msg.error.resubmitSafe, true only where Segmind certainly created no job */
  safe?: boolean;
  /** overrides of the row's config node (e.g. an endpoint that does not resolve) */
  config?: Record<string, unknown>;
  check?(ctx: RowContext): void;
  /** real ms the row may take */
  slow?: boolean;
}

const AMBIGUOUS = /may or may not have been created .*not submitted again/;
const submitFault = (kind: RequestFault['kind'], extra: Partial<RequestFault> = {}) => (sb: Sandbox) =>
  sb.fault({ endpoint: 'submit', kind, ...extra });
const fault = (endpoint: RequestFault['endpoint'], kind: RequestFault['kind'], times = 1) => (sb: Sandbox) =>
  sb.fault({ endpoint, kind, times });

/** Gap (ms) between the first and the second submit the sandbox saw. */
function submitGap(sb: Sandbox): number {
  const s = sb.requests.filter((r) => r.endpoint === 'submit');
  assert.equal(s.length, 2, 'two submits: the refused one and the retry');
  return s[1].time - s[0].time;
}

function downloads(sb: Sandbox): number {
  return sb.count({ endpoint: 'output' });
}

const rows: Row[] = [
  // ---- the submit (model node): refused or ambiguous -> Catch, never re-sent ----
  {
    name: 'submit 401 -> Catch: the key was rejected',
    safe: true,
    code: 'auth',
    setup: submitFault({ type: 'http', status: 401, body: { error: 'Invalid API key' } }),
    ending: 'caught',
    text: [/rejected the API key \(HTTP 401\)/, /Invalid API key/, /config node/],
    posts: 1,
    jobs: 0,
  },
  {
    name: 'submit 403 -> Catch: access refused',
    safe: true,
    setup: submitFault({ type: 'http', status: 403, body: { error: 'Forbidden' } }),
    ending: 'caught',
    text: [/refused access .*\(HTTP 403\)/],
    posts: 1,
    jobs: 0,
  },
  {
    name: 'submit 404 unknown model -> Catch naming the model',
    safe: true,
    entry: 'generic',
    msg: { model: 'ghost-model' },
    sandbox: { unknownModels: ['ghost-model'] },
    ending: 'caught',
    text: [/does not know model 'ghost-model' \(HTTP 404\)/, /slug/],
    posts: 1,
    jobs: 0,
  },
  {
    name: 'submit 404 for a model node\'s own slug -> Catch naming the model',
    safe: true,
    setup: submitFault({ type: 'http', status: 404, body: { error: 'Model not found' } }),
    ending: 'caught',
    text: [/does not know model 'sadtalker' \(HTTP 404\)/, /Model not found/],
    posts: 1,
    jobs: 0,
  },
  {
    name: 'submit 406 -> Catch: credits',
    safe: true,
    setup: submitFault({ type: 'http', status: 406, body: { error: 'Insufficient credits' } }),
    ending: 'caught',
    text: [/\(HTTP 406\)/, /Insufficient credits/, /credits/],
    posts: 1,
    jobs: 0,
  },
  {
    name: 'submit 410 retired model -> Catch naming the model',
    safe: true,
    entry: 'generic',
    msg: { model: 'old-model' },
    sandbox: { retiredModels: ['old-model'] },
    ending: 'caught',
    text: [/retired model 'old-model' \(HTTP 410\)/, /another model/],
    posts: 1,
    jobs: 0,
  },
  {
    name: 'submit 410 for a model node\'s own slug -> Catch: retired',
    safe: true,
    setup: submitFault({ type: 'http', status: 410, body: { error: 'Model retired' } }),
    ending: 'caught',
    text: [/retired model 'sadtalker' \(HTTP 410\)/],
    posts: 1,
    jobs: 0,
  },
  {
    name: 'submit 400 -> Catch with Segmind\'s text',
    safe: true,
    setup: submitFault({ type: 'http', status: 400, body: { error: 'input_image could not be decoded' } }),
    ending: 'caught',
    text: [/invalid \(HTTP 400\)/, /input_image could not be decoded/],
    posts: 1,
    jobs: 0,
  },
  ...[500, 502, 503, 504].map(
    (status): Row => ({
      name: `submit ${status} -> Catch: may or may not exist, not re-sent`,
      safe: false,
      code: 'server',
      setup: submitFault({ type: 'http', status, body: { error: `upstream ${status}` } }),
      ending: 'caught',
      text: [new RegExp(`server error \\(HTTP ${status}\\)`), AMBIGUOUS],
      posts: 1,
      jobs: 0,
    }),
  ),
  {
    name: 'submit 429 without Retry-After -> retried at the reset time, one job',
    setup: submitFault({ type: 'rate_limit', resetInSeconds: 150 }),
    ending: 'completed',
    text: [],
    posts: 2,
    jobs: 1,
    check: ({ sb }) => assert.ok(submitGap(sb) >= 140, `waited for x-rate-limit-reset-at-utc (gap ${submitGap(sb)} ms)`),
  },
  {
    name: 'submit 429 with Retry-After -> retried after the wait, one job',
    setup: submitFault({ type: 'rate_limit', retryAfterSeconds: 200, resetInSeconds: 1 }),
    ending: 'completed',
    text: [],
    posts: 2,
    jobs: 1,
    check: ({ sb }) => assert.ok(submitGap(sb) >= 190, `waited for Retry-After (gap ${submitGap(sb)} ms)`),
  },
  {
    name: 'submit: connection reset before the request was handled -> Catch, not re-sent',
    safe: false,
    setup: submitFault({ type: 'reset_before' }),
    ending: 'caught',
    text: [/connection/, AMBIGUOUS],
    posts: 1,
    jobs: 0,
  },
  {
    name: 'submit: connection reset after the job was created -> Catch, not re-sent',
    safe: false,
    code: 'network',
    setup: submitFault({ type: 'reset_after' }),
    ending: 'caught',
    text: [/connection/, AMBIGUOUS],
    posts: 1,
    jobs: 1,
  },
  {
    name: 'submit: headers never arrive -> Catch after the headers timeout, not re-sent',
    safe: false,
    setup: submitFault({ type: 'slow_headers', delayMs: 600_000 }),
    ending: 'caught',
    text: [/did not answer within 30 s/, AMBIGUOUS],
    posts: 1,
    // as on a real server the job exists (and is billed) though its answer never came
    jobs: 1,
    slow: true,
  },
  {
    name: 'submit: malformed JSON -> Catch, not re-sent',
    safe: false,
    code: 'invalid_response',
    setup: submitFault({ type: 'malformed_json' }),
    ending: 'caught',
    text: [/not valid JSON/, AMBIGUOUS],
    posts: 1,
  },
  {
    name: 'submit: 405 HTML page -> Catch: the URL is wrong',
    safe: true,
    setup: submitFault({ type: 'html_405' }),
    ending: 'caught',
    text: [/HTTP 405/, /HTML page/, /base URL/],
    posts: 1,
    jobs: 0,
  },
  {
    // RFC 6761: .invalid never resolves, so this needs no network; retried like a refused connection
    name: 'submit: the API host name does not resolve (DNS) -> Catch: nothing was sent, safe to resubmit',
    // a remote host runs in real time (time scale 1): the retries take a few seconds
    config: { baseUrl: 'https://api.segmind-faults.invalid', uploadUrl: 'https://upload.segmind-faults.invalid/upload-asset', timeScale: 1 },
    ending: 'caught',
    safe: true,
    code: 'not_sent',
    text: [/^Could not connect to https:\/\/api\.segmind-faults\.invalid for the submit to model 'sadtalker'/, /\(DNS\)|EAI_AGAIN/, /\(5 attempts\)/, /Nothing was sent\.$/],
    posts: 0,
    jobs: 0,
  },
  {
    name: 'submit: connection refused -> Catch: nothing was sent, safe to resubmit',
    config: { baseUrl: 'http://127.0.0.1:1', uploadUrl: 'http://127.0.0.1:1/upload-asset' },
    ending: 'caught',
    safe: true,
    code: 'not_sent',
    text: [/Could not connect to http:\/\/127\.0\.0\.1:1 /, /connection refused/, /Nothing was sent\.$/],
    posts: 0,
    jobs: 0,
  },

  // ---- polling (await node) ----
  {
    name: 'FAILED (422) -> failed output with Segmind\'s text',
    setup: (sb) => sb.scriptJob({ outcome: 'fail', error: 'No face detected in input_image' }),
    ending: 'failed',
    code: 'failed',
    text: [/FAILED: No face detected in input_image/],
    posts: 1,
    check: ({ msg }) => {
      assert.equal(msg.error.httpStatus, 422);
      assert.equal(msg.segmind.status, 'FAILED');
    },
  },
  {
    name: 'expiry: 404 during polling after Segmind\'s hour -> failed output, expired',
    // a job that never ends, awaited longer than the retention (3600 API s = 3.6 s real)
    sandbox: { retentionSeconds: 3600 },
    setup: (sb) => sb.scriptJob({ outcome: 'never' }),
    msg: { timeout: 7200 },
    ending: 'failed',
    code: 'expired',
    text: [/1 hour/, /HTTP 404|no longer/],
    posts: 1,
    slow: true,
    check: ({ sb }) => assert.equal(sb.requests.filter((r) => r.endpoint === 'status').at(-1)?.status, 404),
  },
  {
    name: 'status 429 without Retry-After -> retried, completed',
    setup: fault('status', { type: 'rate_limit', resetInSeconds: 50 }),
    ending: 'completed',
    text: [],
    posts: 1,
  },
  {
    name: 'status 429 with Retry-After -> retried, completed',
    setup: fault('status', { type: 'rate_limit', retryAfterSeconds: 50, resetInSeconds: 1 }),
    ending: 'completed',
    text: [],
    posts: 1,
  },
  ...[500, 502, 503, 504].map(
    (status): Row => ({
      name: `status ${status} twice -> retried, completed`,
      setup: fault('status', { type: 'http', status, body: { error: `upstream ${status}` } }, 2),
      ending: 'completed',
      text: [],
      posts: 1,
      check: ({ sb }) => assert.equal(sb.requests.filter((r) => r.endpoint === 'status' && r.status === status).length, 2),
    }),
  ),
  {
    name: 'result 500 once -> retried, completed',
    setup: fault('result', { type: 'http', status: 500 }),
    ending: 'completed',
    text: [],
    posts: 1,
  },
  {
    // the status endpoint said COMPLETED, the result endpoint not yet: not a failure, poll on
    name: 'result answers PROCESSING once -> back to polling, completed',
    setup: fault('result', { type: 'http', status: 200, body: { status: 'PROCESSING', request_id: 'x' } }),
    ending: 'completed',
    text: [],
    posts: 1,
    check: ({ sb }) => {
      assert.equal(sb.count({ endpoint: 'result' }), 2, 'the result was fetched again');
      const polls = sb.requests.filter((r) => r.endpoint === 'status' || r.endpoint === 'result').map((r) => r.endpoint);
      assert.equal(polls.at(-2), 'status', `polled the status again before the second result fetch: ${polls.join(' ')}`);
    },
  },
  {
    name: 'status: connection reset before handling -> retried, completed',
    setup: fault('status', { type: 'reset_before' }),
    ending: 'completed',
    text: [],
    posts: 1,
  },
  {
    name: 'status: connection reset after handling -> retried, completed',
    setup: fault('status', { type: 'reset_after' }),
    ending: 'completed',
    text: [],
    posts: 1,
  },
  {
    name: 'status: headers never arrive -> retried after the headers timeout, completed',
    // the 30 s headers timeout is real time, i.e. 30000 API s here: longer timeout, or the message times out
    msg: { timeout: 86400 },
    setup: fault('status', { type: 'slow_headers', delayMs: 600_000 }),
    ending: 'completed',
    text: [],
    posts: 1,
    slow: true,
  },
  {
    // a poll is always safe to repeat: one garbled answer must not throw away a job that will complete (and be billed)
    name: 'status: malformed JSON once -> retried, completed',
    setup: fault('status', { type: 'malformed_json' }),
    ending: 'completed',
    text: [],
    posts: 1,
  },
  {
    // ... but an API that only ever answers garbage ends the message on the failed output, not at the timeout
    name: 'status: malformed JSON every time -> failed output, not polled for ever',
    setup: fault('status', { type: 'malformed_json' }, Infinity),
    msg: { timeout: 86400 },
    ending: 'failed',
    code: 'invalid_response',
    text: [/status check/, /not valid JSON/],
    posts: 1,
    check: ({ sb }) => assert.ok(sb.count({ endpoint: 'status' }) <= 10, `gave up after a few polls (${sb.count({ endpoint: 'status' })})`),
  },
  {
    name: 'status: 405 HTML page -> failed output: the URL is wrong',
    setup: fault('status', { type: 'html_405' }),
    ending: 'failed',
    code: 'bad_request',
    text: [/HTTP 405/, /HTML page/, /base URL/],
    posts: 1,
  },
  {
    name: 'unknown status string -> not final, polled on, completed',
    setup: (sb) => sb.scriptJob({ outcome: 'unknown_status', statusString: 'STARTING' }),
    ending: 'completed',
    text: [],
    posts: 1,
    check: ({ sb }) => {
      assert.ok(sb.requests.some((r) => r.endpoint === 'status'), 'polled');
    },
  },
  {
    name: 'a job that never finishes -> timed-out output after the per-message timeout',
    setup: (sb) => sb.scriptJob({ outcome: 'never' }),
    msg: { timeout: 300 },
    ending: 'timedOut',
    text: [/Still not finished after 300 s/, /may still complete/, /one hour/],
    posts: 1,
    check: ({ msg }) => assert.equal(msg.segmind.timedOut, true),
  },

  // ---- the output download (buffer and file modes) ----
  {
    name: 'download breaks half way once (buffer) -> downloaded again, completed with every byte',
    mode: 'buffer',
    setup: fault('output', { type: 'truncate_body', afterBytes: 4000 }),
    ending: 'completed',
    text: [],
    posts: 1,
    check: ({ msg, sb }) => {
      assert.ok(Buffer.isBuffer(msg.payload));
      assert.ok(msg.payload.equals(SAMPLE), `payload is the whole output (${msg.payload.length} of ${SAMPLE.length} bytes)`);
      assert.equal(downloads(sb), 2);
    },
  },
  {
    name: 'download always breaks (buffer) -> tried until the deadline, then output_unavailable with the URL, status COMPLETED',
    mode: 'buffer',
    setup: fault('output', { type: 'truncate_body', afterBytes: 4000 }, Infinity),
    ending: 'failed',
    code: 'output_unavailable',
    text: [/completed but its output could not be fetched before the message deadline/, new RegExp(`broke off after 4000 of ${SAMPLE.length} bytes`)],
    posts: 1,
    check: ({ msg, sb }) => {
      assert.ok(!Buffer.isBuffer(msg.payload), 'no partial Buffer on the failed output');
      assert.equal(msg.segmind.status, 'COMPLETED', 'the job is not reported as failed');
      assert.equal(msg.segmind.output, msg.segmind.result.output, 'the output URL is on the message');
      assert.ok(downloads(sb) >= 2, `tried again: ${downloads(sb)} downloads`);
    },
  },
  {
    name: 'download breaks half way once (file) -> whole file, no partial file left',
    mode: 'file',
    setup: fault('output', { type: 'truncate_body', afterBytes: 4000 }),
    ending: 'completed',
    text: [],
    posts: 1,
    check: ({ msg, folder }) => {
      assert.equal(path.dirname(msg.payload), folder);
      assert.ok(fs.readFileSync(msg.payload).equals(SAMPLE), 'the file holds the whole output');
      assert.deepEqual(fs.readdirSync(folder), [path.basename(msg.payload)], 'nothing but the file');
    },
  },
  {
    name: 'download always breaks (file) -> output_unavailable at the deadline, no partial file left',
    mode: 'file',
    setup: fault('output', { type: 'truncate_body', afterBytes: 4000 }, Infinity),
    ending: 'failed',
    code: 'output_unavailable',
    text: [/completed but its output could not be fetched before the message deadline/, /broke off/],
    posts: 1,
    check: ({ msg, folder, sb }) => {
      assert.deepEqual(fs.readdirSync(folder), [], 'no file and no .part left behind');
      assert.equal(msg.segmind.status, 'COMPLETED');
      assert.ok(downloads(sb) >= 2, `tried again: ${downloads(sb)} downloads`);
    },
  },
  {
    // no key goes to the files host (a CDN): its 403 is that host refusing, not Segmind rejecting the key
    name: 'output host answers 403 (buffer) -> failed output worded as that host refusing the download',
    mode: 'buffer',
    setup: fault('output', { type: 'http', status: 403, body: { error: 'Request has expired' } }, Infinity),
    ending: 'failed',
    text: [/completed but its output could not be fetched/, /The download of http:\/\/127\.0\.0\.\d+:\d+\/outputs\/\S+ was refused by its host \(HTTP 403\): Request has expired/, /No API key is sent to that host/],
    posts: 1,
    check: ({ msg, sb }) => {
      assert.doesNotMatch(msg.error.message, /rejected the API key|for this API key/);
      assert.ok(sb.requests.filter((r) => r.endpoint === 'output').every((r) => !r.apiKeyPresent));
    },
  },
];

/** Node ids of row i. */
const ids = (i: number) => ({ cfg: `cfg${i}`, model: `m${i}`, await: `a${i}` });

function rowNodes(row: Row, i: number, sb: Sandbox, folder: string): Record<string, unknown>[] {
  const id = ids(i);
  const entry =
    row.entry === 'generic'
      ? { id: id.model, z: 'f', type: 'segmind model', config: id.cfg, model: '', payload: '', maxMediaMB: 50, wires: [[id.await]] }
      : { id: id.model, z: 'f', type: 'segmind sadtalker', config: id.cfg, maxMediaMB: 50, wires: [[id.await]] };
  return [
    { id: id.cfg, type: 'segmind-config', name: `row ${i}`, baseUrl: sb.url, uploadUrl: sb.uploadUrl, rpm: 100000, timeScale: ROW_SCALE, ...row.config },
    entry,
    {
      id: id.await,
      z: 'f',
      type: 'segmind await',
      config: id.cfg,
      timeout: ROW_TIMEOUT,
      result: row.mode ?? 'url',
      folder,
      store: '',
      wires: [['completed'], ['failed'], ['timedOut']],
    },
  ];
}

function rowMessage(row: Row): Record<string, unknown> {
  if (row.entry === 'generic') {
    return { payload: { input_image: 'https://example.com/face.png', input_audio: 'https://example.com/voice.mp3' }, ...row.msg };
  }
  return { image: 'https://example.com/face.png', audio: 'https://example.com/voice.mp3', ...row.msg };
}

/** The text a user reads for this ending. */
function userText(ending: Ending, msg: any): string {
  if (ending === 'timedOut') return String(msg?.segmind?.message ?? '');
  return String(msg?.error?.message ?? '');
}

describe('faults: the fault matrix through model node -> await node', function () {
  const collector = new Collector();
  const sandboxes: Sandbox[] = [];
  const folders: string[] = [];
  const runs: Promise<{ msgid: string; ending: Event | undefined }>[] = [];
  const statuses = new Map<string, any[]>();

  before(async function () {
    this.timeout(20000);
    const flow: Record<string, unknown>[] = [{ id: 'f', type: 'tab' }];
    const credentials: Record<string, { apiKey: string }> = {};
    for (const [i, row] of rows.entries()) {
      const sb = await chainSandbox({ apiKeys: [KEY], retentionSeconds: 1e7, ...row.sandbox });
      const folder = tempDir('segmind-faults-');
      sandboxes.push(sb);
      folders.push(folder);
      flow.push(...rowNodes(row, i, sb, folder));
      credentials[ids(i).cfg] = { apiKey: KEY };
    }
    const watched = rows.flatMap((_r, i) => [ids(i).model, ids(i).await]);
    flow.push(
      { id: 'completed', z: 'f', type: 'helper' },
      { id: 'failed', z: 'f', type: 'helper' },
      { id: 'timedOut', z: 'f', type: 'helper' },
      { id: 'catcher', z: 'f', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'f', type: 'helper' },
      { id: 'completer', z: 'f', type: 'complete', scope: watched, uncaught: false, wires: [['done']] },
      { id: 'done', z: 'f', type: 'helper' },
    );
    await helper.load(
      [builtSet('nodes/segmind-config.js'), builtSet('nodes/segmind-await.js'), builtSet('nodes/segmind-model.js'), builtSet('nodes/models/sadtalker.js')] as never,
      flow as never,
      credentials as never,
    );
    for (const ending of ['completed', 'failed', 'timedOut', 'caught'] as const) {
      helper.getNode(ending).on('input', (msg: any) => collector.push(ending, msg));
    }
    helper.getNode('done').on('input', (msg: any) => {
      const source: string = msg?.complete?.source?.id ?? '';
      collector.push(source.startsWith('a') ? 'awaitDone' : 'modelDone', msg);
    });
    for (const id of watched) {
      statuses.set(id, []);
      helper.getNode(id).on('call:status', (call: { args: unknown[] }) => statuses.get(id)!.push(call.args[0]));
    }

    // every row at once: each has its own sandbox, so faults and counts cannot mix
    for (const [i, row] of rows.entries()) {
      row.setup?.(sandboxes[i]);
      const msgid = freshId();
      helper.getNode(ids(i).model).receive({ ...rowMessage(row), _msgid: msgid });
      const ended = () => collector.of(msgid).find((e) => e.ending === 'caught' || e.ending === 'awaitDone');
      runs.push(
        collector
          .until(() => !!ended(), row.slow ? 55_000 : 15_000, `row "${row.name}"`)
          .then(() => sleep(SETTLE_MS))
          .then(
            () => ({ msgid, ending: ended() }),
            () => ({ msgid, ending: undefined }),
          ),
      );
    }
  });

  after(async function () {
    this.timeout(10000);
    await helper.unload();
    await Promise.all(sandboxes.map((sb) => sb.close()));
    for (const f of folders) fs.rmSync(f, { recursive: true, force: true });
  });

  rows.forEach((row, i) => {
    it(row.name, async function () {
      this.timeout(row.slow ? 60_000 : 20_000);
      const { msgid, ending } = await runs[i];
      const sb = sandboxes[i];
      const events = collector.of(msgid);
      const kinds = events.map((e) => e.ending);
      assert.ok(ending, `the message was left hanging: it got ${JSON.stringify(kinds)}`);

      if (row.ending === 'caught') {
        // the model node failed the message: done(err) once, nothing sent on, the await node never saw it
        assert.deepEqual(kinds, ['caught'], 'exactly one done(err) and nothing else');
        assert.equal(events[0].msg.error.source.id, ids(i).model);
        // what a Catch-and-retry loop decides on: every error coded, safe only where no job can exist
        const error = events[0].msg.error;
        assert.ok(typeof error.code === 'string' && error.code.length > 0, `msg.error.code: ${JSON.stringify(error.code)}`);
        assert.equal(typeof row.safe, 'boolean', 'every caught row states whether resubmitting is safe');
        assert.equal(error.resubmitSafe, row.safe, `msg.error.resubmitSafe for ${error.code}`);
        if (sb.jobs.size > 0) assert.equal(error.resubmitSafe, false, 'a job was created: resubmitting would bill twice');
        const last = statuses.get(ids(i).model)!.at(-1);
        assert.equal(last?.fill, 'red', `model node status shows the failure: ${JSON.stringify(last)}`);
      } else {
        // sent on once, then exactly one await output and one done() at each node
        assert.deepEqual(
          [...kinds].sort(),
          ['awaitDone', 'modelDone', row.ending].sort(),
          'one done() at the model node, one output and one done() at the await node',
        );
        const ctx = helper.getNode(ids(i).await).context();
        const left = (ctx.keys() as string[]).filter((k) => k.startsWith('segmindJob_'));
        assert.deepEqual(left, [], 'the await node keeps no pending job once the message left');
      }

      const out = events.find((e) => e.ending === row.ending)!;
      const text = userText(row.ending, out.msg);
      for (const re of row.text) assert.match(text, re);
      if (row.ending !== 'completed') {
        assert.ok(text.length > 20 && text.length < 700, `a readable message: ${text}`);
        assert.doesNotMatch(text, /undefined|\[object Object\]|NaN/, text);
      } else {
        assert.equal(out.msg.error, undefined, 'no error on a completed message');
        assert.equal(out.msg.segmind.status, 'COMPLETED');
      }
      if (row.code) assert.equal(out.msg.error.code, row.code);
      // a message on the failed output names a job that exists: never safe to send to the model node again
      if (row.ending === 'failed') assert.equal(out.msg.error.resubmitSafe, false);
      assert.ok(!safeText(events.map((e) => e.msg)).includes(KEY), 'the key appears in no message');

      assert.equal(sb.count({ endpoint: 'submit' }), row.posts, `POSTs the sandbox saw: ${sb.requests.map((r) => `${r.endpoint}:${r.status}`).join(' ')}`);
      const jobs = row.jobs ?? (row.ending === 'caught' ? undefined : 1);
      if (jobs !== undefined) assert.equal(sb.jobs.size, jobs, 'jobs created');
      row.check?.({ sb, events, msg: out.msg, folder: folders[i] });
    });
  });
});
