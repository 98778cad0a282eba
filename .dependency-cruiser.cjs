/**
 * `npm run deps`: no import cycles in src/, bin/, bench/, scripts/ or test/. TypeScript 7 is native and has no
 * JS API for dependency-cruiser, so @swc/core parses the sources; its "missing-tsc-transpiler" notice is expected.
 */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "A cycle means two files are one idea split badly; move the shared part out.",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    parser: "swc",
  },
};
