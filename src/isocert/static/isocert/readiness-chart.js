/* Readiness chart: bars per main clause, a line of the overall score across versions.
   The numbers come from a json_script block; the page shows them as a table as well. */
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("readiness-chart");
    var source = document.getElementById("readiness-chart-data");
    if (!canvas || !source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var bars = new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: "Readiness % (this version)", data: data.scores,
                     backgroundColor: "#0b5cab" }]
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
                 scales: { y: { min: 0, max: 100, title: { display: true, text: "%" } } } }
    });
    if (data.trend.length > 1) {
      var holder = document.createElement("div");
      holder.className = "chart-box";
      var trendCanvas = document.createElement("canvas");
      trendCanvas.setAttribute("role", "img");
      trendCanvas.setAttribute("aria-label", "Overall readiness by version");
      holder.appendChild(trendCanvas);
      canvas.parentNode.insertAdjacentElement("afterend", holder);
      new Chart(trendCanvas, {
        type: "line",
        data: { labels: data.trend_labels,
                datasets: [{ label: "Overall readiness % by version", data: data.trend,
                             borderColor: "#0f766e", backgroundColor: "#0f766e" }] },
        options: { animation: false, responsive: true, maintainAspectRatio: false,
                   scales: { y: { min: 0, max: 100 } } }
      });
    }
    canvas.dataset.rendered = bars ? "true" : "false";
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else { draw(); }
})();
