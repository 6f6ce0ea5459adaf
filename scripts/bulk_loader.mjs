// Bulk loader for scripts/bench_bulk_beside_http.sh: posts sessions of 10 turns of 40 words to cube "bulk" of a
// running kasten server, one request at a time on each of C keep-alive connections, for a given time.
// usage: node scripts/bulk_loader.mjs PORT background|foreground SECONDS [C=1]  -> one JSON line on stdout
import http from 'node:http';

const [port, mode, seconds] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const connections = Number(process.argv[5] ?? 1);
if (!port || !['background', 'foreground'].includes(mode) || !(seconds > 0) || !(connections >= 1)) {
  console.error('usage: node bulk_loader.mjs PORT background|foreground SECONDS [CONNECTIONS]');
  process.exit(2);
}
const words = ('the a beagle harbour sister architect lisbon porto coffee trip museum train garden violin piano ' +
  'soccer work meeting project budget deadline report weekend hiking mountain river lake beach summer winter ' +
  'autumn spring book novel film movie music concert dinner lunch breakfast recipe bread cake').split(' ');
let seed = 7;
const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const post = (body) => new Promise((resolve, reject) => {
  const req = http.request({ host: '127.0.0.1', port, path: '/v1/cubes/bulk/memories', method: 'POST', agent,
    headers: { 'Content-Type': 'application/json' } }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode));
  });
  req.on('error', reject);
  req.end(JSON.stringify(body));
});
const t0 = Date.now();
let turns = 0;
let sessions = 0;
async function loop() {
  while (Date.now() - t0 < seconds * 1000) {
    const i = sessions++;
    const messages = [];
    for (let k = 0; k < 10; ++k) {
      const text = [];
      for (let w = 0; w < 40; ++w) text.push(words[next() % words.length]);
      messages.push({ role: k % 2 ? 'assistant' : 'user', content: text.join(' ') });
    }
    const body = { session_id: `b${i}`, messages };
    if (mode === 'background') body.background = true;
    const status = await post(body);
    if (status !== 201) {
      console.error(`bulk_loader: HTTP ${status}`);
      process.exit(1);
    }
    turns += 10;
  }
}
await Promise.all(Array.from({ length: connections }, loop));
const s = (Date.now() - t0) / 1000;
console.log(JSON.stringify({ mode, connections, turns, seconds: s, turns_per_s: turns / s }));
agent.destroy();
