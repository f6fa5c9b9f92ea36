import { createApplicationMailActivities } from './application-mail';
import { createApplicationStoreActivities } from './application-store';
import type { ActivityDeps } from './deps';
import { createDossierNoticeActivities } from './dossier-notice';
import { createDigestActivities } from './digest';
import { createMailActivities } from './mail';
import { createMeetingActivities } from './meeting';
import { createMoneyActivities } from './money';
import { createPdfActivities } from './pdf';
import { createSendingActivities } from './sending';
import { createStoreActivities } from './store';
import { createValidationActivities } from './validation';

export type { ActivityDeps } from './deps';

/** All activities, grouped by the resource they touch, with their dependencies injected. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createStoreActivities(deps),
    ...createPdfActivities(deps),
    ...createMailActivities(deps),
    ...createDossierNoticeActivities(deps),
    ...createApplicationStoreActivities(deps),
    ...createApplicationMailActivities(deps),
    ...createDigestActivities(deps),
    ...createSendingActivities(deps),
    ...createValidationActivities(deps),
    ...createMeetingActivities(deps),
    ...createMoneyActivities(deps),
  };
}
