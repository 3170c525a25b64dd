/**
 * Test-only: resolves cluster Service names to local addresses inside a
 * process it is preloaded into (`NODE_OPTIONS=--import <this file>`), so a
 * gateway runs the in-cluster config exactly as rendered. The mapping comes
 * from SWITCHYARD_TEST_HOSTS (`{"worker-m-v.ns.svc.cluster.local": "127.77.0.2"}`);
 * every other name resolves as usual. Node's `net.connect` (and so undici)
 * reads `dns.lookup` at call time, so replacing it here reaches every pool.
 */
import dns from 'node:dns';
import process from 'node:process';

/** @type {Record<string, string>} */
const mapping = JSON.parse(process.env.SWITCHYARD_TEST_HOSTS ?? '{}');
const hosts = new Map(Object.entries(mapping));
const systemLookup = dns.lookup;

/**
 * @param {string} hostname
 * @param {unknown} options
 * @param {unknown} [callback]
 */
function clusterLookup(hostname, options, callback) {
  const address = hosts.get(hostname);
  if (address === undefined) return /** @type {(...args: unknown[]) => void} */ (systemLookup)(hostname, options, callback);
  const done = /** @type {(error: null, address: unknown, family?: number) => void} */ (typeof options === 'function' ? options : callback);
  const all = typeof options === 'object' && options !== null && /** @type {{ all?: boolean }} */ (options).all === true;
  process.nextTick(() => (all ? done(null, [{ address, family: 4 }]) : done(null, address, 4)));
}

dns.lookup = /** @type {typeof dns.lookup} */ (/** @type {unknown} */ (clusterLookup));
