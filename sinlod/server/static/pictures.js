// sinlod's pictures: the map (d3-geo + world-atlas outlines), the network (cytoscape) and the
// timeline (SVG), each drawn into a <figure data-source="…json"> from the page's JSON. The page
// lists the same facts as HTML; this only adds the picture. Text is set as text, never as HTML.
// When a picture is drawn, its figure gets data-state="ready" and data-marks="N" (the marks drawn).
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function titled(node, text) {
    el("title", {}, node).textContent = text;
    return node;
  }

  function link(parent, href) {
    if (!href) return parent;
    var a = el("a", {}, parent);
    a.setAttribute("href", href);
    return a;
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r.json();
    });
  }

  function done(figure, marks) {
    figure.setAttribute("data-marks", String(marks));
    figure.setAttribute("data-state", "ready");
  }

  function failed(figure, error) {
    figure.setAttribute("data-state", "failed");
    var p = document.createElement("p");
    p.className = "notice";
    p.textContent = "The picture could not be drawn (" + error.message + "); the list below has the same facts.";
    figure.appendChild(p);
  }

  // -- map ---------------------------------------------------------------------------------------
  function drawMap(figure) {
    var width = 800, height = 560;
    return Promise.all([
      getJSON("/static/vendor/world-atlas/countries-110m.json"),
      getJSON(figure.getAttribute("data-source")),
    ]).then(function (loaded) {
      var world = loaded[0], points = loaded[1].points;
      if (!points.length) { figure.hidden = true; done(figure, 0); return; }
      var lons = points.map(function (p) { return p.long; });
      var lats = points.map(function (p) { return p.lat; });
      var pad = 2;
      var box = {
        type: "MultiPoint",
        coordinates: [
          [Math.min.apply(null, lons) - pad, Math.min.apply(null, lats) - pad],
          [Math.max.apply(null, lons) + pad, Math.max.apply(null, lats) + pad],
        ],
      };
      var projection = d3.geoMercator().fitExtent([[20, 20], [width - 20, height - 20]], box);
      var path = d3.geoPath(projection);
      var svg = el("svg", { viewBox: "0 0 " + width + " " + height, role: "img", class: "map-svg" });
      titled(svg, "Map of " + points.length + " places");
      el("rect", { width: width, height: height, class: "sea" }, svg);
      var land = el("g", { class: "countries" }, svg);
      topojson.feature(world, world.objects.countries).features.forEach(function (f) {
        var d = path(f);
        if (d) titled(el("path", { d: d, class: "country" }, land), f.properties.name);
      });
      var marks = el("g", { class: "markers" }, svg);
      var max = Math.max.apply(null, points.map(function (p) { return p.things; }).concat([1]));
      points.forEach(function (p) {
        var xy = projection([p.long, p.lat]);
        var a = link(marks, p.href);
        var r = 5 + 7 * Math.sqrt(p.things / max);
        titled(el("circle", { cx: xy[0], cy: xy[1], r: r, class: "marker" }, a),
          p.label + " (" + p.things + ")");
        var t = el("text", { x: xy[0] + r + 2, y: xy[1] + 4, class: "marker-label" }, a);
        t.textContent = p.label;
      });
      figure.insertBefore(svg, figure.firstChild);
      done(figure, marks.querySelectorAll("circle.marker").length);
    });
  }

  // -- network -----------------------------------------------------------------------------------
  var COLOURS = { project: "#b5482a", event: "#d89b2b", organisation: "#2a6fb5", person: "#3b8a4f", other: "#777" };

  function drawNetwork(figure) {
    return getJSON(figure.getAttribute("data-source")).then(function (net) {
      var host = document.createElement("div");
      host.className = "network-canvas";
      figure.insertBefore(host, figure.firstChild);
      var elements = net.nodes.map(function (n) {
        return { data: { id: n.id, label: n.label, kind: n.kind, depth: n.depth, href: n.href, network: n.network } };
      }).concat(net.edges.map(function (e, i) {
        return { data: { id: "e" + i, source: e.source, target: e.target, label: e.label } };
      }));
      var cy = cytoscape({
        container: host,
        elements: elements,
        style: [
          { selector: "node", style: {
            label: "data(label)", "font-size": 9, "text-wrap": "ellipsis", "text-max-width": 120,
            "background-color": function (n) { return COLOURS[n.data("kind")] || COLOURS.other; },
            width: function (n) { return n.data("depth") === 0 ? 28 : 16; },
            height: function (n) { return n.data("depth") === 0 ? 28 : 16; },
          } },
          { selector: "edge", style: { width: 1, "line-color": "#bbb", "curve-style": "haystack" } },
        ],
        layout: {
          name: "concentric",
          concentric: function (n) { return 10 - n.data("depth"); },
          levelWidth: function () { return 1; },
          minNodeSpacing: 12,
          animate: false,
        },
        wheelSensitivity: 0.3,
      });
      cy.on("tap", "node", function (evt) {
        var d = evt.target.data();
        window.location.href = d.depth === 0 ? (d.href || d.network) : d.network;
      });
      window.sinlodNetwork = cy;
      figure.setAttribute("data-nodes", String(cy.nodes().length));
      figure.setAttribute("data-edges", String(cy.edges().length));
      done(figure, cy.nodes().length);
    });
  }

  // -- timeline ----------------------------------------------------------------------------------
  // A partial date (2017, 2017-11, 2017-11-20) as the [first, last] day it may mean, in years.
  function span(text) {
    var parts = text.split("-").map(Number);
    var y = parts[0], m = parts[1], d = parts[2];
    function year(date) {
      var start = Date.UTC(date.getUTCFullYear(), 0, 1);
      var next = Date.UTC(date.getUTCFullYear() + 1, 0, 1);
      return date.getUTCFullYear() + (date.getTime() - start) / (next - start);
    }
    if (!m) return [y, y + 1];
    if (!d) return [year(new Date(Date.UTC(y, m - 1, 1))), year(new Date(Date.UTC(y, m, 1)))];
    var first = year(new Date(Date.UTC(y, m - 1, d)));
    return [first, year(new Date(Date.UTC(y, m - 1, d + 1)))];
  }

  function drawTimeline(figure) {
    return getJSON(figure.getAttribute("data-source")).then(function (data) {
      var items = data.items.filter(function (i) { return i.start; });
      if (!items.length) { figure.hidden = true; done(figure, 0); return; }
      var rows = items.map(function (i) {
        var s = span(i.start), e = i.end ? span(i.end) : s;
        return { item: i, from: s[0], to: Math.max(e[1], s[1]) };
      });
      var lo = Math.floor(Math.min.apply(null, rows.map(function (r) { return r.from; })));
      var hi = Math.ceil(Math.max.apply(null, rows.map(function (r) { return r.to; })));
      if (hi <= lo) hi = lo + 1;
      var left = 250, right = 40, rowH = 24, top = 30;
      var width = 900, height = top + rows.length * rowH + 10;
      function x(year) { return left + (width - left - right) * (year - lo) / (hi - lo); }
      var svg = el("svg", { viewBox: "0 0 " + width + " " + height, role: "img", class: "timeline-svg" });
      titled(svg, "Timeline of " + rows.length + " projects and events");
      var axis = el("g", { class: "axis" }, svg);
      for (var yr = lo; yr <= hi; yr++) {
        el("line", { x1: x(yr), x2: x(yr), y1: top - 8, y2: height, class: "tick" }, axis);
        el("text", { x: x(yr) + 2, y: top - 12, class: "tick-label" }, axis).textContent = String(yr);
      }
      var marks = el("g", { class: "items" }, svg);
      rows.forEach(function (r, n) {
        var i = r.item, y = top + n * rowH;
        var a = link(marks, i.href);
        var cls = "mark " + i.kind + (i.planned ? " planned" : "");
        var when = i.start + (i.end ? " – " + i.end : "");
        if (i.kind === "project") {
          titled(el("rect", { x: x(r.from), y: y + 4, width: Math.max(3, x(r.to) - x(r.from)), height: rowH - 8, rx: 3, class: cls }, a), i.label + ": " + when);
        } else {
          titled(el("circle", { cx: (x(r.from) + x(r.to)) / 2, cy: y + rowH / 2, r: 6, class: cls }, a), i.label + ": " + when);
        }
        var t = el("text", { x: left - 8, y: y + rowH / 2 + 4, class: "item-label" }, a);
        t.textContent = i.label.length > 40 ? i.label.slice(0, 39) + "…" : i.label;
      });
      figure.insertBefore(svg, figure.firstChild);
      done(figure, marks.querySelectorAll(".mark").length);
    });
  }

  var drawers = { map: drawMap, network: drawNetwork, timeline: drawTimeline };
  document.querySelectorAll("figure.picture[data-source]").forEach(function (figure) {
    var kind = Object.keys(drawers).filter(function (k) { return figure.classList.contains(k); })[0];
    if (!kind) return;
    drawers[kind](figure).catch(function (error) { failed(figure, error); });
  });
})();
