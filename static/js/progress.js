// Live progress while a worker generates or renders: polls the JSON progress URL until finished.
(function () {
  var box = document.getElementById("progress");
  if (!box || box.dataset.finished === "1") return;
  function poll() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" } }).then(function (r) { return r.json(); }).then(function (p) {
      box.querySelector(".progress > div").style.width = p.percent + "%";
      box.querySelector("[role=progressbar]").setAttribute("aria-valuenow", p.percent);
      document.getElementById("codes-done").textContent = p.codes_done.toLocaleString();
      if (p.finished) { window.location.reload(); } else { setTimeout(poll, 1000); }
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
