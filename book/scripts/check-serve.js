// Serves the book the way a reader of the Chinese edition does
// (`bash book/scripts/zh-CN.sh serve`) and runs book/language-link.js on
// a page of each edition against that server, as the browser would:
// the link in the menu bar to the same page in the other edition must be
// there, and lead to a page that the server has. book/build.sh runs it.
//
// Usage: node book/scripts/check-serve.js
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const net = require("net");
const path = require("path");
const vm = require("vm");

const me = "book/scripts/check-serve.js";
const repo = path.resolve(__dirname, "../..");

function freePort() {
    return new Promise((resolve, reject) => {
        const probe = net.createServer();
        probe.on("error", reject);
        probe.listen(0, "127.0.0.1", () => {
            const { port } = probe.address();
            probe.close(() => resolve(port));
        });
    });
}

// Runs language-link.js on the page at `url`, of the edition `lang`, in
// a document that has only what the script uses; resolves to the link
// that it left in the menu bar, or null.
async function linkOn(url, lang) {
    const buttons = [];
    let check = Promise.resolve();
    const document = {
        documentElement: { lang },
        querySelector: (selector) =>
            selector === "#mdbook-menu-bar .right-buttons"
                ? { prepend: (element) => buttons.unshift(element) }
                : null,
        querySelectorAll: () => [],
        createElement: () => ({
            attributes: {},
            setAttribute(name, value) {
                this.attributes[name] = value;
            },
            remove() {
                buttons.splice(buttons.indexOf(this), 1);
            },
        }),
    };
    const page = new URL(url);
    const context = {
        document,
        location: page,
        // mdBook's: from the page to its edition's root.
        path_to_root: "",
        URL,
        window: { addEventListener: () => {} },
        fetch: (...args) => {
            const response = fetch(...args);
            check = response.catch(() => {});
            return response;
        },
    };
    vm.createContext(context);
    const script = fs.readFileSync(path.join(repo, "book/language-link.js"), "utf8");
    vm.runInContext(script, context);
    await check;
    // The script removes the link in the `then` after the response.
    await new Promise((resolve) => setImmediate(resolve));
    return buttons[0] || null;
}

async function main() {
    const port = await freePort();
    const server = spawn("bash", ["book/scripts/zh-CN.sh", "serve", "-p", String(port)], {
        cwd: repo,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    server.stdout.on("data", (d) => (output += d));
    server.stderr.on("data", (d) => (output += d));
    const stop = () => {
        try {
            process.kill(-server.pid, "SIGTERM");
        } catch {
            // already gone
        }
    };
    const problems = [];
    try {
        const started = Date.now();
        // Until the server answers.
        for (;;) {
            if (server.exitCode !== null || Date.now() - started > 120000) {
                throw new Error(`zh-CN.sh serve did not start:\n${output}`);
            }
            const answered = await fetch(`http://127.0.0.1:${port}/`).then(
                () => true,
                () => false,
            );
            if (answered) {
                break;
            }
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const root = `http://127.0.0.1:${port}/`;
        const cases = [
            [`${root}zh-CN/ch04-mount.html#try-it`, "zh-CN", `${root}ch04-mount.html#try-it`],
            [`${root}zh-CN/`, "zh-CN", `${root}`],
            [`${root}ch04-mount.html`, "en", `${root}zh-CN/ch04-mount.html`],
        ];
        for (const [url, lang, want] of cases) {
            const page = await fetch(url);
            if (!page.ok) {
                problems.push(`${url}: HTTP ${page.status}`);
                continue;
            }
            if (!/<script src="[^"]*language-link[^"]*\.js"/.test(await page.text())) {
                problems.push(`${url} does not load language-link.js`);
            }
            const link = await linkOn(url, lang);
            if (!link) {
                problems.push(`${url}: no link to the other edition in the menu bar`);
            } else if (link.href !== want) {
                problems.push(`${url}: the link leads to ${link.href}, not ${want}`);
            } else if (!(await fetch(link.href)).ok) {
                problems.push(`${url}: the link leads to ${link.href}, which is not served`);
            }
        }
    } finally {
        stop();
    }
    if (problems.length > 0) {
        console.error(`${me}: served with zh-CN.sh serve:\n  ${problems.join("\n  ")}`);
        process.exit(1);
    }
    console.log(`${me}: zh-CN.sh serve serves both editions, linked to each other`);
}

main().catch((error) => {
    console.error(`${me}: ${error.message}`);
    process.exit(1);
});
