// A Node test-runner reporter that writes one JSON object: the run's Nix (from
// NIX_HUG_TEST_RECORD_NIX, set by run-tests.mjs), the runner's own summary counts,
// and the names of the tests that failed. A later run checks it (test/nix/test-matrix.test.ts),
// so the summary CI reads last also answers for the earlier passes.
export default async function* recordReporter(source) {
  const counts = {};
  const failed = [];
  for await (const event of source) {
    if (event.type === 'test:fail' && event.data.details?.type !== 'suite') {
      failed.push(`${event.data.file ?? '?'}: ${event.data.name}`);
    } else if (event.type === 'test:diagnostic' && event.data.nesting === 0) {
      // The summary: "tests 42", "pass 41", "fail 1", "cancelled 0", "duration_ms 1234.5", …
      const m = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/.exec(event.data.message);
      if (m) counts[m[1]] = Number(m[2]);
    }
  }
  const nix = JSON.parse(process.env.NIX_HUG_TEST_RECORD_NIX ?? 'null');
  yield `${JSON.stringify({ nix, counts, failed }, null, 2)}\n`;
}
