'use strict';
// Mocha's spec reporter, plus the closing line CI reads ("N passed, N failed, N skipped")
// and, under CI=true, a failure for any skipped test: CI must run everything.
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class LigReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      const ci = process.env.CI === 'true' || process.env.CI === '1';
      if (ci && pending > 0) {
        console.log(`under CI nothing may be skipped, but ${pending} test(s) were`);
        process.exitCode = 1;
      }
      console.log(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`);
    });
  }
}
module.exports = LigReporter;
