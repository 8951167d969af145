#!/usr/bin/env node
// The published entry point: the compiled CLI lives in dist/ (built by `npm ci` through `prepare`).
import { main } from "../dist/src/cmd/tk8s.js";
main(process.argv);
