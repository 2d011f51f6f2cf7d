// Searches the built books the way a reader's browser does: it runs the
// elasticlunr and the search index that mdBook wrote (with, in the
// Chinese edition, what book/scripts/search-cjk.py added to it), and
// asks them for words. Each word must find every section whose text
// has it, and only those. book/build.sh runs it after both builds.
//
// Usage: node book/scripts/check-search.js BOOK_DIR   (book/book)
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const me = "book/scripts/check-search.js";

// One edition's search, as searcher.js sets it up: a function from a
// query to the sections it finds, and all the sections.
function load(dir) {
    const one = (prefix) => {
        const names = fs
            .readdirSync(dir)
            .filter((n) => n.startsWith(prefix) && n.endsWith(".js"));
        if (names.length !== 1) {
            throw new Error(`${dir}: expected one ${prefix}*.js, found ${names.length}`);
        }
        return fs.readFileSync(path.join(dir, names[0]), "utf8");
    };
    const context = { window: { search: {} }, console };
    vm.createContext(context);
    vm.runInContext(`${one("elasticlunr")}\nthis.elasticlunr = elasticlunr;`, context);
    vm.runInContext(one("searchindex"), context);
    const config = context.window.search;
    const index = context.elasticlunr.Index.load(config.index);
    const docs = config.index.documentStore.docs;
    const search = (query) =>
        index.search(query, config.search_options).map((r) => docs[r.ref]);
    return { search, sections: Object.values(docs) };
}

const book = process.argv[2];
if (!book) {
    console.error(`usage: node ${me} BOOK_DIR`);
    process.exit(2);
}
const problems = [];
// Chinese words, and words of the code and the transcripts, which both
// editions show in English.
const cases = [
    ["zh-CN", "命名空间"],
    ["zh-CN", "主机名"],
    ["zh-CN", "挂载点"],
    ["zh-CN", "名"],
    ["zh-CN", "hostname"],
    [".", "namespace"],
    [".", "hostname"],
];
for (const [edition, word] of cases) {
    const { search, sections } = load(path.join(book, edition));
    const found = search(word);
    const label = `${edition === "." ? "English" : edition}: "${word}"`;
    if (found.length === 0) {
        problems.push(`${label} finds nothing`);
        continue;
    }
    console.log(`${me}: ${label}: ${found.length} sections`);
    if (/^[a-z]/i.test(word)) {
        // English: the stemmer and the match on a word's start find other
        // forms too (`namespaces`), and a word inside a longer one
        // (`sethostname`) is not found: finding it at all is the check.
        continue;
    }
    const has = (d) => [d.title, d.body, d.breadcrumbs].some((f) => (f || "").includes(word));
    const wrong = found.filter((d) => !has(d));
    if (wrong.length > 0) {
        problems.push(`${label} finds ${wrong.length} sections without it: ${wrong[0].breadcrumbs}, ...`);
    }
    const missed = sections.filter((d) => has(d) && !found.includes(d));
    if (missed.length > 0) {
        problems.push(`${label} misses ${missed.length} sections that have it: ${missed[0].breadcrumbs}, ...`);
    }
}
if (problems.length > 0) {
    console.error(`${me}: the search does not find what the pages say:\n  ${problems.join("\n  ")}`);
    process.exit(1);
}
