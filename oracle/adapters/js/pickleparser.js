// Adapter of the npm package pickleparser (docs/adapters.md), view "js".
// Globals resolve to inert classes and persistent ids / extensions to inert
// records, so nothing named by a stream runs; the view renders them as
// cannot-represent.
'use strict';
const { Parser } = require('pickleparser');
const { main } = require('./jsview.js');

class Opaque { constructor() { this.__opaque = true; } }
// Callable with and without `new` (REDUCE calls, NEWOBJ constructs).
function opaqueClass() {
  return function Global() { return new Opaque(); };
}

const options = {
  nameResolver: { resolve: () => opaqueClass() },
  persistentResolver: { resolve: () => new Opaque() },
  extensionResolver: { resolve: () => opaqueClass() },
  unpicklingTypeOfDictionary: 'Map',
  unpicklingTypeOfSet: 'Set',
};
main('js', (data) => new Parser(options).parse(data));
