import { WorkflowNotFoundError, type QueryDefinition } from '@temporalio/client';
import { sponsorOutreachId } from '../workflows/sponsor-outreach/messages';
import type { OutreachDeps } from './outreach';

/** What the sponsor's running process answers to a query; null when it has ended or never ran. */
export async function queryRunningOutreach<R>(deps: Pick<OutreachDeps, 'client'>, sponsorId: number, query: QueryDefinition<R, []>): Promise<R | null> {
  try {
    const handle = deps.client.workflow.getHandle(sponsorOutreachId(sponsorId));
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return null;
    return await handle.query(query);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}
