// Live progress while a worker generates or renders: polls the JSON progress URL until finished.
(function () {
  // Widths come from data attributes: the CSP allows no inline style attributes.
  document.querySelectorAll(".progress > div[data-percent]").forEach(function (bar) {
    bar.style.width = bar.dataset.percent + "%";
  });
  var box = document.getElementById("progress");
  if (!box || box.dataset.finished === "1") return;
  function poll() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" } }).then(function (r) { return r.json(); }).then(function (p) {
      box.querySelector(".progress > div").style.width = p.percent + "%";
      box.querySelector("[role=progressbar]").setAttribute("aria-valuenow", p.percent);
      document.getElementById("codes-done").textContent = p.codes_done.toLocaleString();
      // The state badge follows the worker too: "Generating 42%", never "Queued" while the bar moves.
      var badge = document.getElementById("batch-state");
      if (badge && p.state_label) {
        badge.className = "badge " + p.state;
        badge.textContent = p.state === "generating" ? p.state_label + " " + p.percent + "%" : p.state_label;
      }
      if (p.finished) { window.location.reload(); } else { setTimeout(poll, 1000); }
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
// Print jobs still rendering: refresh their table (only the table, so a half-filled form is kept).
(function () {
  function refresh() {
    var table = document.getElementById("print-job-table");
    if (!table || !table.dataset.active) return;
    fetch(window.location.href).then(function (r) { return r.text(); }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("print-job-table");
      if (fresh) { table.replaceWith(fresh); }
      setTimeout(refresh, 2000);
    }).catch(function () { setTimeout(refresh, 5000); });
  }
  setTimeout(refresh, 2000);
})();
