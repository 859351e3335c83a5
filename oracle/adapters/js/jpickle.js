// Adapter of the npm package jpickle (docs/adapters.md), view "js-object".
// jpickle resolves globals only from its own table of emulated functions.
'use strict';
const jpickle = require('jpickle');
const { main } = require('./jsview.js');

main('js-object', (data) => jpickle.loads(data.toString('binary')));
