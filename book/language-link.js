// A link in the menu bar to the page being read, in the book's other
// edition: the English book is at the root of the output, the Chinese
// one (`book/build.sh`, `book/scripts/zh-CN.sh`) in `zh-CN/` under it.
// The two editions have the same pages and the same heading ids, so the
// link keeps the `#anchor` too.
(function () {
    "use strict";
    const buttons = document.querySelector("#mdbook-menu-bar .right-buttons");
    if (!buttons) {
        return;
    }
    const chinese = document.documentElement.lang === "zh-CN";
    // The labels that no message carries: an exercise's collapsed
    // solution and a chapter's collapsed speaker notes are HTML blocks,
    // `<details><summary>Solution</summary>`, which gettext extraction
    // leaves alone.
    const labels = { "Solution": "答案", "Speaker notes": "讲师备注" };
    if (chinese) {
        for (const summary of document.querySelectorAll("details > summary")) {
            const label = labels[summary.textContent.trim()];
            if (label) {
                summary.textContent = label;
            }
        }
    }
    // `path_to_root` is mdBook's: from this page to its edition's root.
    const root = new URL(path_to_root || "./", location.href);
    if (chinese && root.pathname === "/") {
        // The Chinese edition served on its own, at the root of a server
        // (`zh-CN.sh serve` serves both): no English edition above.
        return;
    }
    const link = document.createElement("a");
    link.className = "language-link";
    link.lang = chinese ? "en" : "zh-CN";
    link.hreflang = link.lang;
    link.textContent = chinese ? "English" : "中文";
    link.title = chinese ? "Read this page in English" : "阅读本页的中文版";
    link.setAttribute("aria-label", link.title);
    const point = () => {
        const here = location.href.startsWith(root.href)
            ? location.href.slice(root.href.length)
            : "";
        link.href = new URL((chinese ? "../" : "zh-CN/") + here, root).href;
    };
    point();
    window.addEventListener("hashchange", point);
    buttons.prepend(link);
    // `mdbook serve book` serves the English edition alone: hide the
    // link if the other is not there.
    if (location.protocol.startsWith("http")) {
        fetch(link.href, { method: "HEAD" })
            .then((response) => {
                if (!response.ok) {
                    link.remove();
                }
            })
            .catch(() => {});
    }
})();
