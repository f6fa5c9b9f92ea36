/**
 * The escalation ladder shared by the sponsor relationship and funding applications: a step
 * awaited from a person reminds them when due, then climbs one rung every `stepMs`. Pure and
 * deterministic (it runs inside the workflow sandbox). Keys carry the due date, so a moved
 * date makes fresh alarms, and a handled key never recurs.
 */

export interface Rung<About extends string, To extends string> {
  key: string;
  at: string;
  about: About;
  ref: string;
  kind: 'reminder' | 'escalation';
  to: To;
  dueAt: string;
}

const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** One alarm per rung: the first at `firstAt` (a reminder unless told), the next ones `stepMs` apart. */
export function climb<About extends string, To extends string>(
  about: About,
  ref: string,
  dueAt: string,
  firstAt: string,
  rungs: To[],
  stepMs: number,
  firstKind: 'reminder' | 'escalation' = 'reminder',
): Rung<About, To>[] {
  return rungs.map((to, i) => ({ key: `${about}:${ref}:${dueAt}:${i}`, at: plus(firstAt, i * stepMs), about, ref, kind: i === 0 ? firstKind : 'escalation', to, dueAt }));
}

/** The alarms not handled yet, earliest first. */
export function stillToCome<A extends { key: string; at: string }>(all: A[], notified: string[]): A[] {
  const done = new Set(notified);
  return all.filter((a) => !done.has(a.key)).sort((a, b) => a.at.localeCompare(b.at) || a.key.localeCompare(b.key));
}

/**
 * The alarms due now, minus those a later rung of the same item supersedes: after an outage the
 * tutor gets one escalation, not the reminder and the escalation at once. `everyRung` names the
 * alarms whose rungs reach different people and all go.
 */
export function dueNow<A extends { at: string; about: string; ref: string }>(pending: A[], now: number, everyRung: (a: A) => boolean = () => false): { send: A[]; superseded: A[] } {
  const due = pending.filter((a) => Date.parse(a.at) <= now);
  const latest = new Map<string, A>();
  for (const a of due) if (!everyRung(a)) latest.set(`${a.about}:${a.ref}`, a); // sorted by time: the last one wins
  const send = [...due.filter(everyRung), ...latest.values()];
  return { send, superseded: due.filter((a) => !send.includes(a)) };
}
