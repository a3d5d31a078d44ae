// The query page with YASGUI: the example queries in tabs, on this server's /sparql only.
// Without JavaScript (or without YASGUI) the plain form below it keeps working.
(function () {
  "use strict";
  var host = document.getElementById("yasgui");
  var configEl = document.getElementById("query-config");
  if (!host || !configEl || typeof window.Yasgui !== "function") {
    return; // YASGUI did not load: keep the form
  }
  var config = JSON.parse(configEl.textContent);
  var local = { endpoint: config.endpoint, method: "POST" };
  // A shared link (#query=...): YASGUI opens it in a tab of its own, which stays selected.
  var shared = /(^#|&)query=/.test(window.location.hash);
  var yasgui = new window.Yasgui(host, {
    requestConfig: local,
    // Nothing leaves this server: no endpoint catalogue of third parties, no remote
    // autocompletion (LOV, prefix.cc), no link shortener, nothing kept in localStorage.
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: config.endpoint }]; } },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    // "Share query" links carry the query in the URL's fragment; opening one shows that query,
    // always on this server's endpoint, whatever endpoint the link names.
    populateFromUrl: function (fromUrl) {
      fromUrl.requestConfig.endpoint = config.endpoint;
      fromUrl.requestConfig.method = "POST";
      return fromUrl;
    },
    autoAddOnInit: false,
    autofocus: false,
    yasqe: {
      autocompleters: ["prefixes", "variables"], // prefixes from the bundled list only
      prefixCcApi: null,
      persistenceId: null,
      createShortLink: undefined,
      resizeable: true,
      editorHeight: "320px",
    },
    yasr: { persistenceId: null },
  });
  var wanted = new URLSearchParams(window.location.search).get("example");
  var chosen = shared ? -1 : Math.max(0, config.examples.findIndex(function (e) {
    return e.id === wanted;
  }));
  config.examples.forEach(function (example, i) {
    yasgui.addTab(i === chosen, {
      name: example.name,
      yasqe: { value: example.query },
      requestConfig: local,
    });
  });
  if (config.examples.length === 0 && !shared) {
    yasgui.addTab(true, { requestConfig: local });
  }
  // Results link IRIs of this dataset to this server's pages, not to the (production) base IRI.
  function localise(root) {
    root.querySelectorAll("a[href]").forEach(function (a) {
      config.local.some(function (pair) {
        if (a.href.indexOf(pair[0]) === 0) {
          a.href = pair[1] + a.href.slice(pair[0].length);
          return true;
        }
        return false;
      });
    });
  }
  new MutationObserver(function () { localise(host); }).observe(host, {
    childList: true,
    subtree: true,
  });
  document.getElementById("query-form").hidden = true;
  host.dataset.ready = "true";
  window.sinlodYasgui = yasgui; // for people poking at the page, and for the browser tests
})();
