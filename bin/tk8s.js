#!/usr/bin/env -S node --max-semi-space-size=64
// The published entry point: the compiled CLI lives in dist/ (built by `npm ci` through `prepare`).
// A larger young generation (64 MiB semi-spaces instead of 16) halves the scavenges a server under
// request load runs; measured: +5–15% datastore put throughput (docs/benchmarks.md). V8 reads the flag
// only at start-up, hence the shebang: run this file itself (npx tk8s, ./bin/tk8s.js) to get it.
import { main } from "../dist/src/cmd/tk8s.js";
main(process.argv);
