import { ActivityFailure, ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import type { createActivities } from '../../activities';
import {
  addDays,
  digestKey,
  isOnWeek,
  isScheduledFiring,
  parisClock,
  type DigestDelivery,
  type DigestInput,
  type DigestRunResult,
} from './messages';

type Activities = ReturnType<typeof createActivities>;

/** Set by the server on every run a schedule starts: the nominal firing time (to the second). */
const SCHEDULED_START: SearchAttributeKey<'DATETIME'> = { name: 'TemporalScheduledStartTime', type: 'DATETIME' };

const store = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '30s' } });
// No attempt limit: when the SMTP server is down, the digest waits for it (the schedule's run
// timeout bounds the wait to the digest's day).
const mail = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '2m', nonRetryableErrorTypes: ['InvalidRecipient', 'TemplateError', 'UnknownRecipient'] },
});

/**
 * The digest of one firing: the schedule fires every week; on a digest week (or on a manual
 * trigger, whatever the week) every tutor with open items and every treasurer gets theirs,
 * each at most once per day through the outbox. A digest with nothing to report is not sent.
 */
export async function fortnightlyDigest(input: DigestInput): Promise<DigestRunResult> {
  const info = workflowInfo();
  const scheduled = info.typedSearchAttributes.get(SCHEDULED_START);
  const firing = input.at ? new Date(input.at) : (scheduled ?? info.startTime);
  if (Number.isNaN(firing.getTime())) throw ApplicationFailure.nonRetryable(`invalid firing time ${input.at}`, 'InvalidDigestInput');

  const day = parisClock(firing).day;
  const trigger = !input.force && isScheduledFiring(firing, input.cadence) ? 'schedule' : 'manual';
  const onWeek = isOnWeek(day, input.cadence);
  const result: DigestRunResult = { day, at: firing.toISOString(), trigger, onWeek, skippedOffWeek: false, deliveries: [], failed: [] };
  if (trigger === 'schedule' && !onWeek) {
    result.skippedOffWeek = true;
    return result;
  }

  // Money "since the last digest": from the previous digest day, whatever triggered this one.
  const since = addDays(day, -7 * input.cadence.everyWeeks);
  const recipients = await store.listDigestRecipients();
  for (const recipient of recipients) {
    try {
      const delivery: DigestDelivery = await mail.sendDigest({
        recipient,
        key: digestKey(day, recipient.role, recipient.personId),
        at: result.at,
        day,
        since,
        stalledDays: input.stalledDays,
        horizonDays: input.horizonDays,
        lang: input.lang,
      });
      result.deliveries.push(delivery);
    } catch (error) {
      // A refused address must not deprive the others of their digest.
      if (!(error instanceof ActivityFailure)) throw error;
      result.failed.push({ personId: recipient.personId, role: recipient.role, to: recipient.email, error: error.cause?.message ?? error.message });
    }
  }
  return result;
}
