import type { Sql } from '../db/sql';
import type { OutreachStage } from '../workflows/sponsor-outreach/messages';

/**
 * The funding pipeline as the dossiers stand: how many and how much asked, per stage.
 * (Pledges, receipts and funding applications join it in a later issue.)
 */
export interface PipelineStage {
  stage: OutreachStage;
  dossiers: number;
  askedCents: number;
}

export interface Pipeline {
  stages: PipelineStage[];
  open: { dossiers: number; askedCents: number };
  closed: { dossiers: number; askedCents: number };
  nextActions: { sponsor: string; action: string; at: string }[];
}

export async function pipeline(sql: Sql): Promise<Pipeline> {
  const [stages, totals, next] = await Promise.all([
    sql<{ stage: OutreachStage; dossiers: number; asked: string }[]>`
      SELECT stage, count(*)::int AS dossiers, sum(amount_asked_cents)::text AS asked FROM dossiers GROUP BY stage ORDER BY stage`,
    sql<{ open: boolean; dossiers: number; asked: string }[]>`
      SELECT closed_at IS NULL AS open, count(*)::int AS dossiers, coalesce(sum(amount_asked_cents), 0)::text AS asked FROM dossiers GROUP BY 1`,
    sql<{ slug: string; next_action: string; next_action_at: Date }[]>`
      SELECT o.slug, d.next_action, d.next_action_at FROM dossiers d JOIN organisations o ON o.id = d.organisation_id
      WHERE d.closed_at IS NULL AND d.next_action_at IS NOT NULL ORDER BY d.next_action_at LIMIT 20`,
  ]);
  const total = (open: boolean) => {
    const row = totals.find((r) => r.open === open);
    return { dossiers: row?.dossiers ?? 0, askedCents: Number(row?.asked ?? 0) };
  };
  return {
    stages: stages.map((s) => ({ stage: s.stage, dossiers: s.dossiers, askedCents: Number(s.asked) })),
    open: total(true),
    closed: total(false),
    nextActions: next.map((n) => ({ sponsor: n.slug, action: n.next_action, at: n.next_action_at.toISOString() })),
  };
}

const csvCell = (value: string | number | null) => {
  const s = value === null ? '' : String(value);
  return /[;"\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * Every dossier as CSV for a spreadsheet: UTF-8 with a BOM and `;` separators, amounts in
 * euros with a decimal comma, so French Excel opens it as it is.
 */
export async function dossiersCsv(sql: Sql): Promise<string> {
  const rows = await sql<any[]>`
    SELECT o.slug, o.name, d.stage, d.amount_asked_cents, s.email AS student, t.email AS tutor,
           d.created_at, d.updated_at, d.closed_at, d.close_reason
    FROM dossiers d JOIN organisations o ON o.id = d.organisation_id
    JOIN people s ON s.id = d.student_id JOIN people t ON t.id = d.tutor_id
    ORDER BY d.created_at`;
  const header = ['identifiant', 'mecene', 'etape', 'montant_sollicite_eur', 'etudiant', 'tuteur', 'cree_le', 'mis_a_jour_le', 'clos_le', 'motif'];
  const euros = (cents: number) => `${Math.trunc(cents / 100)},${String(Math.abs(cents) % 100).padStart(2, '0')}`;
  const lines = rows.map((r) =>
    [r.slug, r.name, r.stage, euros(Number(r.amount_asked_cents)), r.student, r.tutor, r.created_at.toISOString(), r.updated_at.toISOString(), r.closed_at?.toISOString() ?? null, r.close_reason]
      .map(csvCell)
      .join(';'),
  );
  return '\ufeff' + [header.join(';'), ...lines].join('\r\n') + '\r\n';
}
