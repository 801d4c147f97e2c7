// Node module hooks: `k6` and `k6/<module>` resolve to the shims beside this file, so a k6
// scenario runs under Node against a real gateway (load-tests/test/k6-scenarios.test.ts).
const SHIMS = new Set(['k6', 'k6/http', 'k6/metrics', 'k6/execution', 'k6/timers', 'k6/websockets']);

export async function resolve(specifier, context, next) {
  if (SHIMS.has(specifier)) {
    const name = specifier === 'k6' ? 'k6' : specifier.slice(3);
    return { url: new URL(`./${name}.ts`, import.meta.url).href, shortCircuit: true };
  }
  if (specifier.startsWith('k6/')) throw new Error(`the k6 shim has no ${specifier}`);
  return next(specifier, context);
}
