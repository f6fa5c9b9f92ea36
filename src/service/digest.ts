import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleOptions, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import { z } from 'zod';
import type { DigestSettings } from '../config';
import type { Sql } from '../db/sql';
import { isEmptyDigest, treasurerDigest, tutorDigest, type Digest } from '../digest/compose';
import { renderDigest } from '../digest/present';
import { parisWallTime } from '../domain/dates';
import { MeceneError } from '../domain/errors';
import { email, langSchema } from '../domain/schemas';
import type { AssociationProfile } from '../templates/association';
import type { MailTemplates } from '../templates/mail';
import {
  DIGEST_SCHEDULE_ID,
  DIGEST_TIME_ZONE,
  addDays,
  isOnWeek,
  parisClock,
  scheduleWeekday,
  type DigestCadence,
  type DigestInput,
  type DigestRunResult,
  type Lang,
} from '../workflows/digest/messages';
import type { fortnightlyDigest } from '../workflows/digest/workflow';
import { personWithRole } from './people';
import { parseInput } from './validate';

/** What the digest's schedule operations need: a Temporal client and the worker's task queue. */
export interface DigestDeps {
  client: Client;
  taskQueue: string;
}

/**
 * A firing missed while the Temporal server was down (the embedded one stops with Mécène) still
 * runs if the server is back within this window: a Monday 08:00 digest goes out at 11:00 when
 * Mécène restarts at 11:00, but not the next day.
 */
export const DIGEST_CATCHUP_MS = 12 * 3_600_000;
/** A run that cannot finish within a day (worker gone, SMTP down) gives up rather than send a stale digest. */
export const DIGEST_RUN_TIMEOUT_MS = 24 * 3_600_000;

type DigestAction = ScheduleOptionsStartWorkflowAction<typeof fortnightlyDigest>;

/** The workflow input the schedule passes at every firing. */
export function digestInput(settings: DigestSettings, lang: Lang): DigestInput {
  const cadence: DigestCadence = { weekday: settings.weekday, time: settings.time, everyWeeks: settings.everyWeeks, firstDay: settings.firstDay };
  return { cadence, stalledDays: settings.stalledDays, horizonDays: settings.horizonDays, lang };
}

/**
 * The schedule: weekly on the weekday at the time, in Europe/Paris (the server follows daylight
 * saving: 08:00 stays 08:00 in winter and summer); the workflow skips the off weeks. Overlap
 * `SKIP`: a digest in progress is never doubled.
 */
export function digestScheduleOptions(settings: DigestSettings, taskQueue: string, lang: Lang, scheduleId = DIGEST_SCHEDULE_ID): ScheduleOptions<DigestAction> {
  const [hour, minute] = settings.time.split(':').map(Number);
  return {
    scheduleId,
    spec: { calendars: [{ dayOfWeek: scheduleWeekday(settings.weekday), hour, minute, comment: 'Mécène digest' }], timezone: DIGEST_TIME_ZONE },
    action: {
      type: 'startWorkflow',
      workflowType: 'fortnightlyDigest',
      workflowId: scheduleId,
      taskQueue,
      args: [digestInput(settings, lang)],
      workflowExecutionTimeout: DIGEST_RUN_TIMEOUT_MS,
    },
    policies: { overlap: 'SKIP', catchupWindow: DIGEST_CATCHUP_MS },
    state: settings.enabled ? {} : { paused: true, note: 'DIGEST_ENABLED=false' },
  };
}

/** What decides the digest's behaviour, from the options we want or from what the server holds. */
function fingerprint(o: {
  calendars: { dayOfWeek: string; hour: number; minute: number; second: number }[];
  timezone: string | undefined;
  workflowType: string;
  taskQueue: string;
  args: unknown[];
  timeoutMs: number | undefined;
  overlap: string | undefined;
  catchupMs: number | undefined;
  paused: boolean;
}): string {
  return JSON.stringify(o);
}

function wanted(o: ScheduleOptions<DigestAction>): string {
  const cal = o.spec.calendars![0];
  return fingerprint({
    calendars: [{ dayOfWeek: String(cal.dayOfWeek), hour: Number(cal.hour), minute: Number(cal.minute), second: 0 }],
    timezone: o.spec.timezone,
    workflowType: String(o.action.workflowType),
    taskQueue: o.action.taskQueue,
    args: o.action.args as unknown[],
    timeoutMs: Number(o.action.workflowExecutionTimeout),
    overlap: o.policies?.overlap,
    catchupMs: Number(o.policies?.catchupWindow),
    paused: o.state?.paused ?? false,
  });
}

