// Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went, by package and by
// function: `npx tsx bench/profile-top.ts <file.cpuprofile>`.
import { readFile } from 'node:fs/promises';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const file = process.argv[2];
if (!file) {
  console.error('usage: tsx bench/profile-top.ts <file.cpuprofile>');
  process.exit(2);
}
const profile = JSON.parse(await readFile(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
const bucket = (url: string, name: string) => {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  if (url.includes('/src/')) return 'mecene ' + url.slice(url.indexOf('/src/') + 1).split('/').slice(0, 2).join('/');
  return url.split('/').slice(-2).join('/');
};
const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, t] of self) {
  const n = byNode.get(id)!;
  const pkg = bucket(n.callFrame.url, n.callFrame.functionName);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + t);
  const fn = `${n.callFrame.functionName || '(anonymous)'} ${pkg}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + t);
}
const top = (m: Map<string, number>, k: number) =>
  [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, t]) => `${((100 * t) / total).toFixed(1).padStart(5)} %  ${name}`).join('\n');
console.log(`total sampled: ${(total / 1e6).toFixed(1)} s\n\nby package:\n${top(byPackage, 15)}\n\nby function:\n${top(byFunction, 25)}`);
