// Shared by the JavaScript adapters (docs/adapters.md): the adapter
// framing, and JavaScript values rendered in the views of
// oracle/adapters/view.py ("js": dicts are Maps; "js-object": dicts are
// plain objects, keys sorted). Anything else (a global, an object, a
// function, a cycle) is "cannot-represent".
'use strict';
const fs = require('fs');

class CannotRepresent extends Error {}
const SAFE = 2 ** 53;
const MAX_TEXT = 1 << 20;

function floatBits(x) {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  return 'f:' + b.toString('hex');
}

function num(x) {
  if (Number.isNaN(x)) return 'nan';
  if (Number.isInteger(x) && Math.abs(x) < SAFE) return 'n:' + (x === 0 ? '0' : String(x));
  return floatBits(x);
}

function escStr(s) {
  let out = "s'";
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u >= 0x20 && u < 0x7f && u !== 0x5c && u !== 0x27) out += s[i];
    else out += '\\u' + u.toString(16).padStart(4, '0');
  }
  return out + "'";
}

function render(root, view) {
  let size = 0;
  const path = new Set();
  function cmp(a, b) { return a < b ? -1 : a > b ? 1 : 0; }
  function key(k) {
    if (view === 'js-object') return escStr(String(k));
    return r(k);
  }
  function r(x) {
    let t;
    if (x === null || x === undefined) t = 'None';
    else if (x === true) t = 'True';
    else if (x === false) t = 'False';
    else if (typeof x === 'number') t = num(x);
    else if (typeof x === 'bigint') t = 'n:' + x.toString();
    else if (typeof x === 'string') t = escStr(x);
    else if (x instanceof Uint8Array) t = 'b:' + Buffer.from(x).toString('hex');
    else if (Array.isArray(x) || x instanceof Map || x instanceof Set ||
             (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype)) {
      if (path.has(x)) throw new CannotRepresent('a cycle');
      path.add(x);
      if (Array.isArray(x)) t = '[' + x.map(r).join(', ') + ']';
      else if (x instanceof Set) t = 'set{' + Array.from(x, r).sort(cmp).join(', ') + '}';
      else {
        const entries = x instanceof Map ? Array.from(x.entries()) : Object.entries(x);
        let items = entries.map(([k, v]) => [key(k), r(v)]);
        if (view !== 'js') items.sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]));
        t = '{' + items.map(([k, v]) => k + ': ' + v).join(', ') + '}';
      }
      path.delete(x);
    } else {
      throw new CannotRepresent('a ' + (typeof x) + ' node (global, object or buffer)');
    }
    size += t.length;
    if (size > MAX_TEXT) throw new CannotRepresent('more than ' + MAX_TEXT + ' characters of text');
    return t;
  }
  try {
    return 'root: ' + r(root) + '\n';
  } catch (e) {
    if (e instanceof RangeError) throw new CannotRepresent('nesting too deep');
    throw e;
  }
}

function oneLine(s) {
  return String(s).replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

// main(view, decode): decode(Buffer) -> JS value, for every file argument.
function main(view, decode) {
  for (const path of process.argv.slice(2)) {
    fs.writeSync(1, '### ' + path + '\n');
    let body;
    try {
      const value = decode(fs.readFileSync(path));
      body = render(value, view);
    } catch (e) {
      if (e instanceof CannotRepresent) body = 'cannot-represent: ' + e.message + '\n';
      else if (e instanceof Error) body = 'error: ' + e.name + ': ' + oneLine(e.message) + '\n';
      else body = 'error: Error: ' + oneLine(e) + '\n';  // jpickle throws strings
    }
    fs.writeSync(1, body);
  }
}

module.exports = { main, render, CannotRepresent };
