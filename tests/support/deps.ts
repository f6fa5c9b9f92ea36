import path from 'node:path';
import type { ActivityDeps } from '../../src/activities';
import type { Sql } from '../../src/db/sql';
import { createSmtpTransport } from '../../src/runtime/activity-deps';
import { loadAssociation } from '../../src/templates/association';
import { loadMailTemplates } from '../../src/templates/mail';

// No vitest import here: tests/support/worker-process.ts runs outside the test runner.
export const TEMPLATES_DIR = path.resolve('templates');
export const TEST_SECRET = 'test-secret-0123456789abcdef';

export async function buildTestActivityDeps(sql: Sql, smtpPort: number, dataDir: string): Promise<ActivityDeps> {
  return {
    sql,
    transport: createSmtpTransport(`smtp://127.0.0.1:${smtpPort}`),
    templates: await loadMailTemplates(TEMPLATES_DIR),
    association: await loadAssociation(TEMPLATES_DIR),
    documentsDir: path.join(dataDir, 'documents'),
    mailFrom: { name: 'Association Test', address: 'contact@asso.test' },
    publicUrl: 'http://127.0.0.1:3600',
    secret: TEST_SECRET,
  };
}

