import type { FastifyInstance, FastifyRequest } from 'fastify';
import { renderReportPdf } from '../../documents/report-pdf';
import { buildReport, parseReportQuery, type Report } from '../../service/report';
import { requestLang, type ApiDeps } from '../app';

/**
 * The end-of-project report: `GET /api/report` (the data, JSON) and `GET /api/report.pdf`
 * (the board's PDF), both with `?from=YYYY-MM-DD&to=YYYY-MM-DD&lang=fr|en`, all optional.
 */
export const reportRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  const build = (request: FastifyRequest): Promise<Report> => {
    const query = parseReportQuery(request.query);
    return buildReport(deps.sql, { ...query, lang: query.lang ?? requestLang(request), association: deps.association ?? { name: deps.associationName } });
  };

  app.get('/api/report', async (request) => build(request));

  app.get('/api/report.pdf', async (request, reply) => {
    const report = await build(request);
    const { pdf } = await renderReportPdf(report);
    const name = `${report.lang === 'fr' ? 'bilan' : 'report'}-${report.period.from}-${report.period.to}.pdf`;
    return reply.type('application/pdf').header('content-disposition', `inline; filename="${name}"`).send(pdf);
  });
};