function held(d: ScheduleDescription): string {
  const single = (ranges: { start: unknown; end: unknown; step: number }[] | undefined) =>
    ranges?.length === 1 && ranges[0].start === ranges[0].end ? ranges[0].start : JSON.stringify(ranges);
  return fingerprint({
    calendars: (d.spec.calendars ?? []).map((c) => ({ dayOfWeek: String(single(c.dayOfWeek)), hour: Number(single(c.hour)), minute: Number(single(c.minute)), second: Number(single(c.second)) })),
    timezone: d.spec.timezone,
    workflowType: d.action.workflowType,
    taskQueue: d.action.taskQueue,
    args: d.action.args as unknown[],
    timeoutMs: d.action.workflowExecutionTimeout === undefined ? undefined : Number(d.action.workflowExecutionTimeout),
    overlap: d.policies.overlap,
    catchupMs: d.policies.catchupWindow,
    paused: d.state.paused,
  });
}

export type EnsureOutcome = 'created' | 'updated' | 'unchanged' | 'absent';

/**
 * Creates the digest's schedule, or brings an existing one in line with the configuration:
 * called at every start, it never makes a second one (the id is unique on the server) and only
 * writes when something differs. DIGEST_ENABLED=false pauses an existing schedule and creates none.
 */
export async function ensureDigestSchedule(deps: DigestDeps, settings: DigestSettings, lang: Lang, scheduleId = DIGEST_SCHEDULE_ID): Promise<EnsureOutcome> {
  const options = digestScheduleOptions(settings, deps.taskQueue, lang, scheduleId);
  const handle = deps.client.schedule.getHandle(scheduleId);
  let current: ScheduleDescription;
  try {
    current = await handle.describe();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
    if (!settings.enabled) return 'absent';
    try {
      await deps.client.schedule.create(options);
      return 'created';
    } catch (raced) {
      // Another process created it between our look and our create: adopt theirs.
      if (!(raced instanceof ScheduleAlreadyRunning)) throw raced;
      current = await handle.describe();
    }
  }
  if (held(current) === wanted(options)) return 'unchanged';
  await handle.update(() => ({ spec: options.spec, action: options.action, policies: options.policies, state: { paused: options.state?.paused ?? false, note: options.state?.note } }));
  return 'updated';
}

export interface DigestScheduleView {
  scheduleId: string;
  paused: boolean;
  note: string | null;
  cadence: DigestCadence;
  catchupWindowMs: number;
  /** The schedule's next firings, each marked whether a digest goes out (on week) or not. */
  upcoming: { at: string; day: string; onWeek: boolean }[];
  recent: { scheduledAt: string; takenAt: string; workflowId: string }[];
}

async function describeOrExplain(deps: DigestDeps, scheduleId: string): Promise<ScheduleDescription> {
  try {
    return await deps.client.schedule.getHandle(scheduleId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw new MeceneError('error.digest.noSchedule', { id: scheduleId }, 404);
    throw error;
  }
}

/** The schedule as the server holds it, and its next firings. */
export async function describeDigestSchedule(deps: DigestDeps, scheduleId = DIGEST_SCHEDULE_ID): Promise<DigestScheduleView> {
  const d = await describeOrExplain(deps, scheduleId);
  const input = (d.action.args as DigestInput[])[0];
  return {
    scheduleId,
    paused: d.state.paused,
    note: d.state.note ?? null,
    cadence: input.cadence,
    catchupWindowMs: d.policies.catchupWindow,
    upcoming: d.info.nextActionTimes.map((at) => {
      const day = parisClock(at).day;
      return { at: at.toISOString(), day, onWeek: isOnWeek(day, input.cadence) };
    }),
    recent: d.info.recentActions.map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), takenAt: a.takenAt.toISOString(), workflowId: a.action.workflow.workflowId })),
  };
}

