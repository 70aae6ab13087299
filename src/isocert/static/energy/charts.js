/* Energy charts: every <canvas data-chart="…" data-source="id"> is drawn from the
   json_script block named by data-source; the pages show the numbers as tables too.
   Kinds: scatter (points + fitted line), line (one series), multi (several series, each
   on the y axis of its unit when the data names axes),
   pareto (bars + cumulative share). */
(function () {
  "use strict";
  var BLUE = "#0b5cab", TEAL = "#0f766e", GREY = "#6b7280", ORANGE = "#c2410c";
  var PALETTE = [TEAL, BLUE, ORANGE, "#7c3aed", "#be185d", GREY];
  var BASE = { animation: false, responsive: true, maintainAspectRatio: false };

  function options(extra) {
    var result = {};
    Object.keys(BASE).forEach(function (k) { result[k] = BASE[k]; });
    Object.keys(extra || {}).forEach(function (k) { result[k] = extra[k]; });
    return result;
  }

  /* One y axis per unit (kWh/t on the left, actual ÷ expected on the right …). */
  function axes(list) {
    var scales = {};
    list.forEach(function (a, i) {
      scales[a.id] = { position: a.position, title: { display: true, text: a.title },
                       grid: { drawOnChartArea: i === 0 } };
    });
    return scales;
  }

  var builders = {
    scatter: function (d) {
      var datasets = [
        { type: "scatter", label: "Baseline period", data: d.baseline, backgroundColor: BLUE },
        { type: "line", label: "Model", data: d.line, borderColor: GREY, pointRadius: 0,
          borderWidth: 2 }
      ];
      if (d.reporting && d.reporting.length) {
        datasets.splice(1, 0, { type: "scatter", label: "Reporting period", data: d.reporting,
                                backgroundColor: ORANGE });
      }
      return { type: "scatter", data: { datasets: datasets },
               options: options({ scales: {
                 x: { type: "linear", title: { display: true, text: d.x_label } },
                 y: { title: { display: true, text: d.y_label } } } }) };
    },
    line: function (d) {
      return { type: "line", data: { labels: d.labels, datasets: [
                 { label: d.label, data: d.values, borderColor: TEAL, backgroundColor: TEAL,
                   spanGaps: true }] },
               options: options({}) };
    },
    multi: function (d) {
      var labels = [];
      d.series.forEach(function (s) {
        s.labels.forEach(function (l) { if (labels.indexOf(l) < 0) { labels.push(l); } });
      });
      labels.sort();
      return { type: "line", data: { labels: labels, datasets: d.series.map(function (s, i) {
                 var byLabel = {};
                 s.labels.forEach(function (l, j) { byLabel[l] = s.values[j]; });
                 var colour = PALETTE[i % PALETTE.length];
                 var dataset = { label: s.label, borderColor: colour, backgroundColor: colour,
                          spanGaps: true,
                          data: labels.map(function (l) {
                            return byLabel[l] === undefined ? null : byLabel[l]; }) };
                 if (s.axis) { dataset.yAxisID = s.axis; }
                 return dataset;
               }) }, options: options(d.axes ? { scales: axes(d.axes) } : {}) };
    },
    pareto: function (d) {
      return { type: "bar", data: { labels: d.labels, datasets: [
                 { type: "bar", label: "kWh", data: d.kwh, yAxisID: "y", order: 1,
                   backgroundColor: d.significant.map(function (s) { return s ? TEAL : GREY; }) },
                 { type: "line", label: "Cumulative %", data: d.cumulative, yAxisID: "share",
                   order: 0,
                   borderColor: ORANGE, backgroundColor: ORANGE }] },
               options: options({ scales: {
                 y: { title: { display: true, text: "kWh" } },
                 share: { position: "right", min: 0, max: 100,
                          title: { display: true, text: "%" }, grid: { drawOnChartArea: false } } } }) };
    }
  };

  function draw() {
    if (typeof Chart === "undefined") { return; }
    var canvases = document.querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var source = document.getElementById(canvas.dataset.source);
      var build = builders[canvas.dataset.chart];
      if (!source || !build) { return; }
      var chart = new Chart(canvas, build(JSON.parse(source.textContent)));
      canvas.dataset.rendered = chart ? "true" : "false";
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else { draw(); }
})();
