// Admission control: a new job is submitted only if every job already under way can still be polled
// and fetched before its deadline (its message's timeout, or Segmind's one-hour retention) at the
// account's request rate. Otherwise the message waits, in order, up to MAX_QUEUE messages per account
// and MAX_WAIT_SECONDS of API time; past either it is refused before any request (budget_full), so a
// burst never becomes paid jobs that expire unpolled.
//
// The test (feasible()) is earliest-deadline-first over the sliding window: each job needs a few
// requests between the moment it is likely done and its deadline; slots come from the window (those
// free now, then each one window after its last use). EDF meets every deadline if any order does.
// Pure: time, rate and jobs are passed in, so it runs on a virtual clock in tests.
import type { RateSnapshot } from '../client/budget';
import { lognormalQuantileAfter } from './lognormal';
import { predictiveSigma, type Prior } from './priors';

/** Messages that may wait for the budget per account; more are refused at once. */
export const MAX_QUEUE = 100;
/** Longest a message waits for the budget (API seconds) before it is refused. */
export const MAX_WAIT_SECONDS = 1800;
/** Requests a job still running needs: a poll that finds it running, one that finds it done, the result fetch. */
const RUNNING_DEMAND = 3;
/** A job known done needs its result fetch. */
const COMPLETED_DEMAND = 1;
/** A job counts as done when this share of its run-time belief (given how long it has run) has passed. */
const DONE_QUANTILE = 0.9;
/** A window's slot is planned to free a little after the window (answers take time). */
const ANSWER_ALLOWANCE = 0.01;

export interface PlannedJob {
  /** epoch ms by which the job's result must be fetched */
  deadline: number;
  /** epoch ms when it is likely done (its requests cannot all go before) */
  readyAt: number;
  /** requests it still needs */
  demand: number;
}

export interface Feasibility {
  ok: boolean;
  /** requests planned */
  units: number;
  /** the first deadline that would be missed (epoch ms) */
  missedAt?: number;
}

/** When a job submitted at `submittedAt` (running still, unless completed) is likely done, epoch ms. */
export function likelyDoneAt(now: number, submittedAt: number, belief: Prior, unit: number, completed = false): number {
  if (completed) return now;
  const elapsed = Math.max(0, (now - submittedAt) / unit);
  const seconds = lognormalQuantileAfter(DONE_QUANTILE, elapsed, belief.median, predictiveSigma(belief));
  return Math.max(now, submittedAt + seconds * unit);
}

export function plannedJob(now: number, job: { submittedAt: number; deadline: number; belief: Prior; completed?: boolean }, unit: number): PlannedJob {
  const readyAt = likelyDoneAt(now, job.submittedAt, job.belief, unit, job.completed);
  return { deadline: job.deadline, readyAt, demand: job.completed ? COMPLETED_DEMAND : RUNNING_DEMAND };
}

/**
 * Whether all `jobs` (and the `extra` requests needed right now, e.g. a submit) fit before their
 * deadlines at the budget's rate. A job whose own deadline falls before it is likely done cannot be
 * saved by waiting: its deadline is moved to a window after it is ready, so it does not block others.
 */
export function feasible(rate: RateSnapshot, jobs: readonly PlannedJob[], extraNow = 0): Feasibility {
  const now = rate.now;
  const windowMs = rate.windowMs;
  const start = Math.max(now, rate.pausedUntil);
  const units: Array<{ release: number; deadline: number }> = [];
  for (let i = 0; i < extraNow; i++) units.push({ release: start, deadline: start + windowMs });
  for (const j of jobs) {
    const deadline = Math.max(j.deadline, j.readyAt + windowMs);
    for (let k = 0; k < j.demand; k++) units.push({ release: Math.max(start, j.readyAt), deadline });
  }
  const total = units.length;
  if (total === 0) return { ok: true, units: 0 };
  // the slots: as many as the window holds for calls other than fetches; never more than needed
  const slotsPerWindow = Math.max(1, Math.floor(rate.limit - rate.reserve));
  // the window as slotsPerWindow servers: the k-th is free once the window holds fewer than
  // slotsPerWindow - k of the requests in it now (the oldest leave first)
  const used = rate.freeAt.length;
  const slots = new MinHeap();
  for (let k = 0; k < Math.min(total, slotsPerWindow); k++) {
    const i = used - slotsPerWindow + k;
    slots.push(i >= 0 ? Math.max(start, rate.freeAt[i]) : start);
  }
  units.sort((a, b) => a.release - b.release);
  const ready = new MinHeap(); // deadlines of units released by the current slot
  let next = 0;
  const reuse = windowMs * (1 + ANSWER_ALLOWANCE);
  for (let served = 0; served < total; served++) {
    let slot = slots.pop()!;
    if (ready.size === 0 && next < total && units[next].release > slot) slot = units[next].release;
    while (next < total && units[next].release <= slot) ready.push(units[next++].deadline);
    const deadline = ready.pop()!;
    if (slot > deadline) return { ok: false, units: total, missedAt: deadline };
    slots.push(slot + reuse);
  }
  return { ok: true, units: total };
}

/** A binary min-heap of numbers. */
class MinHeap {
  private a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: number): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): number | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
