import { SMTPServer } from 'smtp-server';

/**
 * An SMTP sink for benchmarks: accepts everything, keeps only a count per Message-ID
 * (parsing and storing like the mail catcher would measure the catcher, not Mécène).
 */
export interface Sink {
  port: number;
  count(): number;
  duplicates(): number;
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const seen = new Map<string, number>();
  let total = 0;
  const server = new SMTPServer({
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        if (head.length < 8192) head += chunk.toString('latin1');
      });
      stream.on('end', () => {
        const id = /^message-id:\s*(\S+)/im.exec(head)?.[1] ?? `none-${total}`;
        seen.set(id, (seen.get(id) ?? 0) + 1);
        total++;
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    count: () => total,
    duplicates: () => [...seen.values()].filter((n) => n > 1).length,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
