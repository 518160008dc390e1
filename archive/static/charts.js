/* Renders the charts of /-/charts: each <div data-vega-lite="ID"> gets the
 * Vega-Lite spec in <script type="application/json" id="ID"> (data inline),
 * drawn as SVG by the vendored vega and vega-lite (no network). Sets
 * data-rendered="true" on success, or data-error and a message on failure. */
(function () {
  "use strict";
  function render(el) {
    var source = document.getElementById(el.getAttribute("data-vega-lite"));
    try {
      var spec = JSON.parse(source.textContent);
      var compiled = vegaLite.compile(spec).spec;
      var view = new vega.View(vega.parse(compiled), {
        renderer: "svg", container: el, hover: true
      });
      return view.runAsync().then(function () {
        el.setAttribute("data-rendered", "true");
      }, function (err) { fail(el, err); });
    } catch (err) {
      fail(el, err);
      return Promise.resolve();
    }
  }
  function fail(el, err) {
    el.setAttribute("data-error", String(err && err.message || err));
    var p = document.createElement("p");
    p.className = "chart-error";
    p.textContent = "This chart could not be drawn (" + (err && err.message || err) +
      "); the numbers are in the table below it.";
    el.appendChild(p);
  }
  function start() {
    var charts = document.querySelectorAll("[data-vega-lite]");
    Promise.all(Array.prototype.map.call(charts, render)).then(function () {
      document.body.setAttribute("data-charts-done", "true");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