export type SendNowResult =
  | { status: 'done'; workflowId: string; result: DigestRunResult }
  | { status: 'running'; workflowId: string }
  | { status: 'skipped_overlap' };

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `mecene digest send-now`: triggers the schedule (the workflow sends whatever the week, a
 * trigger not being one of the schedule's regular firings) and waits for the digest to be sent.
 * While a digest is in progress, nothing more is triggered.
 */
export async function sendDigestNow(deps: DigestDeps, opts: { scheduleId?: string; waitMs?: number } = {}): Promise<SendNowResult> {
  const scheduleId = opts.scheduleId ?? DIGEST_SCHEDULE_ID;
  const before = await describeOrExplain(deps, scheduleId);
  const known = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
  const skippedBefore = before.info.numActionsSkippedOverlap;
  const handle = deps.client.schedule.getHandle(scheduleId);
  // A triggered run's id carries the trigger's second: a second trigger within the same second
  // as the last run is silently dropped by the server. Wait for the next second, and trigger
  // again if nothing started (a dropped trigger has no effect; the outbox makes a double harmless).
  const last = Math.max(0, ...before.info.recentActions.map((a) => a.scheduledAt.getTime()));
  const nextSecond = (Math.floor(last / 1000) + 1) * 1000 + 50;
  if (Date.now() < nextSecond) await pause(nextSecond - Date.now());

  const startedBy = Date.now() + 15_000;
  let retriggerAt = 0;
  let started: { workflowId: string; runId: string } | undefined;
  while (!started) {
    if (Date.now() >= retriggerAt) {
      await handle.trigger('SKIP');
      retriggerAt = Date.now() + 3_000;
    }
    await pause(200);
    const d = await handle.describe();
    const action = d.info.recentActions.find((a) => !known.has(a.action.workflow.workflowId));
    if (action) started = { workflowId: action.action.workflow.workflowId, runId: action.action.workflow.firstExecutionRunId };
    else if (d.info.numActionsSkippedOverlap > skippedBefore) return { status: 'skipped_overlap' };
    else if (Date.now() > startedBy) throw new MeceneError('error.digest.notStarted', { seconds: 15, id: scheduleId }, 504);
  }
  const run = deps.client.workflow.getHandle<typeof fortnightlyDigest>(started.workflowId, started.runId);
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([run.result(), new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), opts.waitMs ?? 60_000)))]).finally(() => clearTimeout(timer));
  return outcome ? { status: 'done', workflowId: started.workflowId, result: outcome } : { status: 'running', workflowId: started.workflowId };
}

export const digestPreviewInput = z
  .strictObject({
    tutor: email.optional(),
    treasurer: email.optional(),
    lang: langSchema.default('fr'),
    /** The digest day (YYYY-MM-DD), at the configured time; default: now. */
    date: z.iso.date().optional(),
  })
  .superRefine((v, ctx) => {
    if (v.tutor && v.treasurer) ctx.addIssue({ code: 'custom', path: ['treasurer'], message: 'tutor | treasurer' });
  });

export interface DigestPreview {
  role: 'tutor' | 'treasurer';
  recipient: { name: string; email: string };
  day: string;
  /** Nothing to report: the digest would not be sent. */
  empty: boolean;
  subject: string;
  text: string;
  html: string;
  digest: Digest;
}

/** `mecene digest --preview`: the digest a tutor or the treasurer would receive, composed as the activity does, not sent. */
export async function previewDigest(
  sql: Sql,
  raw: unknown,
  settings: DigestSettings,
  rendering: { templates: MailTemplates; association: AssociationProfile },
): Promise<DigestPreview> {
  const input = parseInput(digestPreviewInput, raw);
  if (!input.tutor && !input.treasurer) throw new MeceneError('error.digest.noRecipient', {}, 400);
  const role = input.tutor ? 'tutor' : 'treasurer';
  const person = await personWithRole(sql, (input.tutor ?? input.treasurer)!, role);
  let at = new Date();
  if (input.date) {
    const [y, m, d] = input.date.split('-').map(Number);
    const [hour, minute] = settings.time.split(':').map(Number);
    at = parisWallTime(y, m, d, hour, minute);
  }
  const day = parisClock(at).day;
  const period = { at, day, since: addDays(day, -7 * settings.everyWeeks), stalledDays: settings.stalledDays, horizonDays: settings.horizonDays };
  const digest = role === 'tutor' ? await tutorDigest(sql, person.id, period) : await treasurerDigest(sql, person.id, period);
  const rendered = renderDigest(rendering.templates, digest, input.lang, rendering.association);
  return { role, recipient: { name: person.name, email: person.email }, day, empty: isEmptyDigest(digest), ...rendered, digest };
}
