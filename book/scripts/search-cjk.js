// The reader's half of the Chinese edition's search (the other half is
// book/scripts/search-cjk.py, which puts this file at the top of the
// edition's searchindex-*.js, so that it runs before the index loads).
//
// mdBook's search (elasticlunr) cuts a query into words at blanks, and
// trims from each word what is not a Latin letter or digit: a Chinese
// word, written without blanks, is trimmed away and finds nothing. Here
// a run of Chinese characters becomes the pairs of characters that
// follow each other in it (命名空间: 命名 名空 空间), or the one
// character of a run of one, which is how search-cjk.py has indexed the
// pages; with `bool: "AND"`, a section is found when it has every pair.
(function () {
    "use strict";
    if (typeof elasticlunr === "undefined") {
        return;
    }
    // Keep in step with HAN in search-cjk.py.
    const han = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/g;
    const onlyHan = /^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$/;

    const words = elasticlunr.tokenizer;
    const tokenizer = function (text) {
        const tokens = [];
        for (const word of words.apply(this, arguments)) {
            for (const run of word.match(han) || []) {
                if (run.length === 1) {
                    tokens.push(run);
                }
                for (let i = 0; i + 1 < run.length; i++) {
                    tokens.push(run.slice(i, i + 2));
                }
            }
            // What is not Chinese, as mdBook's tokenizer left it.
            for (const rest of word.split(han)) {
                if (rest !== "") {
                    tokens.push(rest);
                }
            }
        }
        return tokens;
    };
    // The original reads its settings (`seperator`) from itself.
    Object.assign(tokenizer, words);
    elasticlunr.tokenizer = tokenizer;

    // The trimmer would trim a Chinese token to nothing.
    const trimmer = elasticlunr.trimmer;
    const trimmerHan = (token) => (onlyHan.test(token) ? token : trimmer(token));
    trimmerHan.label = "trimmer-han";
    elasticlunr.Pipeline.registeredFunctions[trimmerHan.label] = trimmerHan;
})();
