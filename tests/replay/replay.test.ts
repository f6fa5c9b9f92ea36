import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { installRuntime } from '../../worker';

/**
 * Every committed history of a real run replays against today's workflow code without
 * nondeterminism: dossiers started months ago keep running after a deploy.
 */
const DIR = path.resolve('tests/replay/histories');

describe('replay of committed histories', async () => {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();

  it('has histories for each scenario', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('%s replays deterministically', async (file) => {
    installRuntime('ERROR');
    const history = historyFromJSON(JSON.parse(await readFile(path.join(DIR, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, file);
  });
});
