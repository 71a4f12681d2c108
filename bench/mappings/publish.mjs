// Cost of subject mappings on a client's publish path (mapPublish, as a door does, then publish):
// ns per publish to one plain subscriber,
// without mappings and with literal, wildcard and partition mappings (medians of 5 runs of 2M).
// Run after `npm run build`: node bench/mappings/publish.mjs
const { Router } = await import(new URL('../../dist/src/core/router.js', import.meta.url).href);
const { SubjectMappings } = await import(new URL('../../dist/src/core/mapping.js', import.meta.url).href);
const N = 2_000_000;
const payload = Buffer.alloc(16);
const client = { id: 1, echo: true, deliver: () => true };
function run(label, mappings, subject, sub) {
  const r = new Router();
  r.mappings = mappings;
  r.subscribe({ id: 2, echo: true, deliver: () => true }, sub, null, '1');
  const pub = () => r.publish({ subject: r.mapPublish(subject), reply: '', headers: null, payload }, client);
  for (let i = 0; i < 200_000; i++) pub();
  const res = [];
  for (let k = 0; k < 5; k++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) pub();
    res.push(Number(process.hrtime.bigint() - t) / N);
  }
  res.sort((a, b) => a - b);
  console.log(label.padEnd(40), 'median ns/publish', res[2].toFixed(1));
}
const M = (from, to) => new SubjectMappings([{ from, to: [{ subject: to, weight: 100 }] }]);
run('no mappings', null, 'orders.x', 'orders.x');
run('mappings, none matches', M('other.*', 'o.$1'), 'orders.x', 'orders.x');
run('literal mapping', M('orders.x', 'new.x'), 'orders.x', 'new.x');
run('wildcard $1 mapping', M('orders.*', 'new.$1'), 'orders.x', 'new.x');
run('partition mapping', M('orders.*', 'p.{{partition(8,1)}}.$1'), 'orders.x', 'p.*.x');
