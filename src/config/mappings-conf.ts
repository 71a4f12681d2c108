/**
 * `mappings { }` (alias `maps`) of a nats conf, at the top level (for `$G`) or inside an account,
 * read into MappingSpecs the way nats-server 2.9's opts.go reads them (parseAccountMappings,
 * parseAccountMapDest), each checked at once by src/core/mapping.ts so a bad one is refused at
 * start with nats-server's text:
 *
 *   mappings { "orders.*": "new.orders.$1", "a.b": [ { destination: "x", weight: 40% }, ... ] }
 */
import { checkMapping, MappingError, type MapDest, type MappingSpec } from '../core/mapping.js';
import { isValidSubject } from '../core/subject.js';
import { bad, fail, mapEntries, type AuthWhere } from './auth-conf.js';
import type { ConfValue } from './nats-conf.js';

/** Reads one `mappings { }` block. `warn` reports what is accepted but has no effect. */
export function parseMappings(v: ConfValue, w: AuthWhere, warn: (w: AuthWhere, message: string) => void): MappingSpec[] {
  const out: MappingSpec[] = [];
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date)
    throw bad(w, 'a map of subject mappings such as { "orders.*": "new.orders.$1" }', v);
  for (const from of Object.keys(v)) {
    const mw: AuthWhere = { container: v, key: from, path: `${w.path}.${from}` };
    if (!isValidSubject(from)) throw fail(mw, `Subject ${JSON.stringify(from)} is not a valid subject`);
    const mv = v[from]!;
    let to: MapDest[];
    if (typeof mv === 'string') to = [{ subject: mv, weight: 100 }];
    else if (Array.isArray(mv))
      to = mv.flatMap((d, i) => mapDest(d, { container: mv, key: String(i), path: `${mw.path}[${i}]` }, warn));
    else if (mv !== null && typeof mv === 'object' && !(mv instanceof Date)) to = mapDest(mv, mw, warn);
    else throw fail(mw, `Unknown type ${typeof mv} for mapping destination`);
    const spec: MappingSpec = { from, to };
    try {
      checkMapping(spec);
    } catch (err) {
      if (!(err instanceof MappingError)) throw err;
      const dest = to.map((d) => d.subject).join(', ');
      throw fail(mw, `Error adding mapping for ${JSON.stringify(from)} to ${JSON.stringify(dest)} : ${err.message}`);
    }
    out.push(spec);
  }
  return out;
}

/** nats-server parseAccountMapDest: `{ destination|dest, weight: 40 | "40%", cluster }`; a cluster-scoped one is dropped (no cluster here). */
function mapDest(v: ConfValue, w: AuthWhere, warn: (w: AuthWhere, message: string) => void): MapDest[] {
  let subject = '';
  let weight: number | null = null;
  let cluster = '';
  for (const [k, dv, dw] of mapEntries(w, v, 'Expected an entry for the mapping destination')) {
    switch (k) {
      case 'dest':
      case 'destination':
        if (typeof dv !== 'string') throw bad(dw, 'a subject', dv);
        subject = dv;
        break;
      case 'weight': {
        if (typeof dv === 'string') {
          const ws = dv.endsWith('%') ? dv.slice(0, -1) : dv;
          if (!/^[+-]?\d+$/.test(ws)) throw fail(dw, `Invalid weight ${JSON.stringify(ws)} for mapping destination`);
          weight = Number(ws);
        } else if (typeof dv === 'number' && Number.isInteger(dv)) weight = dv;
        else throw fail(dw, `Unknown entry type for weight of ${String(dv)}`);
        if (weight > 100 || weight < 0) throw fail(dw, `Invalid weight ${weight} for mapping destination`);
        break;
      }
      case 'cluster':
        cluster = typeof dv === 'string' ? dv : String(dv);
        break;
      default:
        throw fail(dw, `Unknown field ${JSON.stringify(dw.key)} for mapping destination`);
    }
  }
  if (weight === null) throw fail(w, `Missing weight for mapping destination ${JSON.stringify(subject)}`);
  if (cluster !== '') {
    // nats-server uses cluster-scoped destinations only in the named cluster; herald is in none.
    warn(
      w,
      `mapping destination ${JSON.stringify(subject)} is for cluster ${JSON.stringify(cluster)} and is ignored: herald runs as a single server`,
    );
    return [];
  }
  return [{ subject, weight }];
}
