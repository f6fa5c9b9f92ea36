import { ConfigError } from '../config';
import { InvalidInputError, MeceneError } from '../domain/errors';
import { t, type Lang } from './index';

export interface DescribedError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

/** Turns any error into what a person reads: one translated line, an HTTP status, and details. */
export function describeError(error: unknown, lang?: Lang): DescribedError {
  if (error instanceof InvalidInputError) {
    const details = error.issues.map((i) => `${i.field}${lang === 'en' ? ':' : ' :'} ${i.problem}`).join(' ; ');
    return { status: 400, code: 'invalid_input', message: t('error.invalidInput', { details }, lang), details: error.issues };
  }
  if (error instanceof MeceneError) {
    const details = (error as { rejected?: unknown }).rejected;
    const params = Object.fromEntries(
      Object.entries(error.params).map(([name, value]) => [
        name,
        typeof value !== 'object' ? value : 'key' in value ? t(value.key, {}, lang) : value.anyOf.map((k) => t(k, {}, lang)).join(t('word.or', {}, lang)),
      ]),
    );
    return { status: error.status, code: error.key.replace(/^error\./, ''), message: t(error.key, params, lang), ...(details ? { details } : {}) };
  }
  if (error instanceof ConfigError) return { status: 500, code: 'config', message: error.message };
  const e = error as { code?: string; message?: string; address?: string; port?: number };
  if (e?.code === 'ECONNREFUSED' || e?.code === 'CONNECT_TIMEOUT' || e?.code === 'CONNECTION_ENDED' || e?.code === '3D000') {
    return { status: 503, code: 'database_down', message: t('error.databaseDown', { target: e.address ? `${e.address}:${e.port}` : (e.message ?? '') }, lang) };
  }
  if (typeof e?.message === 'string' && /Failed to connect|transport error|tcp connect error|UNAVAILABLE/i.test(e.message)) {
    return { status: 503, code: 'temporal_down', message: t('error.temporalDown', { target: e.message.split('\n')[0] }, lang) };
  }
  return { status: 500, code: 'internal', message: t('error.internal', { message: e?.message ?? String(error) }, lang) };
}
