// /validate without a page reload: the file goes to the JSON API (POST /validate), and the grid,
// the findings and the publish form are built from its answer. Which cell a finding marks is the
// server's decision ("marks"); this script only draws it. Values are set as text, never as HTML.
// Without this script the same form POST answers with the page the server renders.
"use strict";

(function () {
  const form = document.getElementById("validate-form");
  const result = document.getElementById("result");
  if (!form || !result) return;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined) continue;
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c) node.append(c);
    return node;
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function place(loc) {
    let text = loc.file;
    if (loc.sheet) text += "[" + loc.sheet + "]";
    if (loc.row !== null) text += ":" + loc.row;
    if (loc.column !== null) text += ' column "' + loc.column + '"';
    return text;
  }

  async function problemText(response) {
    try {
      const body = await response.json();
      return body.detail || response.statusText;
    } catch (e) {
      return response.status + " " + response.statusText;
    }
  }

  function showError(text) {
    result.replaceChildren(el("p", { class: "notice", id: "error", text: text }));
  }

  function markTitle(report, mark) {
    return mark.findings
      .map((i) => report.findings[i].severity + ": " + report.findings[i].message)
      .join("\n");
  }

  function grid(body, tableIndex, marksByCell) {
    const table = body.tables[tableIndex];
    const report = body.report;
    const key = (row, column) => tableIndex + "|" + (row === null ? "" : row) + "|" + (column || "");
    const cell = (tag, id, row, column, text, extraClass) => {
      const mark = marksByCell.get(key(row, column));
      const classes = [extraClass, mark ? "sev-" + mark.severity.toLowerCase() : null]
        .filter(Boolean)
        .join(" ");
      return el(tag, {
        id: id,
        "data-row": row === null ? "" : String(row),
        "data-column": column || "",
        class: classes || null,
        title: mark ? markTitle(report, mark) : null,
        text: text,
      });
    };
    const head = el("tr", {});
    const colKey = (c) => c.replace(/[^A-Za-z0-9_-]/g, (ch) => "." + ch.charCodeAt(0).toString(16)) || ".";
    const headNum = cell("th", "cell-" + tableIndex + "-h-r", null, null, String(table.header_row), "rownum");
    headNum.setAttribute("scope", "col");
    head.append(headNum);
    for (const column of table.columns) {
      const th = cell("th", "cell-" + tableIndex + "-h-" + colKey(column), null, column, column);
      th.setAttribute("scope", "col");
      head.append(th);
    }
    const rows = el("tbody", {});
    for (const r of table.rows) {
      const tr = el("tr", {});
      const num = cell("th", "cell-" + tableIndex + "-" + r.row + "-r", r.row, null, String(r.row), "rownum");
      num.setAttribute("scope", "row");
      tr.append(num);
      table.columns.forEach((column, i) => {
        const value = r.values[i];
        tr.append(cell("td", "cell-" + tableIndex + "-" + r.row + "-" + colKey(column), r.row, column, value === null ? "" : value));
      });
      rows.append(tr);
    }
    const classes = "grid" + (report.findings.length ? "" : " clean");
    const t = el("table", { class: classes, "data-table": String(tableIndex), "data-sheet": table.sheet }, el("thead", {}, head), rows);
    return el("div", { class: "grid-scroll" }, t);
  }

  function findingsList(body, firstCell) {
    const report = body.report;
    const aside = el("aside", { class: "findings" }, el("h2", { text: "Findings" }));
    if (!report.findings.length) {
      aside.append(el("p", { id: "no-findings", text: "No findings: the file conforms." }));
      return aside;
    }
    const list = el("ol", { id: "findings" });
    report.findings.forEach((f, i) => {
      const where = f.locations.length ? place(f.locations[0]) : f.record;
      const item = el("li", { class: "sev-" + f.severity.toLowerCase() });
      if (firstCell.has(i)) {
        const id = firstCell.get(i);
        const link = el("a", { href: "#" + id, "data-cell": id, text: where });
        link.addEventListener("click", (event) => {
          event.preventDefault();
          const target = document.getElementById(id);
          document.querySelectorAll(".focused").forEach((n) => n.classList.remove("focused"));
          target.classList.add("focused");
          target.scrollIntoView({ block: "center", inline: "center" });
        });
        item.append(link);
      } else {
        item.append(el("span", { text: where }));
      }
      item.append(" ", el("strong", { text: f.severity }), ": " + f.message);
      if (f.value !== null) item.append(" ", el("span", { class: "got", text: "(got " + f.value + ")" }));
      list.append(item);
    });
    aside.append(list);
    return aside;
  }

  function downloads(body) {
    const form = el("form", { id: "download-form", action: "/validate/report", method: "post" });
    form.append(
      el("input", { type: "hidden", name: "report", value: JSON.stringify({ report: body.report, prefixes: body.prefixes }) }),
      el("input", { type: "hidden", name: "file", value: body.file })
    );
    const p = el("p", { text: "Download the report: " });
    for (const [value, label] of [["sarif", "SARIF"], ["json", "JSON"], ["ttl", "Turtle (SHACL)"]]) {
      p.append(el("button", { type: "submit", name: "format", value: value, text: label }), " ");
    }
    form.append(p);
    return form;
  }

  function publishSection(body) {
    const section = el("section", { class: "publish" }, el("h2", { text: "Publish this file" }));
    const out = el("div", { id: "publish-result", "aria-live": "polite" });
    const dataset = el("input", { id: "dataset", name: "dataset", value: form.dataset.dataset || "" });
    const token = el("input", { id: "token", name: "token", type: "password", autocomplete: "off" });
    const preview = el("button", { type: "button", id: "preview-button", text: "Preview the changes" });
    const publish = el("button", { type: "button", id: "publish-button", text: "Publish", hidden: "" });
    async function send(action) {
      const data = new FormData(form);
      data.set("dataset", dataset.value);
      data.set("action", action);
      out.replaceChildren(el("p", { text: action === "preview" ? "Computing the changes…" : "Publishing…" }));
      const response = await fetch("/validate/publish", {
        method: "POST",
        body: data,
        headers: { Accept: "application/json", Authorization: "Bearer " + token.value },
      });
      if (!response.ok) {
        out.replaceChildren(el("p", { class: "notice", id: "publish-error", text: await problemText(response) }));
        return;
      }
      const answer = await response.json();
      const r = answer.result;
      if (r.refused) {
        out.replaceChildren(el("p", { class: "notice", text: r.refused }));
      } else if (action === "preview") {
        out.replaceChildren(
          el("p", { id: "preview", text: "Publishing " + body.file + " into dataset " + answer.dataset + " would change:" }),
          el("pre", { text: r.summary_text || "nothing" })
        );
        publish.hidden = false;
      } else {
        const text = r.release
          ? "Published into dataset " + answer.dataset + ": release " + r.release.id + "."
          : "Nothing changed: dataset " + answer.dataset + " already holds this file as it is.";
        out.replaceChildren(el("p", { id: "published", text: text }));
        publish.hidden = true;
      }
    }
    preview.addEventListener("click", () => send("preview"));
    publish.addEventListener("click", () => send("publish"));
    section.append(
      el(
        "div",
        { class: "publish-fields" },
        el("label", { for: "dataset", text: "Dataset" }), dataset,
        el("label", { for: "token", text: "Write token (sent with each request, never kept)" }), token,
        el("p", {}, preview, " ", publish)
      ),
      out
    );
    return section;
  }

  function show(body) {
    const report = body.report;
    const counts = report.counts;
    const state = report.findings.length === 0 ? "conforms" : report.conforms ? "warns" : "fails";
    const summary = el("p", {
      id: "summary",
      class: "summary " + state,
      "data-violations": String(counts.Violation),
      "data-warnings": String(counts.Warning),
      "data-infos": String(counts.Info),
    });
    summary.append(
      el("strong", { text: body.file }),
      ": " + plural(counts.Violation, "violation") + ", " + plural(counts.Warning, "warning") + ", " +
        plural(counts.Info, "info") + (report.findings.length ? "" : ": no findings")
    );
    const marksByCell = new Map();
    const firstCell = new Map();
    for (const m of body.marks) {
      marksByCell.set(m.table + "|" + (m.row === null ? "" : m.row) + "|" + (m.column || ""), m);
      for (const i of m.findings) if (!firstCell.has(i)) firstCell.set(i, m.id);
    }
    const grids = el("div", { class: "grids" });
    body.tables.forEach((t, i) => {
      if (t.sheet) grids.append(el("h2", { text: "Sheet " + t.sheet }));
      grids.append(grid(body, i, marksByCell));
    });
    const aside = findingsList(body, firstCell);
    aside.append(downloads(body));
    const publishing = form.dataset.writes === "yes" ? publishSection(body) : null;
    result.replaceChildren(summary, el("div", { class: "workbench-body" }, grids, aside));
    if (publishing) result.append(publishing);
    result.dataset.state = "shown";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.dataset.state = "checking";
    result.replaceChildren(el("p", { text: "Checking…" }));
    let response;
    try {
      response = await fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" } });
    } catch (e) {
      showError("the server could not be reached: " + e);
      result.dataset.state = "error";
      return;
    }
    if (!response.ok) {
      showError(await problemText(response));
      result.dataset.state = "error";
      return;
    }
    show(await response.json());
  });
})();
