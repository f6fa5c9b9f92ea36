import { createApplicationMailActivities } from './application-mail';
import { createApplicationStoreActivities } from './application-store';
import type { ActivityDeps } from './deps';
import { createDigestActivities } from './digest';
import { createMailActivities } from './mail';
import { createPdfActivities } from './pdf';
import { createStoreActivities } from './store';

export type { ActivityDeps } from './deps';

/** All activities, grouped by the resource they touch, with their dependencies injected. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createStoreActivities(deps),
    ...createPdfActivities(deps),
    ...createMailActivities(deps),
    ...createApplicationStoreActivities(deps),
    ...createApplicationMailActivities(deps),
    ...createDigestActivities(deps),
  };
}
