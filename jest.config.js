/** One jest run for every suite; ts-jest compiles tests on the fly (type-checking is `npm run build`'s job). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
  },
  modulePathIgnorePatterns: ["<rootDir>/dist/", "<rootDir>/examples/"],
  testTimeout: 60000,
  // Servers and engines are real processes: keep suites from starving the 2-core machine.
  maxWorkers: 2,
};
