import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { createSql, type Sql } from '../db/sql';
import { MeceneError } from '../domain/errors';
import { openMailStore, type MailStore } from '../mail/catcher';
import { resolveEndpoints, runtimeFile, type Endpoints } from '../runtime/discovery';
import type { OutreachDeps } from '../service/outreach';

/**
 * What a CLI command connects to, opened lazily: `mecene mail list` needs no Temporal,
 * `mecene sponsors list` no mail. Addresses come from the environment or a running `npm start`.
 */
export class CliContext {
  private sqlPool?: Sql;
  private connection?: Connection;
  private found?: Endpoints;

  constructor(readonly config: Config) {}

  private async endpoints(): Promise<Endpoints> {
    this.found ??= await resolveEndpoints(this.config);
    return this.found;
  }

  private notRunning(): MeceneError {
    return new MeceneError('error.notRunning', { file: path.relative(process.cwd(), runtimeFile(this.config.dataDir)) || runtimeFile(this.config.dataDir) }, 503);
  }

  async sql(): Promise<Sql> {
    if (!this.sqlPool) {
      const url = (await this.endpoints()).databaseUrl;
      if (!url) throw this.notRunning();
      this.sqlPool = createSql(url, { max: 2 });
    }
    return this.sqlPool;
  }

  async outreach(): Promise<OutreachDeps> {
    const sql = await this.sql();
    if (!this.connection) {
      const address = (await this.endpoints()).temporalAddress;
      if (!address) throw this.notRunning();
      try {
        this.connection = await Connection.connect({ address, connectTimeout: 5000 });
      } catch {
        throw new MeceneError('error.temporalDown', { target: address }, 503);
      }
    }
    return { sql, client: new Client({ connection: this.connection, namespace: this.config.temporal.namespace }), taskQueue: this.config.temporal.taskQueue, sending: this.config.sending };
  }

  async mailStore(): Promise<MailStore> {
    const { mailDir } = await this.endpoints();
    if (!mailDir) throw new MeceneError('error.catcherDisabled', {}, 400);
    return openMailStore(mailDir);
  }

  async close(): Promise<void> {
    await this.connection?.close();
    await this.sqlPool?.end({ timeout: 2 });
  }
}
