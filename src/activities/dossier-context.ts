import type { Sql } from '../db/sql';
import type { Lang } from '../domain/money';

/** Everything about a dossier that a document or an email needs, read in one query. */
export interface DossierContext {
  id: string;
  lang: Lang;
  stage: string;
  amountAskedCents: number;
  createdAt: Date;
  sponsor: { id: number; slug: string; name: string };
  contact: { id: number; name: string; email: string; optedOutAt: Date | null };
  student: { name: string; email: string };
  tutor: { name: string; email: string };
}

/** `contactId`: one of the dossier's other contacts, instead of its first one. */
export async function loadDossierContext(sql: Sql, dossierId: string, contactId?: number): Promise<DossierContext> {
  const rows = await sql<any[]>`
    SELECT d.id, d.lang, d.stage, d.amount_asked_cents, d.created_at,
           o.id AS org_id, o.slug, o.name AS org_name,
           c.id AS contact_id, c.name AS contact_name, c.email AS contact_email, c.opted_out_at,
           s.name AS student_name, s.email AS student_email,
           t.name AS tutor_name, t.email AS tutor_email
    FROM dossiers d
    JOIN organisations o ON o.id = d.organisation_id
    JOIN contacts c ON c.id = ${contactId ?? sql`d.contact_id`}
    JOIN people s ON s.id = d.student_id
    JOIN people t ON t.id = d.tutor_id
    WHERE d.id = ${dossierId}`;
  const r = rows[0];
  if (!r) throw new Error(`dossier ${dossierId} not found`);
  return {
    id: r.id,
    lang: r.lang,
    stage: r.stage,
    amountAskedCents: Number(r.amount_asked_cents),
    createdAt: r.created_at,
    sponsor: { id: Number(r.org_id), slug: r.slug, name: r.org_name },
    contact: { id: Number(r.contact_id), name: r.contact_name, email: r.contact_email, optedOutAt: r.opted_out_at },
    student: { name: r.student_name, email: r.student_email },
    tutor: { name: r.tutor_name, email: r.tutor_email },
  };
}
