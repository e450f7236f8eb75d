// Wraps a response body so that a broken connection or a short body ends in an error, never in a
// quiet, truncated 'end'.
import { Transform, type Readable } from 'node:stream';

export function lengthCheckedStream(
  body: Readable,
  expectedLength: number | undefined,
  toError: (cause: unknown, received: number) => Error,
): Transform {
  let received = 0;
  let finished = false;
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      finished = true;
      if (expectedLength !== undefined && received !== expectedLength) {
        cb(toError(undefined, received));
      } else cb();
    },
  });
  body.on('error', (err) => {
    if (out.destroyed) return;
    const error = toError(err, received);
    // A stream nobody listens to yet (e.g. dropped on close()) must not crash the process with an
    // unhandled 'error' for a cancellation; any other failure is always reported.
    if ((error as { code?: string }).code === 'aborted' && out.listenerCount('error') <= pipeListeners) out.destroy();
    else out.destroy(error);
  });
  // 'aborted'/'close' without 'end' also means the body did not arrive whole
  body.on('close', () => {
    if (!finished && !body.readableEnded && !out.destroyed) {
      setImmediate(() => {
        if (!finished && !out.destroyed) out.destroy(toError(undefined, received));
      });
    }
  });
  out.on('close', () => {
    if (!body.destroyed) body.destroy();
  });
  body.pipe(out);
  // pipe() itself listens for 'error' on the destination: those are not a consumer
  const pipeListeners = out.listenerCount('error');
  return out;
}
