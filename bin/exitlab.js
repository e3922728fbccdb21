#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'src-main', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  console.error('exitlab: error: the project is not built yet; run `npm install` (or `npm run build`) first');
  process.exit(2);
}
require(entry).main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
