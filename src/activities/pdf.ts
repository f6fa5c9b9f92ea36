import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parisDay } from '../domain/dates';
import { renderProposalPdf } from '../documents/proposal-pdf';
import { localise } from '../templates/association';
import type { ActivityDeps } from './deps';
import { loadDossierContext } from './dossier-context';

export interface RenderedDocument {
  documentId: string;
  sha256: string;
  sizeBytes: number;
}

/** Activities that generate documents: the file goes to disk, its id and hash to `documents`. */
export function createPdfActivities({ sql, association, documentsDir }: Pick<ActivityDeps, 'sql' | 'association' | 'documentsDir'>) {
  return {
    /** Renders the dossier's proposal PDF; the same dossier and version give the same bytes. */
    async renderProposal({ dossierId, version }: { dossierId: string; version: number }): Promise<RenderedDocument> {
      const ctx = await loadDossierContext(sql, dossierId);
      const pdf = await renderProposalPdf({
        lang: ctx.lang,
        ...localise(association, ctx.lang),
        sponsor: { name: ctx.sponsor.name, contactName: ctx.contact.name },
        amountAskedCents: ctx.amountAskedCents,
        student: ctx.student,
        tutor: ctx.tutor,
        date: parisDay(ctx.createdAt),
        reference: `${ctx.sponsor.slug} · ${dossierId.slice(0, 8)} · v${version}`,
      });
      const sha256 = createHash('sha256').update(pdf).digest('hex');
      const relative = path.join(dossierId, `proposal-v${version}.pdf`);
      const file = path.join(documentsDir, relative);
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, pdf);
      await rename(tmp, file); // readers never see a half-written PDF
      const [row] = await sql<{ id: string }[]>`
        INSERT INTO documents (id, dossier_id, kind, version, path, sha256, size_bytes)
        VALUES (${randomUUID()}, ${dossierId}, 'proposal', ${version}, ${relative}, ${sha256}, ${pdf.length})
        ON CONFLICT (dossier_id, kind, version) DO UPDATE SET path = EXCLUDED.path, sha256 = EXCLUDED.sha256, size_bytes = EXCLUDED.size_bytes
        RETURNING id`;
      return { documentId: row.id, sha256, sizeBytes: pdf.length };
    },
  };
}
