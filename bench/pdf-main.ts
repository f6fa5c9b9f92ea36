// The PDF measure in a fresh process: the benchmark driver's heap (workflow bundling, clients)
// would slow every garbage collection and blur a ~10 ms figure. Prints the result as JSON.
import path from 'node:path';
import { benchPdf } from './pdf';

const count = Number(process.argv[2] ?? 50);
process.stdout.write(JSON.stringify(await benchPdf(path.resolve('templates'), count)) + '\n');
