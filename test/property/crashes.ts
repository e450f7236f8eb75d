// Records unhandled promise rejections and uncaught exceptions for the duration of a describe
// block, so a test can fail on any of them (mocha alone would attribute them to whatever runs next).
import assert from 'node:assert/strict';

export interface CrashWatch {
  readonly seen: string[];
  assertNone(): void;
}

export function watchCrashes(): CrashWatch {
  const seen: string[] = [];
  const onRejection = (reason: unknown) => seen.push(`unhandledRejection: ${describe(reason)}`);
  const onException = (err: unknown) => seen.push(`uncaughtException: ${describe(err)}`);
  before(() => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  });
  after(() => {
    process.removeListener('unhandledRejection', onRejection);
    process.removeListener('uncaughtException', onException);
    assert.deepEqual(seen, [], 'no unhandled rejection or uncaught exception during the run');
  });
  return {
    seen,
    assertNone() {
      assert.deepEqual(seen, [], 'no unhandled rejection or uncaught exception');
    },
  };
}

function describe(v: unknown): string {
  return v instanceof Error ? `${v.name}: ${v.message}\n${v.stack ?? ''}` : String(v);
}
