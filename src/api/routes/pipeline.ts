import type { FastifyInstance, FastifyReply } from 'fastify';
import { formatDay } from '../../domain/dates';
import { formatEuros } from '../../domain/money';
import { t, type Lang } from '../../i18n';
import { goalProgress, setCampaignGoal, today, withProgress, type GoalProgress } from '../../service/goal';
import {
  PIPELINE_KINDS,
  kindLabel,
  pipelineCsv,
  pipelineItems,
  pipelineSummary,
  receivedChartSvg,
  receivedSeries,
  setProbability,
  stageLabel,
  stagesChartSvg,
  type PipelineSummary,
} from '../../service/pipeline';
import { requestLang, type ApiDeps } from '../app';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** The query without `lang` (every route accepts it), for the strict schemas of the service. */
const withoutLang = (query: unknown) => {
  const { lang: _lang, ...rest } = (query ?? {}) as Record<string, unknown>;
  return rest;
};

function svgAttachment(reply: FastifyReply, name: string, svg: string) {
  return reply.type('image/svg+xml; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(XML_DECLARATION + svg);
}

/**
 * The treasurer's pipeline over HTTP: the summary, the items, the CSV, the campaign goal and
 * probability overrides as JSON; and a page (`/pipeline`) with both charts, which can be
 * downloaded as SVG to paste into a report.
 */
export const pipelineRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  app.get('/api/pipeline', async () => pipelineSummary(deps.sql));
  app.get('/api/pipeline/items', async (request) => pipelineItems(deps.sql, withoutLang(request.query)));
  app.get('/api/pipeline.csv', async (request, reply) => {
    const csv = await pipelineCsv(deps.sql, { lang: requestLang(request) });
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="pipeline-${today()}.csv"`).send(csv);
  });
  app.put<{ Params: { ref: string } }>('/api/pipeline/items/:ref/probability', async (request) => setProbability(deps.sql, request.params.ref, request.body ?? {}));

  // The goal with the cumulative money received by day over its period (to draw it elsewhere).
  app.get('/api/goal', async () => {
    const goal = await goalProgress(deps.sql);
    return { goal, received: goal ? await receivedSeries(deps.sql, goal.startsOn, goal.endsOn) : [] };
  });
  app.put('/api/goal', async (request) => ({ goal: await withProgress(deps.sql, await setCampaignGoal(deps.sql, request.body ?? {})) }));

  app.get('/pipeline/received.svg', async (request, reply) => {
    const lang = requestLang(request);
    const summary = await pipelineSummary(deps.sql);
    return svgAttachment(reply, `${lang === 'fr' ? 'recu-objectif' : 'received-goal'}-${summary.today}.svg`, await receivedChartSvg(deps.sql, { lang, summary }));
  });
  app.get('/pipeline/stages.svg', async (request, reply) => {
    const lang = requestLang(request);
    const summary = await pipelineSummary(deps.sql);
    return svgAttachment(reply, `${lang === 'fr' ? 'pipeline-etapes' : 'pipeline-stages'}-${summary.today}.svg`, await stagesChartSvg(deps.sql, { lang, summary }));
  });
  app.get('/pipeline', async (request, reply) => {
    const lang = requestLang(request);
    const summary = await pipelineSummary(deps.sql);
    const [received, stages] = await Promise.all([receivedChartSvg(deps.sql, { lang, summary }), stagesChartSvg(deps.sql, { lang, summary })]);
    return reply.type('text/html; charset=utf-8').send(pipelinePage(lang, deps.associationName, summary, received, stages));
  });
};

/** The page: the money block, the two charts inline, the overdue lists and the next 30 days. */
function pipelinePage(lang: Lang, association: string, s: PipelineSummary, receivedSvg: string, stagesSvg: string): string {
  const tr = (key: Parameters<typeof t>[0], params: Record<string, string | number> = {}) => escape(t(key, params, lang));
  const euros = (c: number) => escape(formatEuros(c, lang));
  const day = (d: string) => escape(formatDay(d.length === 10 ? `${d}T12:00:00Z` : d, lang));
  const who = (c: string, title: string | null) => escape(title ? `${c} — ${title}` : c);
  const q = `?lang=${lang}`;
  const table = (headers: string[], rows: string[][], numeric: number[] = []) =>
    `<table><thead><tr>${headers.map((h, i) => `<th${numeric.includes(i) ? ' class="n"' : ''}>${h}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  const none = `<p class="none">${tr('pipeline.none')}</p>`;

  const goalBlock = (g: GoalProgress | null) =>
    g
      ? `<p class="goal">${escape(
          t('pipeline.goal.line', { label: g.label, amount: formatEuros(g.amountCents, lang), from: formatDay(`${g.startsOn}T12:00:00Z`, lang), to: formatDay(`${g.endsOn}T12:00:00Z`, lang), received: formatEuros(g.receivedCents, lang), percent: lang === 'fr' ? `${String(g.percent).replace('.', ',')}\u00a0%` : `${g.percent}%`, remaining: formatEuros(g.remainingCents, lang) }, lang),
        )}</p>` +
        `<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.min(g.percent, 100)}"><div style="width:${Math.min(g.percent, 100)}%"></div></div>`
      : `<p class="goal">${tr('pipeline.goal.none')}</p>`;

  const stageRows = PIPELINE_KINDS.flatMap((kind) =>
    s.stages
      .filter((x) => x.kind === kind)
      .map((x) => [escape(kindLabel(kind, lang)), escape(stageLabel(x.stage, lang)), String(x.count), euros(x.askedCents), euros(x.weightedCents), euros(x.committedCents), euros(x.receivedCents)]),
  );
  const totals = s.totals;

  return (
    `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${tr('pipeline.page.title')}</title>` +
    `<style>body{font-family:sans-serif;max-width:62em;margin:2em auto;padding:0 1em;color:#222}` +
    `table{border-collapse:collapse;margin:.5em 0}th,td{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:left}` +
    `.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1em 0}figure svg{max-width:100%;height:auto}` +
    `.progress{background:#eee;height:.8em;border-radius:.4em;max-width:36em}.progress div{background:#1b7837;height:100%;border-radius:.4em}` +
    `nav{float:right}.none{color:#666}</style></head><body>` +
    `<nav><a href="?lang=${lang === 'fr' ? 'en' : 'fr'}">${lang === 'fr' ? 'English' : 'Français'}</a></nav>` +
    `<h1>${tr('pipeline.page.title')}</h1><p>${escape(association)} — ${tr('pipeline.page.asOf', { day: formatDay(`${s.today}T12:00:00Z`, lang) })}</p>` +
    `<section id="money"><h2>${tr('pipeline.money.title')}</h2>` +
    table(
      [tr('pipeline.money.asked'), tr('pipeline.money.weighted'), tr('pipeline.money.committed'), tr('pipeline.money.received')],
      [[euros(totals.askedCents), euros(totals.weightedCents), euros(totals.committedCents), euros(totals.receivedCents)]],
      [0, 1, 2, 3],
    ) +
    goalBlock(s.goal) +
    `</section>` +
    `<section id="received"><h2>${tr('pipeline.page.receivedTitle')}</h2><figure>${receivedSvg}</figure>` +
    `<p><a href="/pipeline/received.svg${q}" download>${tr('pipeline.page.downloadSvg')}</a></p></section>` +
    `<section id="stages"><h2>${tr('pipeline.page.stagesTitle')}</h2><figure>${stagesSvg}</figure>` +
    `<p><a href="/pipeline/stages.svg${q}" download>${tr('pipeline.page.downloadSvg')}</a></p>` +
    (stageRows.length
      ? table(
          [tr('pipeline.col.kind'), tr('pipeline.col.stage'), tr('pipeline.col.count'), tr('pipeline.col.asked'), tr('pipeline.col.weighted'), tr('pipeline.col.committed'), tr('pipeline.col.received')],
          [...stageRows, [`<strong>${tr('pipeline.total')}</strong>`, '', String(totals.count), euros(totals.askedCents), euros(totals.weightedCents), euros(totals.committedCents), euros(totals.receivedCents)]],
          [2, 3, 4, 5, 6],
        )
      : none) +
    `</section>` +
    `<section id="overdue-payments"><h2>${tr('pipeline.overduePayments.title', { count: s.overduePayments.length })}</h2>` +
    (s.overduePayments.length
      ? table(
          [tr('pipeline.col.counterpart'), tr('pipeline.col.tranche'), tr('pipeline.col.dueOn'), tr('pipeline.col.expected'), tr('pipeline.col.owner'), tr('pipeline.col.late')],
          s.overduePayments.map((p) => [who(p.counterpart, p.title), p.trancheN === null ? '—' : String(p.trancheN), day(p.dueOn), euros(p.expectedCents), escape(p.owner.name), tr('pipeline.days', { n: p.daysLate })]),
          [1, 3, 5],
        )
      : none) +
    `</section>` +
    `<section id="overdue-reports"><h2>${tr('pipeline.overdueReports.title', { count: s.overdueReports.length })}</h2>` +
    (s.overdueReports.length
      ? table(
          [tr('pipeline.col.counterpart'), tr('pipeline.col.report'), tr('pipeline.col.dueOn'), tr('pipeline.col.owner'), tr('pipeline.col.late')],
          s.overdueReports.map((r) => [who(r.counterpart, r.title), tr(`pipeline.report.${r.reportKind}`, { n: r.reportN }), day(r.dueOn), escape(r.owner.name), tr('pipeline.days', { n: r.daysLate })]),
          [4],
        )
      : none) +
    `</section>` +
    `<section id="next-30-days"><h2>${tr('pipeline.next30.title', { total: formatEuros(s.next30Days.totalCents, lang) })}</h2>` +
    (s.next30Days.items.length
      ? table(
          [tr('pipeline.col.expectedOn'), tr('pipeline.col.counterpart'), tr('pipeline.col.tranche'), tr('pipeline.col.expected'), tr('pipeline.col.owner')],
          s.next30Days.items.map((e) => [day(e.expectedOn), who(e.counterpart, e.title), e.trancheN === null ? '—' : String(e.trancheN), euros(e.expectedCents), escape(e.owner.name)]),
          [2, 3],
        )
      : none) +
    `</section>` +
    `<p><a href="/api/pipeline.csv${q}" download>${tr('pipeline.page.downloadCsv')}</a></p>` +
    `</body></html>`
  );
}
