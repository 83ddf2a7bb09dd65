// The overview's charts, drawn with the vendored Chart.js from the tables and lists the page already shows
// (so the numbers are there without JavaScript, and for screen readers). Redrawn after htmx refreshes the panel.
(function () {
  var charts = [];
  function brandColour() {
    return getComputedStyle(document.documentElement).getPropertyValue("--brand").trim() || "#1f6feb";
  }
  function draw() {
    if (!window.Chart) return;
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    var perDay = document.getElementById("scans-per-day");
    if (perDay) {
      var rows = Array.prototype.slice.call(document.querySelectorAll("#per-day-table tbody tr"));
      charts.push(new Chart(perDay, {
        type: "bar",
        data: {
          labels: rows.map(function (r) { return r.dataset.label; }),
          datasets: [
            { label: "Scans", data: rows.map(function (r) { return +r.dataset.scans; }), backgroundColor: brandColour() },
            { label: "Not recognised", data: rows.map(function (r) { return +r.dataset.notRecognised; }), backgroundColor: "#b3261e" }
          ]
        },
        options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      }));
    }
    var regions = document.getElementById("scans-by-region");
    if (regions) {
      var items = Array.prototype.slice.call(document.querySelectorAll("#regions li"));
      charts.push(new Chart(regions, {
        type: "bar",
        data: {
          labels: items.map(function (li) { return li.dataset.label; }),
          datasets: [{ label: "Scans", data: items.map(function (li) { return +li.dataset.value; }), backgroundColor: brandColour() }]
        },
        options: { indexAxis: "y", animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
      }));
    }
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.body.addEventListener("htmx:afterSwap", draw);
  if (document.readyState !== "loading") draw();
})();
