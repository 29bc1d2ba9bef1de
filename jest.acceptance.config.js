/**
 * `npm run test:acceptance` only: the acceptance suites (tests/acceptance/*.acceptance.ts) against the real servers the
 * environment names. Kept out of the default jest config (its roots/testMatch never see *.acceptance.ts), so `npm test`
 * never runs them. One suite at a time: they drive real servers and the real engine, step after step.
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests/acceptance"],
  testMatch: ["**/*.acceptance.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
  },
  modulePathIgnorePatterns: ["<rootDir>/dist/", "<rootDir>/examples/"],
  testTimeout: 600000,
  maxWorkers: 1,
  verbose: true,
};
